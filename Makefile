# Two commands on a fresh Debian-like machine: `make demo` and `make test`.
# Each creates .venv, installs the project into it, and installs Graphviz etc. when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.chainrule-installed

.PHONY: demo test bench notebook clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	scripts/system-deps demo
	$(BIN)/python demo.py

test: $(STAMP)
	scripts/system-deps test
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]' 'torch==2.13.0' || echo "bench: PyTorch not installed; its rows will be missing"
	$(BIN)/python -m benchmarks

notebook: $(STAMP)
	$(BIN)/python -m pip install --quiet jupyterlab
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
