"""A real JupyterLab, driven by real Chromium: a cell training with a live view shows one
output whose frame counter rises while the cell runs, and the saved notebook keeps the last
frame as a PNG."""
import json
import os
import re
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tests.chromium import launch
from tests.jupyterlab_server import running_lab

CELL = """\
from nn import MLP, fit
from nn.data import make_moons

X, y = make_moons(200, noise=0.1, seed=0)
model = MLP(2, [16, 16, 1], seed=0)
history = fit(model, X, y, epochs=150, batch_size=16, lr=0.02, optimizer="adam",
              live=True, progress=False, log=None)
"""


@pytest.fixture
def lab(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "live.ipynb")
    with running_lab(tmp_path, tmp_path / "lab") as url:
        yield url, tmp_path


def wait_for_idle_kernel(url, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url + "/api/sessions", timeout=5) as r:
            sessions = json.load(r)
        if sessions and sessions[0]["kernel"]["execution_state"] == "idle":
            return
        time.sleep(0.5)
    raise AssertionError(f"no idle kernel within {seconds} s: {sessions}")


def test_live_view_updates_in_place_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright
    url, root = lab
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{url}/lab/tree/live.ipynb", timeout=90_000)
            page.wait_for_selector(".jp-Notebook .jp-CodeCell .cm-content", timeout=90_000)
            wait_for_idle_kernel(url)                 # the cell must not run before it
            page.click(".jp-Notebook .jp-CodeCell .cm-content")
            page.keyboard.press("Shift+Enter")
            seen = []
            deadline = time.monotonic() + 150
            while time.monotonic() < deadline:
                texts = page.eval_on_selector_all(
                    ".jp-Notebook .jp-CodeCell .jp-OutputArea-output",
                    "els => els.map(e => e.textContent)")
                counters = [int(m.group(1)) for t in texts for m in [re.search(r"frame (\d+)", t)] if m]
                if counters and (not seen or counters[-1] != seen[-1]):
                    seen.append(counters[-1])
                    assert len(texts) == 1, f"expected one output updated in place, got {len(texts)}"
                if any("done" in t for t in texts):
                    break
                page.wait_for_timeout(100)
            assert seen and seen == sorted(seen) and len(set(seen)) >= 3, seen
            assert seen[-1] >= 5, seen
            shot = Path(os.environ.get("LIVE_SCREENSHOT", root / "jupyterlab.png"))
            page.screenshot(path=str(shot))
            img = page.eval_on_selector(".jp-OutputArea-output img", "i => i.naturalWidth")
            assert img > 100                                  # the figure is a real picture
            page.keyboard.press("Control+s")
            for _ in range(100):
                saved = nbformat.read(root / "live.ipynb", as_version=4)
                if saved.cells[0].outputs:
                    break
                page.wait_for_timeout(100)
            # Reopened elsewhere, untrusted (written here, so not signed by this server):
            # the last frame still shows, as a picture, with its counter.
            # A changed notebook no longer matches the signature the server keeps: untrusted.
            saved.metadata["reopened"] = True
            nbformat.write(saved, root / "reopened.ipynb")
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/lab/workspaces/reopen/tree/reopened.ipynb?reset", timeout=90_000)
            panel = ".jp-NotebookPanel:not(.lm-mod-hidden)"
            page.wait_for_selector(".lm-TabBar-tab.lm-mod-current >> text=reopened.ipynb", timeout=90_000)
            page.wait_for_selector(f"{panel} .jp-OutputArea-output img", timeout=90_000)
            width = 0
            for _ in range(100):
                width = page.eval_on_selector(f"{panel} .jp-OutputArea-output img",
                                              "i => i.complete ? i.naturalWidth : 0")
                if width:
                    break
                page.wait_for_timeout(100)
            assert width > 100, "the reopened notebook does not show the last frame"
            text = page.text_content(f"{panel} .jp-OutputArea-output")
            assert f"frame {seen[-1] + 1}" in text or f"frame {seen[-1]}" in text, text
            page.screenshot(path=str(shot.with_name("reopened-" + shot.name)))
        finally:
            browser.close()
    (out,) = saved.cells[0].outputs
    assert out["output_type"] == "display_data"               # the handle's single output
    assert out["data"]["image/png"] and out["data"]["text/plain"].endswith("done")
