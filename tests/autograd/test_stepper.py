import html
import json
import math
import re
import urllib.parse

import pytest
from hypothesis import given

from autograd import Value, linear, step_through, topo_order
from autograd.stepper import _atom
from autograd.files import UnwritablePath
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
    steps = step_through(L).steps
    assert [{k: v for k, v in s.items() if k != "ask"} for s in steps] == [
        {"phase": "forward", "node": "n1", "value": 6.0, "text": "d = a * b = 2 × 3 = 6"},
        {"phase": "forward", "node": "n0", "value": 8.0, "text": "L = d + a = 6 + 2 = 8"},
        {"phase": "backward", "node": "n0", "grad": 1.0, "text": "∂L/∂L = 1"},
        {"phase": "backward", "node": "n1", "parent": "n0", "edge": "n0in0", "local": 1.0,
         "upstream": 1.0, "product": 1.0, "grad": 1.0,
         "text": "∂L/∂d += ∂(d + a)/∂d × ∂L/∂L = 1 × 1 = 1 → ∂L/∂d = 1"},
        {"phase": "backward", "node": "n2", "parent": "n0", "edge": "n0in1", "local": 1.0,
         "upstream": 1.0, "product": 1.0, "grad": 1.0,
         "text": "∂L/∂a += ∂(d + a)/∂a × ∂L/∂L = 1 × 1 = 1 → ∂L/∂a = 1"},
        {"phase": "backward", "node": "n2", "parent": "n1", "edge": "n1in0", "local": 3.0,
         "upstream": 1.0, "product": 3.0, "grad": 4.0,
         "text": "∂L/∂a += ∂d/∂a × ∂L/∂d = 3 × 1 = 3 → ∂L/∂a = 1 + 3 = 4"},
        {"phase": "backward", "node": "n3", "parent": "n1", "edge": "n1in1", "local": 2.0,
         "upstream": 1.0, "product": 2.0, "grad": 2.0,
         "text": "∂L/∂b += ∂d/∂b × ∂L/∂d = 2 × 1 = 2 → ∂L/∂b = 2"},
    ]
    assert steps[5]["ask"] == "∂L/∂a += ∂d/∂a × ∂L/∂d = ? × 1 = ?"


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
    # unlabelled nodes are numbered as the forward pass computes them
    assert texts == ["n = w0·x + w1·2 + b = 0.5×(-1.5) + (-1)×2 + 0.1 = -2.65",
                     "v1 = -x = -(-1.5) = 1.5",
                     "z = leaky_relu(v1, 0.1) = leaky_relu(1.5, 0.1) = 1.5",
                     "v2 = x * 3 = (-1.5) × 3 = -4.5",
                     "v3 = 2 - v2 = 2 - (-4.5) = 6.5",
                     "y = tanh(v3) = tanh(6.5) = 1",
                     "v4 = y + z = 1 + 1.5 = 2.5",
                     "L = v4 + n = 2.5 + (-2.65) = -0.15"]


def test_compound_labels_are_bracketed_and_inputs_named_in_order():
    a = Value(0.6, label="a(L-1)")
    e = a - 1.0
    e.label = "a - y"
    C = e ** 2
    C.label = "C₀"
    texts = [s["text"] for s in step_through(C).steps]
    assert texts[1] == "C₀ = (a - y) ** 2 = (-0.4) ** 2 = 0.16"
    assert texts[3] == ("∂C₀/∂(a - y) += ∂((a - y) ** 2)/∂(a - y) × ∂C₀/∂C₀ = (-0.8) × 1 = -0.8"
                        " → ∂C₀/∂(a - y) = -0.8")
    assert texts[4].startswith("∂C₀/∂a(L-1) += ∂(a - y)/∂a(L-1) × ∂C₀/∂(a - y)")
    u, w = Value(2.0), Value(3.0)
    assert str(step_through(u * w + u)).splitlines()[:2] == ["v1 = x1 * x2 = 2 × 3 = 6",
                                                             "L = v1 + x1 = 6 + 2 = 8"]


@pytest.mark.parametrize("label", ["a", "C₀", "a(L-1)", "w[0]", "x_1"])
def test_atomic_labels_are_not_bracketed(label):
    assert _atom(label) == label


@pytest.mark.parametrize("label", ["a - y", "a−y", "w·a", "-x", "x**2", "a b", "f(x)+1"])
def test_compound_labels_are_bracketed(label):
    assert _atom(label) == f"({label})"


