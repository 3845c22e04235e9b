import base64
import json
import math
import re
import struct

import pytest
from hypothesis import given, settings, strategies as st

from autograd.files import UnwritablePath
from nn import MLP
from nn.diagnose import float_activation, float_forward, float_layers
from nn.live import LiveView, Recorder, for_fit, in_notebook
from nn.live import view as view_module

from .training_loop import digits, moons, moons_model, train

MAX_PAGE = 5_000_000


def page_json(path):
    text = open(path, encoding="utf-8").read()
    raw = re.search(r'<script type="application/json" id="run-data">(.*?)</script>', text, re.S).group(1)
    return json.loads(raw.replace("<\\/", "</"))


def page_layers(data, frame):
    """A frame's parameters as `float_layers` gives them: what the page's forward runs on."""
    numbers = iter(struct.unpack(f"<{len(base64.b64decode(frame['weights'])) // 8}d",
                                 base64.b64decode(frame["weights"])))
    sizes, layers = data["grid"]["sizes"], []
    for (_, act), nin, nout in zip(data["layers"], sizes, sizes[1:]):
        W = [[next(numbers) for _ in range(nin)] for _ in range(nout)]
        layers.append((W, [next(numbers) for _ in range(nout)], float_activation(act)))
    assert next(numbers, None) is None
    return layers


def feed(rec, model, data, steps, loss=lambda s: 1.0 / s):
    """Drive a recorder through `steps` steps without training (the numbers stay put)."""
    (Xtr, ytr), (Xte, yte) = data
    rec.on_start(model, Xtr, ytr, Xte, yte, total_steps=steps)
    for s in range(1, steps + 1):
        rec.on_step(s, loss(s))
    rec.on_end()
    return rec


# -- frames and pages -----------------------------------------------------------------------
def test_moons_run_of_cli_defaults_records_at_least_100_frames_in_a_small_page(tmp_path):
    path = tmp_path / "moons.html"
    # `python -m nn train --dataset moons`: 400 training points, batch 16, 30 epochs
    rec = feed(Recorder(str(path)), MLP(2, [16, 16, 1], seed=0), moons(500), 30 * 25)
    steps = [f["step"] for f in rec.frames]
    assert len(steps) >= 100
    assert rec.k == 7 and steps == list(range(0, 750, 7)) + [750]   # and the last step
    assert path.stat().st_size < MAX_PAGE
    data = page_json(path)
    assert len(data["frames"]) == len(rec.frames)
    assert [f["loss"] for f in data["frames"][1:]] == [1.0 / s for s in steps[1:]]   # exact
    assert data["grid"]["sizes"] == [2, 16, 16, 1]
    assert len(base64.b64decode(data["frames"][0]["weights"])) == 337 * 8    # float64 each


def test_digits_page_stays_small(tmp_path):
    path = tmp_path / "digits.html"
    (Xtr, ytr), (Xte, yte) = digits(1797)
    # `python -m nn train --dataset digits`: 1437 training images, batch 16, 30 epochs
    rec = feed(Recorder(str(path)), MLP(64, [16, 16, 10], seed=0), ((Xtr, ytr), (Xte, yte)), 30 * 90)
    assert len(rec.frames) >= 100
    assert path.stat().st_size < MAX_PAGE
    assert page_json(path)["grid"] is None                   # no boundary for 64-D inputs


def test_without_total_steps_frames_are_thinned_to_multiples_of_k():
    rec = Recorder(frames=10)
    rec.path = "unused"                                       # record, but never write
    (Xtr, ytr), _ = moons(60)
    rec.on_start(moons_model(), Xtr, ytr)
    for s in range(1, 101):
        rec.on_step(s, float(s))
    steps = [f["step"] for f in rec.frames]
    assert len(steps) <= 2 * 10 + 1 and rec.k > 1
    assert all(s % rec.k == 0 for s in steps) and steps[0] == 0
    assert [f["loss"] for f in rec.frames[1:]] == [float(s) for s in steps[1:]]


def test_frames_hold_the_losses_given_and_the_history(tmp_path):
    path = tmp_path / "run.html"
    rec = Recorder(str(path))
    history, losses = train(rec, moons(), moons_model(), epochs=3)
    assert rec.losses == losses
    assert all(f["loss"] == losses[f["step"] - 1] for f in rec.frames[1:])
    assert rec.epochs == history
    data = page_json(path)
    assert data["epochs"] == history and data["frames"] == rec.frames
    assert data["frames"][-1]["epochs_done"] == 3             # the last frame is after the run


def test_non_finite_numbers_survive_the_page(tmp_path):
    path = tmp_path / "nan.html"
    losses = {1: float("nan"), 2: float("inf")}
    rec = feed(Recorder(str(path), every=1), moons_model(), moons(), 3, lambda s: losses.get(s, 0.5))
    frames = page_json(path)["frames"]
    assert [f["loss"] for f in frames[1:]] == ["NaN", "Infinity", 0.5]
    assert "NaN" not in open(path).read().replace('"NaN"', "")     # never a bare NaN token
    assert math.isnan(rec.frames[1]["loss"])


