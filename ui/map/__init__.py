"""The Map page: controls, figures, the point / group / location details, the chart fragment."""
