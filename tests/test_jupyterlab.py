"""The lessons in the real client: JupyterLab 4 in Chromium, as a student opens them.

Opened fresh, a notebook is untrusted (JupyterLab runs no script and sanitizes HTML), so every
graph must still be a picture and the stepper its static picture with its steps as text. Run,
the stepper becomes interactive and steps by keyboard and buttons without taking
JupyterLab's own keys. Screenshots go to out/screenshots/. `LESSONS_DIR` points the test at
another folder of notebooks (freshly executed copies, say) instead of notebooks/.
"""
import contextlib
import io
import json
import os
import shutil
from pathlib import Path

from tests.autograd.test_stepper_browser import smallest_node_text_px
from tests.chromium import launch
from tests.test_notebooks import _build_module
from tests.jupyterlab_server import running_lab, stop_kernels

ROOT = Path(__file__).resolve().parents[1]
LESSONS = Path(os.environ.get("LESSONS_DIR", ROOT / "notebooks"))
SHOTS = ROOT / "out" / "screenshots"
LESSON3 = "03_backprop_step_by_step"
WAIT_MS = 60_000   # for a page, a selector or a kernel start
RUN_MS = 180_000   # for lesson 3 to run to the end


def picture_outputs(nb):
    """Per code cell, how many of its outputs must show as a picture: graphs, plots, steppers."""
    counts = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        n = 0
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            text = "".join(data.get("text/plain", ""))
            n += (text.startswith("<autograd.render.Graph") or "chainrule-stepper" in "".join(data.get("text/html", ""))
                  or any(k.startswith("image/") for k in data))
        counts.append(n)
    return counts


def lesson_steps():
    """The steps of lesson 3's stepper, computed here from the lesson's own source."""
    # by its path: a bare `import build` could find some other `build` (a build/ folder)
    cells = _build_module().parse((ROOT / "notebooks" / "src" / f"{LESSON3}.py").read_text(encoding="utf-8"))
    scope = {}
    cwd = os.getcwd()
    os.chdir(ROOT / "notebooks")
    try:
        for cell in cells:
            if cell.cell_type == "code":
                with contextlib.redirect_stdout(io.StringIO()):  # the lesson's prints
                    exec(compile(cell.source, f"{LESSON3}.py", "exec"), scope)
                if "stepper" in scope:
                    return scope["stepper"].steps
    finally:
        os.chdir(cwd)
    raise AssertionError("lesson 3 has no cell making `stepper`")


def open_notebook(page, url, name):
    page.goto(f"{url}/lab/tree/{name}.ipynb?reset", timeout=WAIT_MS)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=WAIT_MS)
    # Outputs render after the cells; wait until the last code cell's prompt is drawn.
    page.wait_for_function("() => document.querySelectorAll('.jp-Notebook .jp-InputPrompt').length > 0",
                           timeout=WAIT_MS)
    page.wait_for_timeout(1500)


def check_untrusted(page, name, nb):
    """Every graph, plot and stepper output of `name` shows as a visible picture."""
    expected = picture_outputs(nb)
    seen = page.evaluate("""() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell')).map(cell =>
        Array.from(cell.querySelectorAll('.jp-OutputArea-output')).filter(o => o.querySelector('img'))
          .map(o => Array.from(o.querySelectorAll('img')).map(i => {
             const r = i.getBoundingClientRect();
             return [i.complete && i.naturalWidth, r.width, r.height];
          })))""")
    assert len(seen) == len(expected), (name, len(seen), len(expected))
    for k, (want, got) in enumerate(zip(expected, seen)):
        assert len(got) == want, f"{name}, code cell {k + 1}: {want} pictures expected, {len(got)} shown"
        for imgs in got:
            assert all(natural > 0 and w > 0 and h > 0 for natural, w, h in imgs), (name, k + 1, imgs)
    text = page.inner_text(".jp-NotebookPanel .jp-Notebook")
    assert "<autograd.render.Graph" not in text, name


def test_lessons_open_untrusted_then_lesson3_runs_and_steps(tmp_path):
    from playwright.sync_api import sync_playwright
    lessons = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
    assert lessons, f"no lessons in {LESSONS}"
    served = tmp_path / "lessons"
    served.mkdir()
    for nb in lessons:
        shutil.copy(nb, served)
    write_quiz_notebook(served / "quiz.ipynb")
    scratch = tmp_path / "lab"
    scratch.mkdir()
    SHOTS.mkdir(parents=True, exist_ok=True)
    steps = lesson_steps()
    with running_lab(served, scratch) as url, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(WAIT_MS)
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            for path in lessons:
                nb = json.loads(path.read_text(encoding="utf-8"))
                open_notebook(page, url, path.stem)
                check_untrusted(page, path.stem, nb)
                if path.stem == LESSON3:
                    still = page.locator(".chainrule-stepper .cr-static")
                    assert still.count() == 1 and still.is_visible()
                    assert "run this cell" in still.inner_text()
                    assert still.locator("li").count() == len(steps)
                    assert page.locator(".chainrule-stepper button").count() == 0  # no dead buttons
                    still.scroll_into_view_if_needed()
                    page.screenshot(path=SHOTS / "lesson3_untrusted.png")
                page.screenshot(path=SHOTS / f"{path.stem}_untrusted.png", full_page=True)
                page.goto("about:blank")
                stop_kernels(url)
            run_lesson3(page, url, steps)
            page.goto("about:blank")
            stop_kernels(url)
            answer_a_quiz(page, url)
            assert errors == [], errors
        finally:
            browser.close()


