"""Models: the interface every page and analysis uses (`interface`), the native VAE
(`native`) and its checkpoints (`checkpoints`)."""
