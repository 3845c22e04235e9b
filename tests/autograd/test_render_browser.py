"""A drawing in a real JupyterLab, driven in Chromium: a notebook opened fresh (untrusted)
shows the graph as a picture, at the size the SVG has when trusted."""
import os

import nbformat
from nbclient import NotebookClient

from tests.autograd.test_render import svg_px
from tests.chromium import launch
from tests.jupyterlab_server import running_lab

CELL = """\
from autograd import Value, draw
a = Value(2.0, label="a"); b = Value(-3.0, label="b")
y = (a * b + a ** b).tanh(); y.label = "y"; y.backward()
draw(y)"""


def test_untrusted_notebook_shows_the_graph_as_a_picture_of_the_svg_size(tmp_path):
    from playwright.sync_api import sync_playwright
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": os.getcwd()}}).execute()
    out = nb.cells[0].outputs[0]
    assert {"image/png", "image/svg+xml", "text/plain"} <= set(out["data"])
    size = out["metadata"]["image/png"]
    svg_w, svg_h = svg_px(out["data"]["image/svg+xml"].encode())
    assert abs(size["width"] - svg_w) <= 2 and abs(size["height"] - svg_h) <= 2
    folder = tmp_path / "nb"
    folder.mkdir()
    nbformat.write(nb, folder / "graph.ipynb")  # not signed: JupyterLab opens it untrusted

    with running_lab(folder, tmp_path / "lab") as url, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{url}/lab/tree/graph.ipynb", timeout=60_000)
            img = page.wait_for_selector(".jp-OutputArea-output img", timeout=60_000)
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img, timeout=30_000)
            shown = img.evaluate("img => [img.src.slice(0, 22), img.naturalWidth, img.naturalHeight,"
                                 " img.getBoundingClientRect().width, img.getBoundingClientRect().height]")
            assert shown[0] == "data:image/png;base64,"
            assert shown[1:3] == [size["width"], size["height"]]
            assert abs(shown[3] - size["width"]) <= 1 and abs(shown[4] - size["height"]) <= 1
            text = page.inner_text(".jp-OutputArea-output")
            assert "autograd.render.Graph" not in text  # the picture, not the text fallback
            assert page.query_selector(".jp-OutputArea-output svg") is None  # untrusted: no SVG
        finally:
            browser.close()
