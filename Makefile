# `make app` and `make test` set everything up on first use: .venv from requirements*.txt,
# and for the browser tests Debian's chromium (installed with apt-get when run as root).
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# Loopback by default; HOST=0.0.0.0 shares the app on the network (then set VAE_READ_ONLY=1).
HOST ?= 127.0.0.1

.PHONY: setup browser test test-fast app lint bench

$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: no chromium (apt-get install chromium): the browser tests will be skipped"; fi; }

test: setup browser
	$(PY) -m pytest

# Everything but the browser tests and those marked slow (CLIs, README commands, background jobs,
# bench runs): a couple of minutes on two cores. `make test` runs them all.
test-fast: setup
	$(PY) -m pytest -m "not browser and not slow"

app: setup
	@case "$(HOST)" in 127.*|localhost|::1) ;; *) [ -n "$$VAE_READ_ONLY" ] || echo "note: serving on $(HOST) with uploads and training on; set VAE_READ_ONLY=1 to turn them off";; esac
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.address $(HOST)

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: setup browser
	$(PY) -m bench
	$(PY) bench/mnist_vs_reference.py
	$(PY) bench/map_speed.py
	$(PY) bench/live_decode_speed.py
	$(PY) bench/load.py
