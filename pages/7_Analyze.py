"""Analyze: clusters vs labels, anomalies, imputation, disentanglement, posterior collapse,
linear-probe quality, and exports of the latent means."""

import numpy as np
import streamlit as st
import torch

from ui import cache
from ui.panels import customdata, maps_projection, open_model_page, read_upload, ready_map
from ui.plots import (
    confusion_heatmap,
    histogram_with_marker,
    kl_bars,
    kl_history,
    latent_scatter,
    mutual_information_grid,
)
from vae.anomaly import CORRUPTIONS, SCORE_NAMES, corrupt
from vae.clusters import CLUSTER_METHODS, agreement
from vae.data import label_name
from vae.disentanglement import gaussian_total_correlation, mig
from vae.errors import DatasetError
from vae.export import latents_csv, latents_npz, projector_files, zip_bytes
from vae.imputation import MASKS, hidden_error, impute, make_mask, mean_image_fill
from vae.latent import (
    INACTIVE_KL,
    decode_codes,
    known_kl_per_dimension,
    order_by_kl,
    reconstruct,
    traverse,
)
from vae.metrics import ACTIVITY_THRESHOLD, active_units
from vae.pictures import grid_picture, picture
from vae.projection import METHOD_LABELS

path, vae, meta = open_model_page("Analyze", "🔬")
config = vae.config

st.title("Analyze the latent space")
try:
    data, train_idx, held_idx = cache.data(path)
except DatasetError as err:
    st.warning(f"The model's data is not available, so only the training history is analysed. {err}")
    data = None
if data is not None and len(held_idx) < 3:
    st.warning("This model holds out fewer than 3 images: too few to analyse.")
    data = None

if data is not None:
    n_points = (
        st.sidebar.slider("Held-out images analysed", 3, len(held_idx), min(2000, len(held_idx)), key="analyze_n")
        if len(held_idx) > 3
        else len(held_idx)
    )
    codes = cache.codes(path, n_points)
    names = data.label_names
    has_labels = codes.labels is not None and len(np.unique(codes.labels)) >= 2

tabs = st.tabs(["Clusters", "Anomalies", "Imputation", "Disentanglement", "Posterior collapse", "Probe", "Export"])


with tabs[4]:  # Posterior collapse: from the checkpoint alone, so first
    history = meta.get("history") or []
    kl, _ = known_kl_per_dimension(meta, config.latent_dim, *((codes.mu, codes.sigma) if data is not None else ()))
    if kl is None:
        st.info("This checkpoint records no KL per dimension, and its data is not here to measure it.")
        st.stop()
    active, inactive = order_by_kl(kl)
    st.metric("Active dimensions (KL ≥ 0.01 nats)", f"{len(active)} of {config.latent_dim}")
    if len(active) == 0:
        reading = (
            "Every dimension has collapsed: the encoder's output is ignored and the decoder draws an average "
            "image. Lower β, add free bits or KL warm-up, or use a weaker decoder."
        )
    elif inactive:
        reading = (
            f"{len(inactive)} dimension(s) ({', '.join(f'z{d}' for d in inactive)}) have collapsed to the prior: the "
            f"model found {len(active)} dimensions enough at β = {meta.get('training', {}).get('beta', 1.0):g}. "
            "That is common and harmless; a smaller latent size would lose nothing."
        )
    else:
        reading = "No dimension has collapsed: every latent dimension carries information about the image."
    st.markdown(reading)
    st.plotly_chart(kl_bars(kl, INACTIVE_KL), key="analyze_kl_now")
    if any(h.get("kl_per_dim") for h in history):
        st.markdown("**Held-out KL per dimension over training**")
        st.plotly_chart(kl_history(history), key="analyze_kl_history")
        st.caption("A row that fades to 0 is a dimension collapsing; one that lights up late was woken by warm-up.")

if data is None:
    st.stop()

with tabs[0]:
    if not has_labels:
        st.info("Clusters are compared with labels, and this model's data has no labels.")
    else:
        left, right = st.columns([1, 2])
        classes = len(np.unique(codes.labels))
        method = left.radio(
            "Method", list(CLUSTER_METHODS), format_func=CLUSTER_METHODS.get, key="analyze_cluster_method"
        )
        k = left.number_input("Clusters k", 2, min(50, len(codes.mu)), min(classes, 50, len(codes.mu)), key="analyze_k")
        found = cache.clusters(path, n_points, int(k), method)
        result = agreement(codes.labels, found)
        left.metric("NMI", f"{result.nmi:.3f}", help="Normalised mutual information: 1 = clusters equal labels")
        left.metric("ARI", f"{result.ari:.3f}", help="Adjusted Rand index: 1 = same partition, 0 = chance")
        with right:
            st.plotly_chart(
                confusion_heatmap(
                    result.confusion,
                    [label_name(names, v) for v in result.label_values],
                    [str(c) for c in result.cluster_values],
                ),
                key="analyze_confusion",
            )
        latent_map, params, _ = ready_map(path, n_points, maps_projection(2))
        figure = latent_scatter(
            latent_map.embedding_,
            codes.index,
            found,
            [f"cluster {c}" for c in range(int(k))],
            axis_title=METHOD_LABELS[params.method],
            click_grid=False,
        )
        figure.update_layout(height=460)
        st.plotly_chart(figure, key="analyze_cluster_map")
        st.caption(f"The clusters on the {METHOD_LABELS[params.method]} map (colour = cluster, not label).")

