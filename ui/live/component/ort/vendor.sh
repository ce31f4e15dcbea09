#!/usr/bin/env bash
# Reproduces the vendored onnxruntime-web files in this folder from the npm package (needs npm
# and the npm registry; users need neither: the files are committed). Checks them against
# SHA256SUMS, which tests/test_vendored_runtime.py checks too.
set -euo pipefail
VERSION=1.30.0
FILES=(ort.wasm.min.js ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm)
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "onnxruntime-web@$VERSION" >/dev/null && tar xzf "onnxruntime-web-$VERSION.tgz")
for file in "${FILES[@]}"; do cp "$work/package/dist/$file" "$here/$file"; done
(cd "$here" && sha256sum --check SHA256SUMS)
