"""What a model card says about a model: the rows of the Home page's table."""

from __future__ import annotations

from vae.models.interface import LatentModel, is_conditional, is_text
from vae.opened.info import HeldOutMetrics, ModelInfo


def model_card(model: LatentModel, info: ModelInfo, measured: HeldOutMetrics | None = None) -> dict[str, str]:
    """Rows for a checkpoint (data, architecture, training setup) or a bundle (what its
    manifest says), then the held-out metrics: recorded at training time, or `measured` here
    (a bundle's, on its data)."""
    rows: dict[str, object] = {}
    data, held = info.data, info.split.held_out_count
    if data is None:
        rows["data"] = "none in the bundle and no dataset named: data pages are hidden"
    elif data.num_examples is None:
        rows["data"] = f"{data.spec} (its standard held-out fifth)"
    else:
        rows["data"] = f"{data.spec} ({data.num_examples} {'sentences' if info.is_text else 'images'}, {held} held out)"
    if is_text(model):
        rows["sentences"] = (
            f"up to {model.sequence_length - 1} words, vocabulary of {len(model.vocabulary)} "
            "(4 special tokens included)"
        )
    else:
        c, h, w = model.image_shape
        rows["image"] = f"{h}×{w}, {c} channel(s)"
    rows["architecture"] = model.architecture
    rows["latent size"] = model.latent_dim
    rows["likelihood"] = model.likelihood
    rows["conditional"] = f"yes ({model.num_classes} classes)" if is_conditional(model) else "no"
    if not info.is_native:
        source = info.provenance
        low, high = source.pixel_range
        rows["pixel range of the networks"] = f"[{low:g}, {high:g}] (shown in [0, 1])"
        if source.sigma:
            rows["likelihood"] = f"gaussian, σ = {source.sigma:g}"
        if source.description:
            rows["source"] = source.description
        rows["exported with"] = ", ".join(f"{k} {v}" for k, v in source.exported_with.items()) or "unknown"
        rows["training history"] = "not in a bundle (training setup, curves and resuming need a checkpoint)"
    else:
        training = info.training
        rows["β"] = training.beta
        rows["KL warm-up / free bits"] = f"{training.warmup_epochs:g} epochs / {training.free_bits:g} nats"
        if info.is_text:
            rows["word dropout"] = f"{training.word_dropout:g}"
        rows["epochs"] = info.epochs_done
    metrics = info.metrics or measured
    if metrics:
        where = "" if info.metrics else f" (measured here on {metrics.n} images)"
        rows[f"held-out ELBO{where}"] = f"{metrics.elbo:.2f} nats"
        if metrics.perplexity is not None:
            rows[f"held-out NLL (IWAE, k={metrics.iwae_k})"] = (
                f"{metrics.iwae_nll:.2f} nats per sentence (perplexity {metrics.perplexity:.1f} per word)"
            )
        else:
            rows[f"held-out NLL (IWAE, k={metrics.iwae_k})"] = (
                f"{metrics.iwae_nll:.2f} nats ({metrics.bits_per_dim:.3f} bits/dim)"
            )
        rows["active units"] = f"{metrics.active_units} of {model.latent_dim}"
    return {key: str(value) for key, value in rows.items()}
