"""A minimal Streamlit page that mounts the live component for the text checkpoint named by
$TEXT_CHECKPOINT (tests/test_browser_text.py), in the mode given by the query string: `sliders`
(Traverse), `path` (Interpolate), `mix` (Arithmetic), `grid` (Generate) or `map` (the Map's
hover, over a Plotly chart of 2-D points)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from ui.live.decoding import live_grid, live_map_hover, live_mix, live_scrubber, live_traverse  # noqa: E402
from ui.live.graphs import decoder_graph  # noqa: E402
from vae import load_checkpoint  # noqa: E402

CODES = np.random.default_rng(0).normal(size=(6, 16))  # rows cut to the model's latent_dim

path = Path(os.environ["TEXT_CHECKPOINT"])
d = load_checkpoint(path)[0].latent_dim
graph = decoder_graph(path)
assert graph is not None and graph.is_text
mode = st.query_params.get("mode", "sliders")
codes = CODES[:, :d]
if mode == "sliders":
    st.write(live_traverse(graph, False, np.zeros(d), list(range(d)), [], [f"z{i}" for i in range(d)], -3 * np.ones(d), 3 * np.ones(d), 0, key="live"))  # fmt: skip
elif mode == "path":
    live_scrubber(graph, False, codes[:3], 0, 0, key="live")
elif mode == "mix":
    live_mix(graph, False, codes[0], [codes[1], codes[2]], ["a", "b"], [1.0, 0.0], (-2.0, 2.0), 0, key="live")
elif mode == "grid":
    live_grid(graph, False, codes, None, 2, 1.0, (0.0, 2.0), key="live")
elif mode == "map":
    points = codes[:, :2]
    st.plotly_chart(go.Figure(go.Scatter(x=points[:, 0], y=points[:, 1], mode="markers")), key="chart")
    live_map_hover(
        graph, False, points, codes, 0.5, 3, None, [(1.0, "near"), (2.0, "between"), (0.0, "far")], key="live"
    )