def test_the_page_cannot_be_broken_out_of_by_a_title(tmp_path):
    path = tmp_path / "t.html"
    rec = Recorder(str(path), every=5)
    (Xtr, ytr), _ = moons(60)
    rec.on_start(moons_model(), Xtr, ytr, title="</script><script>alert(1)</script>")
    rec.on_end()
    text = open(path).read()
    assert "<script>alert(1)" not in text
    assert page_json(path)["title"] == "</script><script>alert(1)</script>"


def test_an_unwritable_path_fails_before_training(tmp_path):
    with pytest.raises(UnwritablePath, match="is a directory"):
        Recorder(str(tmp_path))
    with pytest.raises(UnwritablePath, match="does not exist"):
        LiveView(str(tmp_path / "missing" / "run.html"))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="every must be a positive int, got 0"):
        Recorder(every=0)
    with pytest.raises(ValueError, match="rate and budget must be > 0"):
        LiveView(rate=0)
    with pytest.raises(TypeError, match="model must be an nn.MLP, got str"):
        Recorder().on_start("model", [[0.0, 0.0]], [0])
    with pytest.raises(ValueError, match="2 samples, 1 labels"):
        Recorder().on_start(moons_model(), [[0.0, 0.0]] * 2, [0])


def test_grid_is_the_models_own_prediction():
    from autograd import no_grad
    rec = Recorder()
    (Xtr, ytr), _ = moons()
    model = moons_model()
    rec.on_start(model, Xtr, ytr)
    values = rec.grid_values()
    with no_grad():
        expected = [1 / (1 + math.exp(-model(c).data)) for c in rec.cells]
    assert values == pytest.approx(expected, rel=0, abs=1e-15)
    cols, rows = rec.grid
    assert len(values) == cols * rows
    assert rec.cells[0][1] > rec.cells[-1][1]                # row 0 is the top of the picture


# -- for_fit --------------------------------------------------------------------------------
def test_for_fit_turns_the_argument_into_a_view(tmp_path):
    assert for_fit(False) is None and for_fit(None) is None
    assert isinstance(for_fit(True), LiveView) and for_fit(True).path is None
    v = for_fit(tmp_path / "run.html")
    assert isinstance(v, LiveView) and v.path == str(tmp_path / "run.html")
    mine = Recorder()
    assert for_fit(mine) is mine
    with pytest.raises(TypeError, match="live must be True, False, a path"):
        for_fit(3)


# -- the live view, with IPython's display captured -----------------------------------------
class Handle:
    def __init__(self, log):
        self.log = log

    def update(self, data, raw=False):
        assert raw
        self.log.append(("update", data))


@pytest.fixture
def shown(monkeypatch):
    import IPython.display
    log = []

    def display(data, raw=False, display_id=False):
        assert raw and display_id is True
        log.append(("display", data))
        return Handle(log)

    monkeypatch.setattr(IPython.display, "display", display)
    return log


def test_not_shown_outside_a_notebook(shown):
    assert not in_notebook()
    view = LiveView()
    train(view, moons(), moons_model(), epochs=1)
    assert view.show is False and shown == [] and view.shown == 0


