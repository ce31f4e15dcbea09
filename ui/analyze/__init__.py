"""The Analyze page's tabs, one module each (pages/7_Analyze.py puts them in tabs)."""