with tabs[1]:
    settings, chart = st.columns([1, 2])
    corruption = settings.radio(
        "Planted corruption", list(CORRUPTIONS), format_func=CORRUPTIONS.get, key="analyze_corruption"
    )
    severity = settings.slider("Severity", 0.05, 0.9, 0.4, 0.05, key="analyze_severity")
    score_name = settings.radio("Score", list(SCORE_NAMES), format_func=SCORE_NAMES.get, key="analyze_score")
    found = cache.anomalies(path, n_points, corruption, float(severity))
    clean = found["clean"][score_name]
    low, high = float(np.min(clean)), float(np.max(clean))
    threshold = settings.slider(
        "Flag above",
        low,
        max(high, low + 1e-6),
        float(np.percentile(clean, 95)),
        key=f"analyze_threshold_{score_name}",
    )
    flagged = float(np.mean(clean > threshold))
    caught = float(np.mean(found["corrupted"][score_name] > threshold))
    settings.metric("Held-out images flagged", f"{100 * flagged:.1f} %")
    settings.metric("Corrupted images flagged", f"{100 * caught:.1f} %")
    with chart:
        st.plotly_chart(
            histogram_with_marker(clean, {"threshold": threshold}, f"{SCORE_NAMES[score_name]}, held-out images"),
            key="analyze_anomaly_hist",
        )
        st.markdown(
            "ROC-AUC, corrupted vs clean held-out images (1 = perfect, 0.5 = chance): "
            + ", ".join(f"{SCORE_NAMES[name]} **{auc:.3f}**" for name, auc in found["auc"].items())
        )
        example = data.images[codes.index[:1]]
        st.image(
            grid_picture(torch.cat([example, corrupt(example, corruption, float(severity), seed=1)]), 2, target=64),
            caption="a held-out image and its corrupted copy",
            output_format="PNG",
        )
    order = np.argsort(-clean)[:8]
    x = data.images[codes.index[order]]
    y = data.labels[codes.index[order]] if config.conditional else None
    reconstructions = reconstruct(vae, x, y)
    st.markdown("**The 8 most unusual held-out images** (top) and their reconstructions (bottom)")
    st.image(grid_picture(torch.cat([x, reconstructions]), ncols=8, target=72), output_format="PNG")
    st.caption(
        "Held-out image numbers: "
        + ", ".join(f"{int(codes.index[r])} ({clean[r]:.1f})" for r in order)
        + f". Scores: {SCORE_NAMES[score_name]}."
    )

with tabs[2]:
    c, h, w = config.image_shape
    source_column, mask_column = st.columns(2)
    with source_column:
        source = st.radio("Image", ["held-out", "upload"], horizontal=True, key="analyze_impute_source")
        original = None
        if source == "held-out":
            row = st.number_input("Held-out point", 0, len(codes.mu) - 1, 0, key="analyze_impute_row")
            original = data.images[codes.index[row]][None]
            label = data.labels[codes.index[row : row + 1]] if config.conditional else None
        else:
            upload = st.file_uploader(
                "Image to damage and repair", ["png", "jpg", "jpeg", "gif", "bmp", "webp"], key="analyze_impute_upload"
            )
            label = torch.zeros(1, dtype=torch.long) if config.conditional else None
            if upload is not None:
                original = read_upload(upload, meta)
    with mask_column:
        kind = st.selectbox("Hide", list(MASKS), format_func=MASKS.get, key="analyze_mask")
        fraction, rectangle = 0.5, (0.25, 0.25, 0.75, 0.75)
        if kind == "random":
            fraction = st.slider("Share of pixels hidden", 0.05, 0.95, 0.5, 0.05, key="analyze_mask_fraction")
        if kind == "rectangle":
            rows = st.slider(
                "Rows hidden (fraction of the height)", 0.0, 1.0, (0.25, 0.75), 0.05, key="analyze_rect_rows"
            )
            columns = st.slider("Columns hidden", 0.0, 1.0, (0.25, 0.75), 0.05, key="analyze_rect_cols")
            rectangle = (rows[0], columns[0], rows[1], columns[1])
        iterations = st.slider("Encode → decode iterations", 1, 200, 50, key="analyze_iterations")
    if original is None:
        st.info("Upload an image to damage and repair it.")
    else:
        mask = make_mask(h, w, kind, fraction, rectangle, seed=0)
        filled = impute(vae, original, mask, label, iterations=int(iterations))
        mean_image = cache.mean_image(path)
        baseline = mean_image_fill(original, mask, mean_image)
        shown = mask.expand_as(original) * original + (1 - mask.expand_as(original)) * 0.5
        columns = st.columns(4)
        for column, image, caption in zip(
            columns,
            [shown, filled, baseline, original],
            ["masked (grey = hidden)", "imputed", "mean-image fill", "original"],
        ):
            column.image(picture(image[0], 128), caption=caption, width=128, output_format="PNG")
        st.markdown(
            f"Squared error on the hidden pixels: model **{hidden_error(filled, original, mask):.4f}**, "
            f"mean image **{hidden_error(baseline, original, mask):.4f}** "
            f"({100 * (1 - mask.mean().item()):.0f}% of the pixels hidden)."
        )
        st.caption(
            "Pseudo-Gibbs imputation (Rezende et al. 2014): the hidden pixels start grey; each iteration encodes "
            "the current guess, decodes its posterior mean, and overwrites only the hidden pixels."
        )

