import math
import random

import pytest
from hypothesis import given, strategies as st

from autograd import Value
from nn import MLP
from nn.data import load_digits, make_moons
from nn.diagnose import BOUNDS, SATURATION_MARGIN, Diagnosis, diagnose
from nn.optim import SGD

MOONS, _ = make_moons(100, noise=0.1, seed=0)
DIGITS = load_digits()[0][:300]
ACT = {"relu": lambda z: max(z, 0.0), "tanh": math.tanh,
       "sigmoid": lambda z: 1 / (1 + math.exp(-z)), "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
       "elu": lambda z: z if z > 0 else math.expm1(z), None: lambda z: z}


def oracle(model, X):
    """Pre-activations and outputs of every layer on every sample, in plain floats straight
    from the parameters (no autograd), to check diagnose against."""
    pres = [[] for _ in model.layers]
    outs = [[] for _ in model.layers]
    for x in X:
        h = list(x)
        for li, layer in enumerate(model.layers):
            z = [n.b.data + math.fsum(w.data * xi for w, xi in zip(n.w, h)) for n in layer.neurons]
            h = [ACT[layer.activation](v) for v in z]
            pres[li].append(z)
            outs[li].append(h)
    return pres, outs


def plant(model, names, bias=-100.0):
    for name in names:
        _, layer, _, neuron = name.split(".")
        model.layers[int(layer)].neurons[int(neuron)].b.data = bias


def test_three_planted_dead_neurons_are_exactly_the_dead():
    model = MLP(2, [16, 16, 1], seed=3)
    assert diagnose(model, MOONS).dead == []          # healthy before
    planted = ["layers.0.neurons.5", "layers.1.neurons.2", "layers.1.neurons.9"]
    plant(model, planted)
    report = diagnose(model, MOONS)
    assert report.dead == planted
    assert [h.dead for h in report.layers[:2]] == [1, 2]
    assert "dead" in report.layers[0].flags and "dead" in report.layers[1].flags
    assert report.flagged == {"layers.0": ("dead",), "layers.1": ("dead",)}


@given(seed=st.integers(0, 10_000), act=st.sampled_from(["relu", "leaky_relu", "elu"]),
       picks=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 7)), max_size=4),
       bias=st.floats(-50, 2))
def test_dead_is_exactly_the_units_never_positive(seed, act, picks, bias):
    model = MLP(2, [8, 8, 1], activation=act, seed=seed)
    plant(model, [f"layers.{l}.neurons.{n}" for l, n in picks], bias)
    X = MOONS[:40]
    pres, _ = oracle(model, X)
    expected = [f"layers.{li}.neurons.{j}" for li in range(2) for j in range(8)
                if all(z[j] <= 0 for z in pres[li])]
    assert diagnose(model, X).dead == expected


def scale_weights(model, k):
    for name, p in model.named_parameters():
        if ".w." in name:
            p.data *= k


def test_tanh_weights_times_ten_saturate_and_xavier_does_not():
    big = MLP(64, [16, 16, 10], activation="tanh", init="uniform", seed=0)
    scale_weights(big, 10)                             # U(-10, 10)
    report = diagnose(big, DIGITS)
    assert set(report.saturated) == {"layers.0", "layers.1"}   # the linear output is not judged
    assert all(f > 0.9 for f in report.saturated.values()), report.saturated
    assert all("saturated" in h.flags for h in report.layers[:2])
    xavier = diagnose(MLP(64, [16, 16, 10], activation="tanh", seed=0), DIGITS)
    assert all(f < 0.1 for f in xavier.saturated.values()), xavier.saturated
    assert not xavier.flagged


@given(seed=st.integers(0, 10_000), act=st.sampled_from(["tanh", "sigmoid"]),
       scale=st.floats(0.1, 20))
def test_saturation_and_moments_match_a_float_oracle(seed, act, scale):
    model = MLP(2, [6, 5, 3], activation=act, output_activation=act, seed=seed)
    scale_weights(model, scale)
    X = MOONS[:30]
    _, outs = oracle(model, X)
    report = diagnose(model, X)
    lo, hi = BOUNDS[act]
    for li, h in enumerate(report.layers):
        flat = [o for row in outs[li] for o in row]
        sat = sum(o <= lo + SATURATION_MARGIN or o >= hi - SATURATION_MARGIN for o in flat)
        # diagnose's sums may round differently from fsum: compare counts away from the edge
        near = sum(abs(abs(o - (lo + hi) / 2) - ((hi - lo) / 2 - SATURATION_MARGIN)) < 1e-9
                   for o in flat)
        assert abs(round(report.saturated[h.path] * len(flat)) - sat) <= near
        mean = math.fsum(flat) / len(flat)
        assert h.mean == pytest.approx(mean, abs=1e-9)
        assert h.std == pytest.approx(math.sqrt(math.fsum((o - mean) ** 2 for o in flat) / len(flat)),
                                      abs=1e-6)
    assert [o if isinstance(o, list) else [o] for o in report.outputs] == \
        [pytest.approx(row, abs=1e-12) for row in outs[-1]]


