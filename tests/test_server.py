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
