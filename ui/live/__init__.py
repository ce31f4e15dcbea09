"""Decoding in the browser: the one live component (onnxruntime-web) and its Python side."""