def test_stepper_never_touches_grads():
    L, a, b, d = small()
    step_through(L)
    assert [v.grad for v in (L, a, b, d)] == [0.0] * 4
    L.backward()
    before = [v.grad for v in (L, a, b, d)]
    step_through(L)
    assert [v.grad for v in (L, a, b, d)] == before == [1.0, 4.0, 2.0, 1.0]


@given(expressions(n_inputs=3, max_ops=10))
def test_steps_replay_the_engines_order_and_land_on_backwards_grads(case):
    fn, xs = case
    inputs = [Value(x) for x in xs]
    out = fn(*inputs)
    s = step_through(out)
    out.backward()
    order, index = walk(out)
    topo = topo_order(out)
    ids = [f"n{index[v]}" for v in topo]
    assert [t["node"] for t in s.steps if t["phase"] == "forward"] == ids[::-1]
    products = [t for t in s.steps if "parent" in t]
    assert [(t["parent"], t["edge"]) for t in products] == [
        (f"n{index[v]}", f"n{index[v]}in{j}") for v in topo for j in range(len(v.children))]
    for v in order:
        assert math.isclose(s.grads[v], v.grad, rel_tol=1e-9, abs_tol=1e-12)
    # computed nodes are named v1, v2, ... in the order the forward pass computes them
    unlabelled = [s.name(v) for v in topo[::-1] if v is not out and not v.label]
    assert unlabelled == [f"v{k}" for k in range(1, len(unlabelled) + 1)]


@given(expressions(n_inputs=3, max_ops=10))
def test_forward_mode_tangents_equal_the_reverse_gradients(case):
    fn, xs = case
    inputs = [Value(x) for x in xs]
    out = fn(*inputs)
    reverse = step_through(out)
    for x in inputs:
        if x not in walk(out)[1]:
            continue
        fwd = step_through(out, mode="forward", wrt=x)
        assert math.isclose(fwd.tangents.get(out, 0.0), reverse.grads[x], rel_tol=1e-9, abs_tol=1e-12)
        # one product per edge along which x reaches the output, each child before its parent
        known = {f"n{walk(out)[1][x]}"}
        for t in fwd.steps:
            if "child" in t:
                assert t["child"] in known and math.isclose(t["product"], t["local"] * t["upstream"])
                known.add(t["node"])


def test_forward_mode_text_and_errors():
    L, a, b, d = small()
    fwd = step_through(L, mode="forward", wrt=b)
    assert str(fwd).splitlines() == [
        "d = a * b = 2 × 3 = 6", "L = d + a = 6 + 2 = 8", "db/db = 1",
        "dd/db += ∂d/∂b × db/db = 2 × 1 = 2 → dd/db = 2",
        "dL/db += ∂(d + a)/∂d × dd/db = 1 × 2 = 2 → dL/db = 2"]
    with pytest.raises(TypeError, match="needs wrt"):
        step_through(L, mode="forward")
    with pytest.raises(ValueError, match="not in the graph"):
        step_through(L, mode="forward", wrt=Value(1.0))
    with pytest.raises(ValueError, match="wrt is for mode='forward'"):
        step_through(L, wrt=a)
    with pytest.raises(ValueError, match="mode must be"):
        step_through(L, mode="backward")
    with pytest.raises(TypeError, match="quiz must be"):
        step_through(L, quiz="yes")


def fragment_ids(fragment):
    return re.findall(r'\bid="([^"]+)"', fragment)


def test_html_fragment_is_self_contained_and_ids_are_unique_per_display():
    L, *_ = small()
    s = step_through(L)
    one, two = s._repr_html_(), s._repr_html_()
    for page in (one, two):
        assert page.count("<svg") == 1 and "<script>" in page and "<style>" in page
        assert not re.search(r"<link|\bsrc=\"(?!data:image/svg\+xml;)|@import|url\(|https?://(?!www\.w3\.org/)", page)
        assert "ipywidgets" not in page
    uid1, uid2 = (re.match(r'<div id="(cr[0-9a-f]+)"', p).group(1) for p in (one, two))
    assert uid1 != uid2
    assert all(i.startswith(uid1) for i in fragment_ids(one))
    assert not set(fragment_ids(one)) & set(fragment_ids(two))
    data = json.loads(re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', one, re.S)
                      .group(1))
    assert [d["text"] for d in data["steps"]] == [t["text"] for t in s.steps]
    assert f'id=&quot;{uid1}-n2&quot;' in one and f'id=&quot;{uid1}-n1in0&quot;' in one  # a, a -> d