def run_lesson3(page, url, steps):
    open_notebook(page, url, LESSON3)
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=WAIT_MS)
    # Wait for the kernel before running: Run All on a starting kernel queues, but a
    # "select kernel" dialog would swallow the click.
    page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=WAIT_MS)
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
    page.wait_for_selector(".chainrule-stepper[data-ready]", timeout=RUN_MS)
    page.wait_for_function(
        """() => { const p = Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt'));
                   return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }""", timeout=RUN_MS)
    assert "Traceback (most recent call last)" not in page.inner_text(".jp-NotebookPanel .jp-Notebook"), \
        "a cell of lesson 3 raised"
    box = page.locator(".chainrule-stepper[data-ready]")
    assert box.count() == 1 and page.locator(".chainrule-stepper .cr-static").count() == 0
    uid = box.get_attribute("id")
    assert box.locator(f"#{uid}-graph svg").count() == 1
    assert smallest_node_text_px(page, uid) >= 10
    box.scroll_into_view_if_needed()
    scroller = "document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer')"
    active_cell = ("() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'))"
                   ".findIndex(c => c.classList.contains('jp-mod-active'))")
    # One click on the picture gives the stepper the keys (and makes its cell the active one).
    page.click(f"#{uid}-graph", position={"x": 5, "y": 5})
    active = page.evaluate(active_cell)
    assert page.evaluate(f"() => document.querySelectorAll('.jp-Notebook .jp-Cell')[{active}]"
                         f".contains(document.getElementById('{uid}'))")
    top = page.evaluate(f"() => {scroller}.scrollTop")
    formula = page.locator(f"#{uid}-formula")
    for k, step in enumerate(steps, start=1):
        if k % 3 == 0:
            page.click(f"#{uid}-next")
            page.click(f"#{uid}-graph", position={"x": 5, "y": 5})
        else:
            page.keyboard.press("ArrowRight")
        assert box.get_attribute("data-pos") == str(k)
        current = box.locator("g.node.cr-cur")
        assert current.count() == 1 and current.get_attribute("id") == f"{uid}-{step['node']}"
        assert formula.text_content() == step["text"]
        assert node_in_view(page, uid, step["node"]), (k, step["node"])
        if k == 7:
            page.screenshot(path=SHOTS / "lesson3_running.png")
    page.keyboard.press("ArrowLeft")
    assert box.get_attribute("data-pos") == str(len(steps) - 1)
    page.keyboard.press("Home")
    assert box.get_attribute("data-pos") == "0"
    # The arrows stepped the stepper, not JupyterLab: same active cell, the page stayed put.
    assert page.evaluate(active_cell) == active
    assert abs(page.evaluate(f"() => {scroller}.scrollTop") - top) < 2
    # Outside the stepper the keys are JupyterLab's again: in command mode ArrowDown moves to
    # the next cell (and ArrowRight to the next heading), and the stepper stays where it was.
    page.click(f".jp-Notebook .jp-Cell:nth-child({active + 1}) .jp-InputPrompt")
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowDown")
    assert page.evaluate(active_cell) == active + 1
    page.keyboard.press("ArrowRight")
    assert page.evaluate(active_cell) > active + 1
    assert box.get_attribute("data-pos") == "0"
    box.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "lesson3_after_run.png")


def node_in_view(page, uid, node):
    """Is the node's box inside both the graph's scroll box and the window?"""
    return page.evaluate("""([uid, node]) => {
        const g = document.getElementById(uid + '-graph').getBoundingClientRect();
        const r = document.getElementById(uid + '-' + node).getBoundingClientRect();
        return r.left >= g.left - 1 && r.right <= g.right + 1 && r.top >= g.top - 1 && r.bottom <= g.bottom + 1;
    }""", [uid, node])


QUIZ = """from autograd import Value, step_through
a = Value(2.0, label="a"); b = Value(3.0, label="b"); L = a * b + a
step_through(L, quiz=True)"""


def write_quiz_notebook(path):
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(QUIZ)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, path)


def answer_a_quiz(page, url):
    """Typing an answer in a notebook: the keys go to the box, not to JupyterLab's commands
    (`d d` deletes a cell, `1` makes a heading, `a` inserts a cell in command mode)."""
    open_notebook(page, url, "quiz")
    page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=WAIT_MS)
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
    page.wait_for_selector(".chainrule-stepper[data-ready]", timeout=RUN_MS)
    uid = page.get_attribute(".chainrule-stepper", "id")
    cells = page.locator(".jp-Notebook .jp-Cell").count()
    for _ in range(4):  # two forward steps, the seed, then ∂L/∂v1's product
        page.click(f"#{uid}-next")
    assert page.text_content(f"#{uid}-formula") == "∂L/∂v1 += ∂(v1 + a)/∂v1 × ∂L/∂L = ? × 1 = ?"
    page.click(f"#{uid}-qlocal")
    page.keyboard.type("dd1a")
    assert page.input_value(f"#{uid}-qlocal") == "dd1a"
    assert page.locator(".jp-Notebook .jp-Cell").count() == cells
    page.fill(f"#{uid}-qlocal", "1")
    page.click(f"#{uid}-qproduct")
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    assert page.text_content(f"#{uid}-qlocal-mark") == "✓"
    assert page.text_content(f"#{uid}-qproduct-mark") == "✗"
    page.fill(f"#{uid}-qproduct", "1.0000001")
    page.keyboard.press("Enter")
    assert page.text_content(f"#{uid}-qproduct-mark") == "✓"
    assert page.text_content(f"#{uid}-formula") == "∂L/∂v1 += ∂(v1 + a)/∂v1 × ∂L/∂L = 1 × 1 = 1 → ∂L/∂v1 = 1"
    assert page.locator(".jp-Notebook .jp-Cell").count() == cells
    page.screenshot(path=SHOTS / "quiz_in_jupyterlab.png")
