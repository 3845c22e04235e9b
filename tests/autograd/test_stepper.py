import json
import math
import re

import pytest
from hypothesis import given

from autograd import Value, linear, step_through
from autograd.render import walk
from autograd.testing import expressions


def small():
    """L = a*b + a: `a` feeds two nodes, so its grad accumulates 1 + 3 = 4."""
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    d = a * b
    d.label = "d"
    L = d + a
    L.label = "L"
    return L, a, b, d


def test_steps_of_a_small_expression_match_the_hand_computation():
    L, a, b, d = small()
    assert step_through(L).steps == [
        {"phase": "forward", "node": "v1", "value": 6.0, "text": "d = a * b = 2 × 3 = 6"},
        {"phase": "forward", "node": "v0", "value": 8.0, "text": "L = d + a = 6 + 2 = 8"},
        {"phase": "backward", "node": "v0", "grad": 1.0, "text": "∂L/∂L = 1"},
        {"phase": "backward", "node": "v1", "parent": "v0", "edge": "v0in0", "local": 1.0,
         "upstream": 1.0, "product": 1.0, "grad": 1.0,
         "text": "∂L/∂d += ∂(d + a)/∂d × ∂L/∂L = 1 × 1 = 1 → ∂L/∂d = 1"},
        {"phase": "backward", "node": "v2", "parent": "v0", "edge": "v0in1", "local": 1.0,
         "upstream": 1.0, "product": 1.0, "grad": 1.0,
         "text": "∂L/∂a += ∂(d + a)/∂a × ∂L/∂L = 1 × 1 = 1 → ∂L/∂a = 1"},
        {"phase": "backward", "node": "v2", "parent": "v1", "edge": "v1in0", "local": 3.0,
         "upstream": 1.0, "product": 3.0, "grad": 4.0,
         "text": "∂L/∂a += ∂d/∂a × ∂L/∂d = 3 × 1 = 3 → ∂L/∂a = 1 + 3 = 4"},
        {"phase": "backward", "node": "v3", "parent": "v1", "edge": "v1in1", "local": 2.0,
         "upstream": 1.0, "product": 2.0, "grad": 2.0,
         "text": "∂L/∂b += ∂d/∂b × ∂L/∂d = 2 × 1 = 2 → ∂L/∂b = 2"},
    ]


def test_square_of_a_node_gives_two_chain_rule_products():
    a = Value(2.0, label="a")
    y = a * a
    texts = [s["text"] for s in step_through(y).steps]
    assert texts == ["L = a * a = 2 × 2 = 4", "∂L/∂L = 1",
                     "∂L/∂a += ∂(a * a)/∂a × ∂L/∂L = 2 × 1 = 2 → ∂L/∂a = 2",
                     "∂L/∂a += ∂(a * a)/∂a × ∂L/∂L = 2 × 1 = 2 → ∂L/∂a = 2 + 2 = 4"]


def test_formulas_show_constants_unary_ops_and_linear_nodes():
    x = Value(-1.5, label="x")
    y = (2 - x * 3).tanh()
    y.label = "y"
    z = (-x).leaky_relu(0.1)
    z.label = "z"
    n = linear([Value(0.5, label="w0"), Value(-1.0, label="w1")], [x, 2.0], Value(0.1, label="b"))
    n.label = "n"
    texts = [s["text"] for s in step_through(y + z + n).steps if s["phase"] == "forward"]
    # ids: v0 root, v1 = y + z, v2 = y, v3 = 2 - …, v4 = x * 3, v5 = x, v6 = z, v7 = -x
    assert texts[:3] == ["v4 = x * 3 = (-1.5) × 3 = -4.5", "v3 = 2 - v4 = 2 - (-4.5) = 6.5",
                         "y = tanh(v3) = tanh(6.5) = 1"]
    assert "v7 = -x = -(-1.5) = 1.5" in texts
    assert "z = leaky_relu(v7, 0.1) = leaky_relu(1.5, 0.1) = 1.5" in texts
    assert "n = w0·x + w1·2 + b = 0.5×(-1.5) + (-1)×2 + 0.1 = -2.65" in texts