with tabs[3]:
    if data.factors is not None and config.latent_dim < 2:
        st.info("MIG compares the two most informative dimensions per factor: this model has one latent dimension.")
    elif data.factors is not None:
        factors = data.factors[codes.index].numpy()
        result = mig(codes.mu, factors)
        st.metric(
            "MIG",
            f"{result.mig:.3f}",
            help="Mutual information gap (Chen et al. 2018): 1 = each factor in one dimension",
        )
        st.dataframe(
            {
                "factor": data.factor_names,
                "most informative dim": [f"z{d}" for d in result.top_dims],
                "MI (nats)": result.mutual_info.max(1).round(3),
                "normalised gap": result.gaps.round(3),
            },
            hide_index=True,
        )
        event = st.plotly_chart(
            mutual_information_grid(result.mutual_info, data.factor_names),
            key="analyze_mi",
            on_select="rerun",
            selection_mode="points",
        )
        picked = [int(customdata(point)[0]) for point in (event.selection.points if event else [])]
        dim = picked[0] if picked else int(result.top_dims[0])
        st.markdown(f"**Traversal of z{dim}** (click a cell above to pick another dimension), from the mean code")
        values = np.linspace(codes.mu[:, dim].min(), codes.mu[:, dim].max(), 11)
        path_z = traverse(codes.mu.mean(0), dim, values)
        y = torch.zeros(len(values), dtype=torch.long) if config.conditional else None
        st.image(grid_picture(decode_codes(vae, path_z, y), ncols=11, target=64), output_format="PNG")
        st.caption(
            "MIG discretises each latent mean into 20 equal-width bins, measures its mutual information with each "
            "factor, and averages over factors the gap between the two most informative dimensions divided by the "
            "factor's entropy (as disentanglement_lib does)."
        )
    else:
        st.info("This dataset has no known factors (only the generated sprites do), so MIG cannot be computed.")
        st.metric(
            f"Active units (variance of μ > {ACTIVITY_THRESHOLD:g})",
            f"{len(active_units(codes.mu))} of {config.latent_dim}",
        )
        st.metric(
            "Total correlation of μ (Gaussian estimate)",
            f"{gaussian_total_correlation(codes.mu):.3f} nats",
            help="KL between a Gaussian fitted to the latent means and the product of its marginals; 0 = uncorrelated",
        )

with tabs[5]:
    if not has_labels:
        st.info("A linear probe predicts labels, and this model's data has no labels.")
    else:
        accuracy = cache.probes(path, n_points)
        left, right = st.columns(2)
        left.metric("Probe on μ (held-out accuracy)", f"{100 * accuracy['latent']:.1f} %")
        right.metric("Same probe on raw pixels", f"{100 * accuracy['pixels']:.1f} %")
        st.caption(
            f"Logistic regression on standardised features, trained on {accuracy['n_train']} training images and "
            f"scored on {accuracy['n_test']} held-out images. A {config.latent_dim}-d code that keeps most of the "
            "pixels' accuracy has kept the label information in linear form."
        )

with tabs[6]:
    st.markdown(f"The {len(codes.mu)} analysed held-out images: their latent means μ, σ and labels.")
    columns = st.columns(3)
    columns[0].download_button(
        "Latents (CSV)",
        latents_csv(codes.index, codes.mu, codes.sigma, codes.labels),
        file_name=f"{path.stem}-latents.csv",
        mime="text/csv",
        key="analyze_csv",
    )
    columns[1].download_button(
        "Latents (NumPy .npz)",
        latents_npz(codes.index, codes.mu, codes.sigma, codes.labels),
        file_name=f"{path.stem}-latents.npz",
        mime="application/octet-stream",
        key="analyze_npz",
    )
    columns[2].download_button(
        "Embedding Projector files (zip)",
        zip_bytes(projector_files(codes.mu, codes.labels, names, data.images[codes.index], codes.index)),
        file_name=f"{path.stem}-projector.zip",
        mime="application/zip",
        key="analyze_projector",
    )
    st.caption(
        "The zip holds vectors.tsv, metadata.tsv, sprite.png and projector_config.json: on "
        "projector.tensorflow.org choose Load and give it the two TSV files; with TensorBoard's projector "
        "plugin the config also shows the images."
    )
