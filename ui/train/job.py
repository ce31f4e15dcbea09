"""The Train page's job panel: the current or last background job, polled once a second."""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from ui.shell.charts import training_curves
from ui.shell.page import COMPARE_KEY, MODEL_KEY, make_current
from vae.training.jobs import JobState, cancel_job, read_job
from vae.training.sweep_plan import SweepProgress, read_sweep


@st.fragment(run_every=1.0)
def job_panel(folder: Path) -> None:
    """The current or last job; polls once a second while the page is open."""
    job = read_job(folder)
    if job is None:
        st.info("No training job yet: fill in the form below.")
        return
    done = len(job.history)
    sweep = read_sweep(folder, job)
    if sweep is not None:
        sweep_panel(sweep, job)
    if job.running:
        st.progress(done / max(job.epochs, 1), text=f"Training **{job.name}**: epoch {done} of {job.epochs}")
        if st.button("Cancel the job", key="train_cancel"):
            cancel_job(folder)
            st.rerun()
    elif job.state == "done":
        st.success(f"**{job.name}** is trained ({done} epoch{'s' * (done != 1)}) and in the model picker.")
    elif job.state == "cancelled":
        st.warning(f"The job for **{job.name}** was cancelled after {done} epoch(s); nothing was saved.")
    else:
        st.error(f"The job for **{job.name}** failed: {job.message}")
    if job.history:
        curves, recon = st.columns([3, 2])
        curves.plotly_chart(training_curves(job.history), key="train_curves")
        last = job.history[-1]
        curves.caption(
            f"Epoch {last['epoch']}: held-out ELBO {last['heldout_elbo']:.2f} nats "
            f"(reconstruction {last['heldout_recon_ll']:.2f}, KL {last['heldout_kl']:.2f}), {last['seconds']:.1f} s"
            + (
                f", {last['images_per_second']:,.0f} {'sentences' if job.recon_text else 'images'}/s."
                if "images_per_second" in last
                else "."
            )
        )
        if job.recon_text:
            recon.caption("Held-out sentences, each followed by its greedy reconstruction from μ (→)")
            recon.code(job.recon_text, language=None)
        elif job.recon_png:
            recon.image(job.recon_png, caption="held-out images (top), reconstructions (bottom)", output_format="PNG")
    elif job.running:
        st.caption(f"Preparing the data and the first epoch… ({time.time() - job.started:.0f} s)")


def sweep_panel(sweep: SweepProgress, job: JobState) -> None:
    """Where a sweep stands: which member trains, progress over all of them, and once the last
    one is done a way to compare them."""
    total, at = len(sweep.members), sweep.current
    value = f"{sweep.label} = {sweep.values[at]:g}"
    if job.running:
        fraction = (at + len(job.history) / max(job.epochs, 1)) / total
        st.progress(fraction, text=f"Sweep **{sweep.name}**: model {at + 1} of {total} ({value})")
    elif job.state == "done" and at == total - 1:
        st.success(f"Sweep **{sweep.name}** is done: {total} models, one per {sweep.label}.")
        if st.button("Compare them", key="train_compare_sweep", type="primary"):
            st.session_state[COMPARE_KEY] = list(sweep.members)
            if st.session_state.get(MODEL_KEY) not in sweep.members:  # Compare offers the current model's data
                make_current(sweep.members[0])
            st.switch_page("pages/8_Compare.py")
    elif at:
        kept = ", ".join(sweep.members[:at])
        st.warning(f"Sweep **{sweep.name}** stopped at model {at + 1} of {total} ({value}); {kept} finished and kept.")
