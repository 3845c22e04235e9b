"""The replay page of a moons run, opened from file:// in real headless Chromium (Debian's)."""
import math

import pytest

from nn.diagnose import float_activation, float_forward, float_layers
from nn.mlp import ACTIVATIONS
from tests.chromium import launch

from .test_live import page_json, page_layers
from .training_loop import moons, moons_model, train


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A moons run through fit(live=path); `rec` is what the recorder wrote (the page's data)."""
    path = tmp_path_factory.mktemp("replay") / "run.html"
    model = moons_model()
    history, losses = train(None, moons(), model, epochs=15, live=str(path))
    return path, Recorded(page_json(path)), history, losses, model


class Recorded:
    def __init__(self, data):
        self.data, self.frames = data, data["frames"]
        self.layers = [path for path, _ in data["layers"]]


@pytest.fixture
def page(run):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            requests, errors = [], []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(run[0].as_uri(), timeout=20_000)
            page.requests, page.errors = requests, errors
            yield page
        finally:
            browser.close()


def cell(page, row):
    return page.eval_on_selector("#numbers", """(t, row) => {
        for (const tr of t.tBodies[0].rows) if (tr.cells[0].textContent === row) return tr.cells[1].textContent;
        return null; }""", row)


def boundary(page):
    return page.eval_on_selector("#boundary", "c => c.toDataURL()")


def test_page_makes_no_request_but_itself(page, run):
    assert page.requests == [run[0].as_uri()]
    assert page.errors == []


def test_every_recorded_frame_shows_its_step_and_exact_losses(page, run):
    _, rec, history, losses, _ = run
    assert len(losses) == 150                                       # 10 batches, 15 epochs
    assert [f["step"] for f in rec.frames] == list(range(151))      # step 0, then every step
    assert page.eval_on_selector("#slider", "s => Number(s.max)") == len(rec.frames) - 1
    page.click("#first")
    for i, frame in enumerate(rec.frames):
        assert page.text_content("#position") == f"frame {i + 1} / {len(rec.frames)} · step {frame['step']}"
        assert int(cell(page, "step")) == frame["step"]
        shown = cell(page, "batch loss")
        if frame["step"] == 0:
            assert shown == "–"
        else:
            assert float(shown) == losses[frame["step"] - 1]       # exactly the run's number
        assert float(cell(page, "test loss")) == frame["test_loss"]
        page.keyboard.press("ArrowRight")
    # the epoch table: fit's history, to the last bit
    rows = page.eval_on_selector("#epochs", "t => Array.from(t.tBodies[0].rows, r => Array.from(r.cells, c => c.textContent))")
    assert [int(r[0]) for r in rows] == [h["epoch"] for h in history]
    assert [float(r[1]) for r in rows] == [h["loss"] for h in history]


def test_stepping_changes_the_boundary_picture(page, run):
    rec = run[1]
    page.click("#first")
    first = boundary(page)
    pictures = {first}
    for _ in range(5):
        page.click("#next")
        pictures.add(boundary(page))
    assert len(pictures) == 6                                       # each step drew anew
    page.fill("#slider", str(len(rec.frames) - 1))
    page.dispatch_event("#slider", "input")
    assert page.text_content("#position").startswith(f"frame {len(rec.frames)} /")
    assert boundary(page) not in pictures


def test_the_pages_activations_are_the_op_tables(page):
    xs = [-40.0, -3.0, -1.0, -0.3, -1e-9, 0.0, 1e-9, 0.2, 1.0, 2.5, 40.0]
    for name in ACTIVATIONS:
        if name is None:
            continue
        ours = [float_activation(name)(x) for x in xs]
        shown = page.evaluate("([name, xs]) => xs.map((x) => window.replay.activations[name](x))",
                              [name, xs])
        if name == "gelu":  # the page's erf is within 1.5e-7, so gelu within 0.75e-7·|x|
            assert all(abs(a - b) <= 0.75e-7 * abs(x) for a, b, x in zip(shown, ours, xs)), shown
        else:               # the same float arithmetic
            assert shown == pytest.approx(ours, rel=1e-14, abs=1e-300), name


def test_the_page_draws_the_models_own_boundary(page, run):
    _, rec, _, _, model = run
    last = rec.frames[-1]
    layers = page_layers(rec.data, last)
    assert [l[:2] for l in layers] == [l[:2] for l in float_layers(model)]   # the trained model
    x0, x1, y0, y1 = rec.data["grid"]["bounds"]
    points = [[x0 + (x1 - x0) * i / 7, y0 + (y1 - y0) * j / 5] for i in range(8) for j in range(6)]
    shown = page.evaluate("""([w, points]) => {
        const net = window.replay.network(w);
        return points.map((p) => window.replay.predict(net, Float64Array.from(p))); }""",
                          [last["weights"], points])
    ours = [1 / (1 + math.exp(-float_forward(layers, p)[0])) for p in points]
    assert shown == pytest.approx(ours, rel=1e-12)
    assert min(ours) < 0.5 < max(ours)                              # both classes on the map


def test_play_and_pause(page, run):
    page.click("#first")
    page.click("#play")
    for _ in range(100):                     # the page's CSP forbids wait_for_function's eval
        if int(page.text_content("#position").split()[1]) >= 6:
            break
        page.wait_for_timeout(100)
    assert int(page.text_content("#position").split()[1]) >= 6, "play did not advance"
    page.click("#play")                                             # pause
    stopped = page.text_content("#position")
    page.wait_for_timeout(400)
    assert page.text_content("#position") == stopped
    assert page.text_content("#play").endswith("play")


def test_health_table_shows_each_layer(page, run):
    rec = run[1]
    rows = page.eval_on_selector("#health", "t => Array.from(t.tBodies[0].rows, r => r.cells[0].textContent)")
    assert rows == rec.layers == ["layers.0", "layers.1", "layers.2"]