def test_stepper_never_touches_grads():
    L, a, b, d = small()
    step_through(L)
    assert [v.grad for v in (L, a, b, d)] == [0.0] * 4
    L.backward()
    before = [v.grad for v in (L, a, b, d)]
    step_through(L)
    assert [v.grad for v in (L, a, b, d)] == before == [1.0, 4.0, 2.0, 1.0]


@given(expressions(n_inputs=3, max_ops=10))
def test_final_grads_match_backward(case):
    fn, xs = case
    inputs = [Value(x) for x in xs]
    out = fn(*inputs)
    s = step_through(out)
    out.backward()
    order, _ = walk(out)
    assert len([t for t in s.steps if t["phase"] == "forward"]) == sum(v._op is not None for v in order)
    assert len([t for t in s.steps if "parent" in t]) == sum(len(v.children) for v in order)
    for v in order:
        assert math.isclose(s.grads[v], v.grad, rel_tol=1e-9, abs_tol=1e-12)
    # forward steps come children-first: each node's operands were computed before it
    done = {f"v{i}" for i, v in enumerate(order) if v._op is None}
    index = {v: i for i, v in enumerate(order)}
    for t in s.steps:
        if t["phase"] == "forward":
            assert all(f"v{index[c]}" in done for c in order[int(t["node"][1:])].children)
            done.add(t["node"])


def fragment_ids(fragment):
    return re.findall(r'\bid="([^"]+)"', fragment)


def test_html_fragment_is_self_contained_and_ids_are_unique_per_display():
    L, *_ = small()
    s = step_through(L)
    one, two = s._repr_html_(), s._repr_html_()
    for page in (one, two):
        assert page.count("<svg") == 1 and "<script>" in page and "<style>" in page
        assert not re.search(r"<link|\bsrc=|@import|url\(|https?://(?!www\.w3\.org/)", page)
        assert "ipywidgets" not in page
    uid1, uid2 = (re.match(r'<div id="(cr[0-9a-f]+)"', p).group(1) for p in (one, two))
    assert uid1 != uid2
    assert all(i.startswith(uid1) for i in fragment_ids(one))
    assert not set(fragment_ids(one)) & set(fragment_ids(two))
    data = json.loads(re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', one, re.S)
                      .group(1))
    assert [d["text"] for d in data["steps"]] == [t["text"] for t in s.steps]
    assert f'id="{uid1}-v2"' in one and f'id="{uid1}-v1in0"' in one  # node a, edge a -> d


def test_save_writes_a_standalone_page_with_one_svg(tmp_path):
    from nn import Neuron
    n = Neuron(3, activation="tanh", seed=1)
    out = n([0.5, -1.0, 2.0])
    path = step_through(out).save(tmp_path / "neuron.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 1 and '<meta charset="utf-8">' in page
    assert len(page) < 60_000


def test_stepper_string_lists_every_formula():
    L, *_ = small()
    assert str(step_through(L)).splitlines()[0] == "d = a * b = 2 × 3 = 6"


def test_refuses_huge_graphs_and_non_values():
    x = Value(1.0)
    y = x
    for _ in range(600):
        y = y * 1.0001
    with pytest.raises(ValueError, match="more than max_nodes=500"):
        step_through(y)
    assert len(step_through(y, max_nodes=1000).steps) == 600 + 1 + 600
    with pytest.raises(TypeError, match="must be a Value"):
        step_through(3.0)


def test_saved_page_is_the_same_file_for_the_same_graph(tmp_path):
    L, *_ = small()
    first, second = tmp_path / "1.html", tmp_path / "2.html"
    step_through(L).save(first)
    step_through(small()[0]).save(second)
    assert first.read_bytes() == second.read_bytes()