def without_scripts(fragment):
    """What JupyterLab's sanitizer leaves of a fragment in an untrusted notebook: script and
    style elements go with their content, svg and other unknown tags with their markup."""
    return re.sub(r"<(script|style)\b.*?</\1>", "", fragment, flags=re.S)


def static_svg(fragment):
    src = re.search(r'<img src="data:image/svg\+xml;utf8,([^"]*)"', fragment).group(1)
    return urllib.parse.unquote(html.unescape(src))


def test_without_scripts_the_fragment_is_a_picture_the_steps_and_a_note():
    L, *_ = small()
    s = step_through(L)
    static = without_scripts(s._repr_html_())
    assert "<svg" not in static.replace("data:image/svg+xml;utf8,<svg", "")
    assert "<button" not in static and "<input" not in static
    assert "run this cell" in static
    assert re.findall(r"<li>(.*?)</li>", static) == [html.escape(t["text"]) for t in s.steps]
    svg = static_svg(static)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    # the end state: every value and every gradient filled in
    assert ">data 8<" in svg and ">grad 4<" in svg and ">grad 2<" in svg


def test_quiz_hides_the_derivative_numbers_but_the_page_can_check_them():
    L, *_ = small()
    q = step_through(L, quiz=True)
    fragment = q._repr_html_()
    static = without_scripts(fragment)
    items = re.findall(r"<li>(.*?)</li>", static)
    assert items[3] == html.escape("∂L/∂d += ∂(d + a)/∂d × ∂L/∂L = ? × 1 = ?")
    assert all(i.endswith("= ?") for i in items[3:])
    assert ">grad ?<" in static_svg(static) and ">grad 4<" not in static_svg(static)
    assert str(q).splitlines()[5] == "∂L/∂a += ∂d/∂a × ∂L/∂d = ? × 1 = ?"
    data = json.loads(re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>',
                                fragment, re.S).group(1))
    assert data["quiz"] is True and data["rtol"] == 1e-6
    quiz = [d["quiz"] for d in data["steps"] if "quiz" in d]
    assert [(x["name"], x["local"], x["product"]) for x in quiz] == [
        ("∂(d + a)/∂d", 1.0, 1.0), ("∂(d + a)/∂a", 1.0, 1.0), ("∂d/∂a", 3.0, 3.0), ("∂d/∂b", 2.0, 2.0)]


@given(expressions(n_inputs=2, max_ops=8))
def test_quiz_payload_holds_each_products_recorded_numbers(case):
    fn, xs = case
    s = step_through(fn(*[Value(x) for x in xs]), quiz=True)
    products = [t for t in s.steps if "parent" in t]
    quiz = [d["quiz"] for d in s._payload()["steps"] if "quiz" in d]
    assert [(q["local"], q["product"], q["ask"]) for q in quiz] == [
        (t["local"], t["product"], t["ask"]) for t in products]
    assert all(q["ask"].endswith("= ?") and q["ask"].startswith(t["text"].split(" = ")[0])
               for q, t in zip(quiz, products))


def test_quiz_numbers_carry_enough_digits_to_check_an_answer_to_1e_6():
    x = Value(0.123456789, label="x")
    y = x.tanh()
    texts = [t["text"] for t in step_through(y, quiz=True).steps]
    assert texts[0] == f"L = tanh(x) = tanh(0.123456789) = {math.tanh(0.123456789):.10g}"
    assert f"{math.tanh(0.123456789):.10g}" == "0.1228333641"


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


def test_save_goes_through_the_atomic_writer(tmp_path):
    L, *_ = small()
    with pytest.raises(UnwritablePath, match="directory"):
        step_through(L).save(tmp_path)
    page = step_through(L).save(tmp_path / "s.html")
    assert "standalone = true" in open(page, encoding="utf-8").read()
    assert "standalone = false" in step_through(L)._repr_html_()


def test_saved_page_is_the_same_file_for_the_same_graph(tmp_path):
    L, *_ = small()
    first, second = tmp_path / "1.html", tmp_path / "2.html"
    step_through(L).save(first)
    step_through(small()[0]).save(second)
    assert first.read_bytes() == second.read_bytes()


def test_the_picture_names_the_operands_where_their_order_matters():
    a, b = Value(-4.0, label="a"), Value(2.0, label="b")
    svg = static_svg(step_through(b - a)._repr_html_())
    assert svg.count(">x</text>") == 1 and svg.count(">y</text>") == 1
    svg = static_svg(step_through(a ** b)._repr_html_())
    assert ">base</text>" in svg and ">exp</text>" in svg
    svg = static_svg(step_through(a + b)._repr_html_())
    assert ">x</text>" not in svg and ">y</text>" not in svg
