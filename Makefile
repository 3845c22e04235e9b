# Two commands on a fresh Debian-like machine: `make demo` and `make test`.
# Each creates .venv, installs the project into it, and installs Graphviz etc. when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench notebook clean

# One stamp per extra, so `make demo` does not pull in the test tools (Playwright, Jupyter).
$(VENV)/.installed-%: pyproject.toml
	scripts/system-deps venv
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$*]'
	touch $@

demo: $(VENV)/.installed-data
	scripts/system-deps demo
	$(BIN)/python demo.py

test: $(VENV)/.installed-test
	scripts/system-deps test
	$(BIN)/python -m pytest

# Peers are optional: each missing one only turns its rows into "missing".
bench: $(VENV)/.installed-bench
	$(BIN)/python -m pip install --quiet 'torch==2.13.0' || echo "bench: PyTorch not installed; its rows will be missing"
	$(BIN)/python -m benchmarks

# The lessons open trusted (their graphs and steppers are live before anything runs); as root
# JupyterLab refuses to start without --allow-root, so it is passed only then.
notebook: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet jupyterlab
	$(BIN)/jupyter trust notebooks/*.ipynb
	$(BIN)/jupyter lab --ip 127.0.0.1 $$(test "$$(id -u)" = 0 && echo --allow-root) notebooks/

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
