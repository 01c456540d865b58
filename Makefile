# BrightKitchen: two commands. `make demo` and `make test` each set up .venv themselves.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp-$(shell cat pyproject.toml scripts/system-deps.sh 2>/dev/null | sha1sum | cut -c1-12)
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: demo test venv system-deps lint typecheck bench clean

$(STAMP): pyproject.toml scripts/system-deps.sh
	bash scripts/system-deps.sh
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip wheel setuptools
	# torch first, pinned: on x86_64 pip takes these from the machine's disk (see DEVELOPERS notes).
	$(BIN)/pip install -q torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.stamp-*
	touch $@

venv: $(STAMP)

demo: venv
	$(BIN)/brightkitchen demo $(DEMO_ARGS)

lint: venv
	$(BIN)/ruff check vision streams api tests benchmarks
	$(BIN)/ruff format --check vision streams api tests benchmarks

typecheck: venv
	$(BIN)/mypy vision streams api

test: venv lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv
	$(BIN)/python benchmarks/render.py

clean:
	rm -rf $(VENV) var out .pytest_cache .mypy_cache .ruff_cache