def test_diagnose_records_no_graph_and_leaves_grads_and_data_alone():
    model = MLP(2, [8, 1], seed=0)
    loss = model(MOONS[0]) ** 2
    loss.backward()
    before = [(p.data, p.grad) for p in model.parameters()]
    report = diagnose(model, MOONS)
    assert [(p.data, p.grad) for p in model.parameters()] == before
    assert all(isinstance(o, float) for o in report.outputs)  # floats, not graph nodes


def test_ratios_need_grads_and_match_their_definitions():
    model = MLP(2, [8, 8, 1], seed=1)
    fresh = diagnose(model, MOONS)
    assert all(h.grad_data is None and h.update_data is None for h in fresh.layers)
    previous = model.state_dict()
    opt = SGD(model.parameters(), lr=0.05)
    opt.zero_grad()
    sum((model(x) - 1) ** 2 for x in MOONS[:20]).backward()
    opt.step()
    after = diagnose(model, MOONS, previous=previous)
    by_lr = diagnose(model, MOONS, lr=0.05)
    for li, layer in enumerate(model.layers):
        ws = [w for n in layer.neurons for w in n.w]
        sd = lambda xs: math.sqrt(sum((x - sum(xs) / len(xs)) ** 2 for x in xs) / (len(xs) - 1))
        ratio = sd([w.grad for w in ws]) / sd([w.data for w in ws])
        assert after.layers[li].grad_data == pytest.approx(ratio, rel=1e-9)
        # plain SGD moves each weight by exactly lr * grad: both ways agree
        assert after.layers[li].update_data == pytest.approx(0.05 * ratio, rel=1e-6)
        assert by_lr.layers[li].update_data == pytest.approx(0.05 * ratio, rel=1e-9)


def test_vanishing_and_exploding_are_flagged_from_update_ratios():
    model = MLP(2, [8, 8, 1], seed=1)
    (model(MOONS[0]) - 1).backward()
    previous = model.state_dict()
    for name, p in model.named_parameters():
        if name.startswith("layers.0."):
            p.data += 1e-7 * (1 if hash(name) % 2 else -1)       # barely moves
        elif name.startswith("layers.1."):
            p.data += random.Random(name).uniform(-3, 3)          # jumps about
    report = diagnose(model, MOONS, previous=previous)
    assert "vanishing" in report.layers[0].flags
    assert "exploding" in report.layers[1].flags
    assert report.layers[2].flags == ("vanishing",)                # did not move at all


def test_nan_weights_are_exploding():
    model = MLP(2, [4, 1], seed=0)
    (model(MOONS[0]) - 1).backward()
    model.layers[0].neurons[0].w[0].grad = float("nan")
    assert "exploding" in diagnose(model, MOONS[:5]).layers[0].flags


def test_table_and_html_views():
    model = MLP(2, [16, 16, 1], seed=3)
    plant(model, ["layers.1.neurons.3"])
    report = diagnose(model, MOONS)
    text = str(report)
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["layer", "act", "units", "dead"]
    assert lines[2].split()[:4] == ["layers.1", "relu", "16", "1"] and lines[2].endswith("dead")
    assert lines[-1] == "100 samples; dead: layers.1.neurons.3"
    page = report._repr_html_()
    assert page.count('<tr class="flagged">') == 1 and "<style>" in page
    assert "layers.1.neurons.3" in page
    assert "1 dead" in repr(report)


def test_html_escapes_what_it_shows():
    model = MLP(2, [2, 1], seed=0)
    model.layers[0].path = "<b>x</b>"
    assert "<b>x</b>" not in diagnose(model, MOONS[:3])._repr_html_()


@pytest.mark.parametrize("model, X, error, words", [
    (object(), MOONS, TypeError, "nn.MLP"),
    (MLP(2, [1]), [], ValueError, "X is empty"),
    (MLP(2, [1]), [[1.0, 2.0], [1.0]], ValueError, "X[1] must be a list of 2 numbers, got 1"),
    (MLP(2, [1]), [3.0], ValueError, "X[0] must be a list of 2 numbers, got float"),
    (MLP(2, [1]), 5, TypeError, "X must be a list of samples, got int"),
])
def test_bad_input_is_named(model, X, error, words):
    with pytest.raises(error) as e:
        diagnose(model, X)
    assert words in str(e.value)


def test_previous_must_cover_every_parameter():
    model = MLP(2, [2, 1], seed=0)
    previous = model.state_dict()
    del previous["layers.0.neurons.1.b"]
    with pytest.raises(ValueError, match="previous lacks 1 parameter"):
        diagnose(model, MOONS, previous=previous)


def test_report_type():
    assert isinstance(diagnose(MLP(2, [3, 1], seed=0), [[Value(1.0).data, 0.0]]), Diagnosis)
