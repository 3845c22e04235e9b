"""Every lesson notebook runs top to bottom without an error or a failed assert.

Each notebook is executed from a copy in memory (the committed file, with its outputs, is
never written), in the notebooks/ directory, by a kernel running this interpreter (the venv).
The other tests check that the committed notebooks are the outputs of a clean run of the
current sources in notebooks/src/, are small enough to read on a code host, and are listed
in notebooks/README.md in reading order.
"""
import copy
import hashlib
import importlib.util
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
# Seconds per notebook on a busy 2-core machine; the digit network trains for about a minute.
BUDGET = {"06_digit_network.ipynb": 420}
DEFAULT_BUDGET = 150
MAX_BYTES = 2_000_000


def _build_module():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS_DIR / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _preamble():
    """A first cell proving the kernel is this interpreter and runs in notebooks/."""
    return nbformat.v4.new_code_cell(
        "import os, sys\n"
        f"assert sys.prefix == {sys.prefix!r}, f'kernel runs {{sys.executable}}, not the venv'\n"
        f"assert os.getcwd() == {str(NOTEBOOKS_DIR)!r}, os.getcwd()\n")


def run(path, edit=None):
    """Execute a copy of the notebook at `path`; `edit(nb)` may change the copy first.
    Returns the executed copy and the seconds it took."""
    raw = path.read_bytes()
    nb = copy.deepcopy(nbformat.reads(raw.decode("utf-8"), as_version=4))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    if edit is not None:
        edit(nb)
    nb.cells.insert(0, _preamble())
    budget = BUDGET.get(path.name, DEFAULT_BUDGET)
    client = NotebookClient(nb, timeout=budget, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS_DIR)}})
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as e:
        pytest.fail(f"{path.name}: a cell failed\n{e}", pytrace=False)
    elapsed = time.perf_counter() - start
    assert elapsed < budget, f"{path.name} took {elapsed:.0f} s, budget {budget} s"
    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(raw).digest(), \
        f"{path.name} was modified by the test run"
    return nb, elapsed


def test_there_are_ten_lessons():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, 11)], \
        f"expected notebooks 01..10 in {NOTEBOOKS_DIR}, found {[p.name for p in NOTEBOOKS]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path):
    nb, _ = run(path)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors


def test_digit_network_falls_back_to_bundled_digits():
    """On a machine without Fashion-MNIST, lesson 6 says so and runs on scikit-learn's 8x8
    digits (64-16-16-10). Simulated by pointing the loader at a folder that does not exist."""
    path = NOTEBOOKS_DIR / "06_digit_network.ipynb"

    def without_fashion_mnist(nb):
        nb.cells.insert(0, nbformat.v4.new_code_cell(
            "import nn.data\n"
            "_load = nn.data.load_fashion_mnist\n"
            "nn.data.load_fashion_mnist = lambda: _load('/nonexistent/fashion-mnist')"))

    nb, _ = run(path, without_fashion_mnist)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "NOTE: Fashion-MNIST not found: missing /nonexistent/fashion-mnist/" in text, text
    assert "apt-get install dataset-fashion-mnist" in text
    assert re.search(r"^digits: \d+ training and \d+ test images of 8x8 pixels$", text, re.M), text
    assert "64-16-16-10: 1,482 parameters" in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_is_a_clean_run_of_its_source(path):
    build = _build_module()
    src = build.SRC / (path.stem + ".py")
    assert src.exists(), f"{path.name} has no source {src}"
    expected = build.build(src)
    committed = nbformat.read(path, as_version=4)
    assert [(c.cell_type, c.source) for c in committed.cells] == \
        [(c.cell_type, c.source) for c in expected.cells], \
        f"{path.name} is out of date: run `.venv/bin/python notebooks/build.py --execute`"
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), \
        f"{path.name} is not the output of one clean top-to-bottom run"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes"


def test_readme_lists_the_notebooks_in_reading_order():
    readme = (NOTEBOOKS_DIR / "README.md").read_text(encoding="utf-8")
    linked = re.findall(r"\]\((\d\d_[\w]+\.ipynb)\)", readme)
    assert linked == [p.name for p in NOTEBOOKS]
