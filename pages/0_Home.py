"""Home: pick a model and read its card (the default page of `streamlit run app.py`)."""

import streamlit as st
import torch

from ui import cache
from ui.charts import training_curves
from ui.panels import open_model_page
from vae.data.datasets import map_subset
from vae.errors import DatasetError
from vae.latent.codes import reconstruct
from vae.models.interface import is_conditional
from vae.pictures import grid_picture

path, vae, meta = open_model_page("Home", "🧭")

training, metrics = meta.get("training", {}), meta.get("metrics") or {}
st.title("VAE Latent Explorer")
st.caption(
    "See and play with what a variational autoencoder learned: the **Map** of its encodings, "
    "**Encode** your own image, **Traverse** one dimension at a time, **Interpolate** between two codes, "
    "do **Arithmetic** on codes, **Generate** from the prior, **Analyze** the space and **Train** new models. "
    "Pick a model in the sidebar; the choice "
    "holds on every page."
)

st.subheader(f"Model card: {path.name}")
card, curves = st.columns([2, 3])
with card:
    dataset = meta["dataset"]
    rows = {
        "dataset": f"{dataset['spec']} ({dataset['num_examples']} images, {len(meta['split']['held_out_indices'])} held out)",
        "image": "×".join(str(s) for s in vae.image_shape[1:]) + f", {vae.image_shape[0]} channel(s)",
        "architecture": vae.architecture,
        "latent size": vae.latent_dim,
        "likelihood": vae.likelihood,
        "conditional": "yes" if is_conditional(vae) else "no",
        "β": training.get("beta", 1.0),
        "KL warm-up / free bits": f"{training.get('warmup_epochs', 0):g} epochs / {training.get('free_bits', 0):g} nats",
        "epochs": meta.get("epochs_done"),
    }
    if metrics:
        rows.update(
            {
                "held-out ELBO": f"{metrics['elbo']:.2f} nats",
                f"held-out NLL (IWAE, k={metrics['iwae_k']})": f"{metrics['iwae_nll']:.2f} nats "
                f"({metrics['bits_per_dim']:.3f} bits/dim)",
                "active units": f"{metrics['active_units']} of {vae.latent_dim}",
            }
        )
    st.table({"": list(rows), "value": [str(v) for v in rows.values()]})
with curves:
    if meta.get("history"):
        st.plotly_chart(training_curves(meta["history"]), key="home_curves")

originals, samples = st.columns(2)
with originals:
    st.markdown("**Held-out originals (top) over reconstructions (bottom)**")
    try:
        data, _, held_idx = cache.data(path)
    except DatasetError as err:
        st.warning(f"The data of this model is not available here, so only samples are shown. {err}")
    else:
        index = map_subset(held_idx, 12)
        x = data.images[index]
        y = data.labels[index] if is_conditional(vae) else None
        reconstructions = reconstruct(vae, x, y)
        st.image(grid_picture(torch.cat([x, reconstructions]), ncols=12), width="stretch", output_format="PNG")
with samples:
    st.markdown("**Samples from the prior**" + (" (one row per class)" if is_conditional(vae) else ""))
    with torch.no_grad():
        if is_conditional(vae):
            per_class = 8
            y = torch.arange(vae.num_classes).repeat_interleave(per_class)
            drawn = vae.sample(len(y), y=y, generator=torch.Generator().manual_seed(0))
            st.image(grid_picture(drawn, ncols=per_class), width="stretch", output_format="PNG")
        else:
            drawn = vae.sample(24, generator=torch.Generator().manual_seed(0))
            st.image(grid_picture(drawn, ncols=12), width="stretch", output_format="PNG")