def test_one_output_updated_in_place_with_a_rising_frame_counter(shown):
    view = LiveView(show=True, rate=1e9, budget=1e9)          # as often as it can
    history, _ = train(view, moons(), moons_model(), epochs=2)
    kinds = [k for k, _ in shown]
    assert kinds[0] == "display" and set(kinds[1:]) == {"update"}     # one output, updated
    counters = [int(re.search(r"frame (\d+)", d["text/plain"]).group(1)) for _, d in shown]
    assert counters == list(range(len(shown)))
    assert len(shown) >= 10                                  # a frame every other step
    last = shown[-1][1]
    assert last["text/plain"].endswith("done") and f"step {len(view.losses)}/" in last["text/plain"]
    png = base64.b64decode(last["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert last["image/png"] in last["text/html"] and "frame" in last["text/html"]
    assert last["text/html"].count("data:image/png;base64,") == 2   # the figure and the graph
    assert f"test acc {history[-1]['test_accuracy']:.1%}" in last["text/plain"]


def test_rate_limit_is_by_time(shown, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(view_module.time, "perf_counter", lambda: clock[0])
    view = LiveView(show=True, rate=2.0, budget=1e9, graph=False)
    (Xtr, ytr), (Xte, yte) = moons()
    view.on_start(moons_model(), Xtr, ytr, Xte, yte, total_steps=100)
    for s in range(1, 101):
        clock[0] += 0.01                                     # 10 ms a step: 1 s in all
        view.on_step(s, 0.5)
    view.on_end()
    # 0.5 s apart at rate 2: frames at ~0.5 s and ~1.0 s, then the final one
    assert 2 <= view.shown <= 3, view.shown


def test_drawing_stays_within_its_budget_of_the_training_time(shown, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(view_module.time, "perf_counter", lambda: clock[0])
    real_bundle = LiveView.bundle

    def slow_bundle(self, frame, final=False):
        clock[0] += 0.3                                       # each frame "costs" 0.3 s
        return real_bundle(self, frame, final)

    monkeypatch.setattr(LiveView, "bundle", slow_bundle)
    view = LiveView(show=True, rate=1e9, graph=False)          # the default budget, 20 %
    (Xtr, ytr), _ = moons()
    view.on_start(moons_model(), Xtr, ytr, total_steps=1000)
    view.seconds = 0.0                                        # the clock stood still meanwhile
    for s in range(1, 1001):
        clock[0] += 0.01                                      # 10 s of training
        view.on_step(s, 0.5)
    view.on_end()
    drawn = view.shown * 0.3
    assert drawn <= 0.2 * 10.0 + 1e-9, view.shown            # the final frame included
    assert view.shown >= 5


def test_sample_graph_leaves_the_training_grads_alone(shown):
    view = LiveView(show=True, rate=1e9, budget=1e9)
    model = moons_model()
    (Xtr, ytr), _ = moons()
    view.on_start(model, Xtr, ytr, total_steps=10)
    for i, p in enumerate(model.parameters()):
        p.grad = 0.001 * i
    view.on_step(1, 0.3)
    view.on_step(2, 0.3)
    assert view.shown == 1
    assert [p.grad for p in model.parameters()] == [0.001 * i for i in range(len(model.parameters()))]


def test_view_with_a_path_also_writes_the_page(shown, tmp_path):
    path = tmp_path / "run.html"
    view = LiveView(str(path), show=True)
    train(view, moons(), moons_model(), epochs=1)
    assert len(page_json(path)["frames"]) == len(view.frames) >= 10


# -- the float forward the recorder and diagnose share --------------------------------------
@settings(max_examples=40)
@given(seed=st.integers(0, 1000), act=st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu",
                                                       "elu", "gelu", "softplus"]),
       x=st.lists(st.floats(-3, 3), min_size=3, max_size=3))
def test_float_forward_is_the_models_forward_bit_for_bit(seed, act, x):
    from nn.diagnose import float_forward, float_layers
    model = MLP(3, [5, 4, 2], activation=act, output_activation=act, seed=seed)
    assert float_forward(float_layers(model), x) == [v.data for v in model(x)]


# -- through fit's callbacks ----------------------------------------------------------------
def test_fit_drives_a_recorder_and_the_page_holds_its_history(tmp_path):
    from nn.losses import hinge_loss
    from nn.train import fit
    path = tmp_path / "fit.html"
    (Xtr, ytr), (Xte, yte) = moons()
    hinge = lambda out, t: hinge_loss(out, 2 * t - 1)
    view = for_fit(path, loss=hinge)
    history = fit(moons_model(), Xtr, ytr, Xte, yte, epochs=3, batch_size=16, optimizer="adam",
                  lr=0.02, loss=hinge, progress=False, log=None, callbacks=[view])
    data = page_json(path)
    assert data["epochs"] == history                          # exactly fit's numbers
    assert [f["step"] for f in data["frames"]] == list(range(0, 31))
    assert view.loss is hinge
    # fit(live=path) itself: the same page, from the same run
    again = tmp_path / "again.html"
    second = fit(moons_model(), Xtr, ytr, Xte, yte, epochs=3, batch_size=16, optimizer="adam",
                 lr=0.02, loss=hinge, progress=False, log=None, live=str(again))
    timeless = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    assert timeless(second) == timeless(history)
    assert page_json(again)["frames"] == data["frames"]
    assert page_json(again)["epochs"] == second
    # the batch losses the page shows are fit's: their epoch means give fit's epoch losses
    per_epoch = [view.losses[i:i + 10] for i in range(0, 30, 10)]
    sizes = [16] * 9 + [len(Xtr) - 16 * 9]
    for row, losses in zip(history, per_epoch):
        assert row["loss"] == pytest.approx(sum(l * n for l, n in zip(losses, sizes)) / len(Xtr), rel=1e-12)


def test_a_three_class_2d_run_stores_class_grids_and_draws(shown, tmp_path):
    import random as _random
    rng = _random.Random(0)
    centres = [(-1.0, 0.0), (1.0, 0.0), (0.0, 1.5)]
    y = [i % 3 for i in range(90)]
    X = [[centres[c][0] + rng.gauss(0, 0.3), centres[c][1] + rng.gauss(0, 0.3)] for c in y]
    path = tmp_path / "three.html"
    view = LiveView(str(path), show=True, rate=1e9, budget=1e9)
    train(view, ((X[:72], y[:72]), (X[72:], y[72:])), MLP(2, [8, 3], seed=0), epochs=2)
    data = page_json(path)
    assert data["grid"]["binary"] is False and data["grid"]["sizes"] == [2, 8, 3]
    layers = page_layers(data, data["frames"][-1])
    assert [l[:2] for l in layers] == [l[:2] for l in float_layers(view.model)]  # exactly the model
    classes = [max(range(3), key=float_forward(layers, c).__getitem__) for c in view.cells]
    assert classes == view.grid_values() and set(classes) == {0, 1, 2}  # all three on the map
    assert base64.b64decode(shown[-1][1]["image/png"])[:4] == b"\x89PNG"
