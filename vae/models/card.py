"""What a model card says about a model: the rows of the Home page's table."""

from __future__ import annotations

from vae.models.interface import LatentModel, is_conditional


def model_card(model: LatentModel, meta: dict, metrics: dict | None = None) -> dict[str, str]:
    """Rows for a checkpoint (data, architecture, training setup) or a bundle (what its
    manifest says), then the held-out metrics: recorded at training time, or `metrics`
    measured here (a bundle's, on its data)."""
    c, h, w = model.image_shape
    rows: dict[str, object] = {}
    dataset = meta.get("dataset")
    held = meta.get("split", {}).get("held_out_indices")
    if dataset is None:
        rows["data"] = "none in the bundle and no dataset named: data pages are hidden"
    elif dataset.get("num_examples") is None:
        rows["data"] = f"{dataset['spec']} (its standard held-out fifth)"
    else:
        rows["data"] = f"{dataset['spec']} ({dataset['num_examples']} images, {len(held)} held out)"
    rows["image"] = f"{h}×{w}, {c} channel(s)"
    rows["architecture"] = model.architecture
    rows["latent size"] = model.latent_dim
    rows["likelihood"] = model.likelihood
    rows["conditional"] = f"yes ({model.num_classes} classes)" if is_conditional(model) else "no"
    if meta.get("kind") == "bundle":
        manifest = meta["bundle"]
        low, high = manifest["pixel_range"]
        rows["pixel range of the networks"] = f"[{low:g}, {high:g}] (shown in [0, 1])"
        if manifest.get("sigma"):
            rows["likelihood"] = f"gaussian, σ = {manifest['sigma']:g}"
        if manifest.get("description"):
            rows["source"] = manifest["description"]
        exported = manifest.get("exported_with") or {}
        rows["exported with"] = ", ".join(f"{k} {v}" for k, v in exported.items()) or "unknown"
        rows["training history"] = "not in a bundle (training setup, curves and resuming need a checkpoint)"
    else:
        training = meta.get("training", {})
        rows["β"] = training.get("beta", 1.0)
        rows["KL warm-up / free bits"] = (
            f"{training.get('warmup_epochs', 0):g} epochs / {training.get('free_bits', 0):g} nats"
        )
        rows["epochs"] = meta.get("epochs_done")
    metrics = meta.get("metrics") or metrics
    if metrics:
        where = "" if meta.get("metrics") else f" (measured here on {metrics['n']} images)"
        rows[f"held-out ELBO{where}"] = f"{metrics['elbo']:.2f} nats"
        rows[f"held-out NLL (IWAE, k={metrics['iwae_k']})"] = (
            f"{metrics['iwae_nll']:.2f} nats ({metrics['bits_per_dim']:.3f} bits/dim)"
        )
        rows["active units"] = f"{metrics['active_units']} of {model.latent_dim}"
    return {key: str(value) for key, value in rows.items()}
