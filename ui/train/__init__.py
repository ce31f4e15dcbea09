"""The Train page: what a submitted form starts, and the running job or sweep."""
