"""Posterior collapse: active dimensions, KL per dimension now and over training, in words."""

from __future__ import annotations

import math

import streamlit as st
import torch

from ui.analyze.view import AnalysisView
from ui.shell.charts import kl_bars, kl_history
from ui.shell.kl import measured_kl
from vae.analysis.metrics import mutual_information
from vae.latent.codes import INACTIVE_KL, order_by_kl
from vae.models.interface import is_text
from vae.models.levels import dim_label, levels_of


def show(view: AnalysisView) -> None:
    info, vae, data, codes = view.info, view.vae, view.data, view.codes
    history = info.history
    kl, _ = measured_kl(view.path, info, vae, codes if data is not None else None)
    if kl is None:
        st.info("This model records no KL per dimension, and its data is not here to measure it.")
        return
    active, inactive = order_by_kl(kl)
    units, information = st.columns(2)
    units.metric("Active dimensions (KL ≥ 0.01 nats)", f"{len(active)} of {vae.latent_dim}")
    if codes is not None and data is not None and len(codes.mu) >= 2:
        value = mutual_information(
            torch.as_tensor(codes.mu), 2 * torch.as_tensor(codes.sigma).log(), torch.Generator().manual_seed(0)
        )
        information.metric(
            "Mutual information I(x; z)",
            f"{value:.2f} nats",
            help="What a code tells about its input under the encoder (He et al. 2019's estimate, the "
            "aggregate posterior taken as the mixture of these posteriors); 0 when the posterior has collapsed.",
        )
        information.caption(
            f"Estimated on {len(codes.mu)} held-out {'sentences' if is_text(vae) else 'images'}: it cannot exceed "
            f"log {len(codes.mu)} = {math.log(len(codes.mu)):.2f} nats."
        )
    if len(active) == 0:
        reading = "Every dimension has collapsed: the encoder's output is ignored and the decoder draws an average " + (
            "sentence, a language model that ignores z. Add KL annealing (--warmup-epochs), word dropout "
            "(--word-dropout) or free bits (--free-bits)."
            if is_text(vae)
            else "image. Lower β, add free bits or KL warm-up, or use a weaker decoder."
        )
    elif inactive:
        reading = (
            f"{len(inactive)} dimension(s) ({', '.join(dim_label(levels_of(vae), d) for d in inactive)}) have collapsed to the prior: the "
            f"model found {len(active)} dimensions enough"
            + (f" at β = {info.training.beta:g}. " if info.training else ". ")
            + "That is common and harmless; a smaller latent size would lose nothing."
        )
    else:
        reading = "No dimension has collapsed: every latent dimension carries information about the " + (
            "sentence." if is_text(vae) else "image."
        )
    st.markdown(reading)
    st.plotly_chart(kl_bars(kl, INACTIVE_KL), key="analyze_kl_now")
    if any(h.get("kl_per_dim") for h in history):
        st.markdown("**Held-out KL per dimension over training**")
        st.plotly_chart(kl_history(history), key="analyze_kl_history")
        st.caption("A row that fades to 0 is a dimension collapsing; one that lights up late was woken by warm-up.")
    elif not info.is_native:
        st.caption("KL per dimension over training: a bundle carries no training history (a checkpoint does).")
