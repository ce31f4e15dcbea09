"""The Compare page: what it measures (cached), its figures and its view."""
