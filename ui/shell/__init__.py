"""What every page shares: page setup and the model picker, links, the caches, panels, pickers, charts."""
