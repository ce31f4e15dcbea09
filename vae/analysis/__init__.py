"""What a trained model is measured by: ELBO / IWAE and latent activity (`metrics`),
clusters vs labels, anomalies, imputation, disentanglement, and exports of the codes."""
