"""Home: the model overview and adding a bundle."""
