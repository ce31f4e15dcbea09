"""Maps of very many latent codes (10^5-10^6): placement of every code on a map fitted to a
subset, resumable, and PCA at once."""
