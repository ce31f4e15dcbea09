"""Map: the held-out encodings projected to 2-D or 3-D; click a point or empty space to decode."""

from ui.shell.start import begin_page

begin_page("Map", "🗺️", "Latent map")


from ui.map.chart import chart_key, colouring, keep_point_across_the_fit, map_and_details, take_linked_point
from ui.map.controls import level_caption, map_controls
from ui.map.details import MapView, map_hover
from ui.map.figures import latent_scatter
from ui.map.fitting import fit_notice, map_to_show
from ui.map.large_sets import large_set_choice, show_large_map
from ui.shell import cache
from ui.shell.panels import data_or_stop, open_model_page
from vae.latent.projection import METHOD_LABELS
from vae.models.interface import is_text

path, vae, info = open_model_page()
data, _, held_idx = data_or_stop(path)
# A large image set encoded beside the model (a million points) has its own map and controls
# (image models only: a large set is of images).
if not is_text(vae) and (large_set := large_set_choice(path, cache.opened(path))) is not None:
    show_large_map(path, cache.opened(path), large_set)
else:  # the held-out sample: the Plotly map, 2-D or 3-D (no st.stop() above: it would keep the progress line)
    params, n_points, colour_by = map_controls(path, vae, data, held_idx)
    level_caption(params)
    codes = cache.codes(path, int(n_points))
    # UMAP / t-SNE not fitted yet: PCA now, the fit in the background, its map when it lands.
    latent_map, shown, fit_job = map_to_show(path, int(n_points), params)

    colour, colour_name = colouring(codes, colour_by)
    figure = latent_scatter(
        latent_map.embedding_,
        codes.index,
        codes.labels,
        data.label_names,
        colour,
        colour_name,
        METHOD_LABELS[shown.method],
        sentences=[data.texts[i] for i in codes.index] if data.modality == "text" else None,
    )
    view = MapView(path, vae, data, codes, latent_map, shown.method)
    pick_key = f"map_pick_{path.name}"
    take_linked_point(view, pick_key)
    keep_point_across_the_fit(view, params, shown, pick_key)

    if fit_job is not None:
        fit_notice(path, int(n_points), params, fit_job)
    if params.n_components == 2:
        map_hover(view)
    map_and_details(view, figure, chart_key(shown, int(n_points)), pick_key, params.n_components == 3)
