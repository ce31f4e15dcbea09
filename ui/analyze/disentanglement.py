"""Disentanglement: MIG and the factor x dimension mutual information (or, without factors, activity and total correlation)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui.analyze.view import AnalysisView
from ui.shell.charts import mutual_information_grid
from ui.shell.panels import customdata, show_picture
from vae.analysis.disentanglement import gaussian_total_correlation, mig
from vae.analysis.metrics import ACTIVITY_THRESHOLD, active_units
from vae.latent.grids import traversal_grid
from vae.pictures import grid_picture


def show(view: AnalysisView) -> None:
    vae, data, codes = view.vae, view.data, view.codes
    if data.factors is not None and vae.latent_dim < 2:
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
        show_picture(
            st,
            grid_picture(traversal_grid(vae, codes.mu.mean(0), [dim], values), ncols=11, target=64),
            output_format="PNG",
        )
        st.caption(
            "MIG discretises each latent mean into 20 equal-width bins, measures its mutual information with each "
            "factor, and averages over factors the gap between the two most informative dimensions divided by the "
            f"factor's entropy (as disentanglement_lib does), here on the {len(codes.mu)} analysed held-out images. "
            "Nothing is fitted to the factors: the bins come from the latent means alone."
        )
    else:
        st.info("This dataset has no known factors (only the generated sprites do), so MIG cannot be computed.")
        st.metric(
            f"Active units (variance of μ > {ACTIVITY_THRESHOLD:g})",
            f"{len(active_units(codes.mu))} of {vae.latent_dim}",
        )
        st.metric(
            "Total correlation of μ (Gaussian estimate)",
            f"{gaussian_total_correlation(codes.mu):.3f} nats",
            help="KL between a Gaussian fitted to the latent means and the product of its marginals; 0 = uncorrelated",
        )
