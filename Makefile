# `make test` and `make app` set up .venv from requirements*.txt on first use.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup test app lint bench

$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/mnist_vs_reference.py
