"""The onnxruntime-web files the app serves are exactly those of the pinned npm release."""

import hashlib
import re

from conftest import REPO

ORT = REPO / "ui" / "live" / "component" / "ort"
VERSION = "1.30.0"
# sha256 of the files in onnxruntime-web-1.30.0.tgz from the npm registry (package/dist/).
EXPECTED = {
    "ort.wasm.min.js": "faece07e84faa9001f5104bbe4e5c70861d06cb2376a0dea1fa0ad33a67adc81",
    "ort-wasm-simd-threaded.mjs": "e13f7f94fc51b4ca72b12faeb1ee95f4ace6dfbc8939bc718aabdc0a27c4299b",
    "ort-wasm-simd-threaded.wasm": "3398c10d07d229bd91b364548e130e0e51a8e5704b88c7c083ebbeb78842dee2",
}


def test_vendored_files_match_the_pinned_release():
    for name, digest in EXPECTED.items():
        assert hashlib.sha256((ORT / name).read_bytes()).hexdigest() == digest, name
    assert f"ONNX Runtime Web v{VERSION}" in (ORT / "ort.wasm.min.js").read_text()[:200]


def test_the_vendoring_script_and_its_checksums_agree_with_the_pin():
    script = (ORT / "vendor.sh").read_text()
    assert re.search(rf"^VERSION={re.escape(VERSION)}$", script, flags=re.M)
    listed = dict(reversed(line.split()) for line in (ORT / "SHA256SUMS").read_text().splitlines())
    assert listed == EXPECTED
    assert all(name in script for name in EXPECTED)
    assert "MIT License" in (ORT / "LICENSE").read_text()


def test_the_component_loads_the_vendored_runtime_and_nothing_from_elsewhere():
    page = (REPO / "ui" / "live" / "component" / "index.html").read_text()
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts == ["ort/ort.wasm.min.js", "text.js", "component.js"]
    ours = "".join((REPO / "ui" / "live" / "component" / name).read_text() for name in scripts[1:])
    assert not re.search(r"https?://|//cdn|unpkg|jsdelivr", page + ours)
