"""Large maps: a model's encodings of a large image set (up to a million images), stored
beside the model, mapped and shown by the Map. `image_set_from_spec` names the images,
`encode_image_set` encodes them (resumably, on one or many processes), `open_stored` and
`stored_maps` read them back; `placement` maps them (PCA at once, UMAP / t-SNE fitted on a
subset with every other code placed, resumably); `buffers`, `selection`, `map_index` and
`served` are what the browser's map reads and asks."""

from vae.large_maps.image_sets import DatasetSubset, ImageSet, SpriteSet, default_sprite_seed, image_set_from_spec
from vae.large_maps.set_encoding import encode_image_set
from vae.large_maps.store import StoredEncodings, StoreMeta, open_stored, store_folder, stored_maps

__all__ = [
    "DatasetSubset",
    "ImageSet",
    "SpriteSet",
    "StoreMeta",
    "StoredEncodings",
    "default_sprite_seed",
    "encode_image_set",
    "image_set_from_spec",
    "open_stored",
    "store_folder",
    "stored_maps",
]
