"""How the server is started: on loopback unless the user shares it on purpose."""

import subprocess
from pathlib import Path

import pytest
from browser_support import REPO, running_app


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port`, from /proc/net/tcp and tcp6."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        if not Path(table).is_file():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                if width == 8:
                    found.add(".".join(str(b) for b in reversed(raw)))
                else:
                    words = [raw[i : i + 4][::-1] for i in range(0, 16, 4)]
                    found.add(b"".join(words).hex())
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/net/tcp").is_file(), reason="reads Linux's socket table")
def test_the_app_listens_on_loopback_only_by_default():
    with running_app(address=None) as url:
        port = int(url.rsplit(":", 1)[1])
        addresses = _listening_addresses(port)
    assert addresses == {"127.0.0.1"}, f"listening on {addresses}: the config file should keep the app on loopback"


def _make_app_command(*args: str) -> str:
    dry_run = subprocess.run(["make", "-n", "app", *args], cwd=REPO, capture_output=True, text=True, check=True)
    return next(line for line in dry_run.stdout.splitlines() if "streamlit run app.py" in line)


def test_make_app_serves_loopback_unless_a_host_is_given():
    assert "--server.address 127.0.0.1" in _make_app_command()
    assert "--server.address 0.0.0.0" in _make_app_command("HOST=0.0.0.0")


def test_every_shipped_model_ships_what_its_first_page_would_compute():
    """A fresh clone's first open of a page encodes nothing and exports nothing: the held-out
    codes and the decoder graph of every shipped model are in git (`python -m vae.project`)."""
    from vae.models.levels import is_hierarchical
    from vae.models.onnx_graphs import graph_path
    from vae.opened import open_model
    from vae.opened.stored_codes import codes_file

    tracked = set(
        subprocess.run(["git", "ls-files", "models"], cwd=REPO, capture_output=True, text=True).stdout.split()
    )
    models = sorted((REPO / "models").glob("*.pt"))
    assert models
    for model in models:
        opened = open_model(model)
        n_points = min(2000, opened.info.split.held_out_count)
        parts = ["decoder", "decoder-absolute"] if is_hierarchical(opened.model) else ["decoder"]
        graphs = [graph_path(REPO / "models" / ".cache" / "onnx", model, part) for part in parts]
        needed = [codes_file(model, n_points), *graphs]
        for path in needed:
            assert str(path.relative_to(REPO)) in tracked, (
                f"{path.name} is not shipped: run python -m vae.project {model}"
            )
