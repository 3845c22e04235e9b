import re
import shutil
import time

import graphviz
import pytest
from hypothesis import given

from autograd import Value, draw, linear
from autograd.render import GraphvizNotInstalled, walk
from autograd.testing import expressions

EDGE = re.compile(r"^\s*(v\d+) -> (v\d+)op\b", re.M)


def require_dot():
    assert shutil.which("dot"), "Graphviz's `dot` is missing: install it with `sudo apt-get install graphviz`"


def neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def test_labels_data_grads_and_ops_are_in_the_dot():
    src = draw(neuron()).source
    for label in ("x1", "x2", "w1", "w2", "b", "n", "o"):
        assert f"<b>{label}</b>" in src
    # micrograd's neuron: o = 0.7071, do/dn = 0.5, dx1 = w1 * 0.5 = -1.5, dw1 = x1 * 0.5 = 1
    assert "data 0.7071" in src and "data 0.8814" in src and "data 6.881" in src
    assert "grad 0.5" in src and "grad -1.5" in src and "grad 1<" in src
    assert re.search(r'label=tanh\b', src) and src.count('label="+"') == 2 and src.count('label="*"') == 2


def test_show_grad_false_hides_grads():
    src = draw(neuron(), show_grad=False).source
    assert "grad " not in src and "data 0.7071" in src


def test_constants_of_one_child_nodes_are_shown():
    x = Value(2.0, label="x")
    src = draw((3 - x * 3) ** 2 + x.leaky_relu(0.1)).source
    assert 'label="* 3"' in src and 'label="3 -"' in src and 'label="** 2"' in src
    assert 'label="leaky_relu(·, 0.1)"' in src


def test_names_come_from_traversal_order_never_id():
    y = neuron()
    src = draw(y).source
    order, _ = walk(y)
    assert all(str(id(v)) not in src for v in order)
    assert sorted(set(re.findall(r"^\s*(v\d+) \[", src, re.M)), key=lambda s: int(s[1:])) == \
        [f"v{i}" for i in range(len(order))]
    assert re.search(r"^\s*v0 \[.*<b>o</b>", src, re.M)  # the root comes first


def test_dot_and_svg_are_deterministic():
    require_dot()
    a, b = draw(neuron(), show_edges=True), draw(neuron(), show_edges=True)
    assert a.source == b.source
    assert a.pipe(format="svg") == b.pipe(format="svg")


def test_operand_used_twice_gets_two_edges_with_local_and_contribution():
    a = Value(2.0, label="a")
    y = a * a
    y.backward()
    src = draw(y, show_edges=True).source
    assert EDGE.findall(src) == [("v1", "v0"), ("v1", "v0")]
    assert src.count('label="local 2\n+= 2 × 1 = 2"') == 2
    assert "<b>a</b></td><td>data 2</td><td>grad 4</td>" in src
    assert "local" not in draw(y).source  # only on request


@given(expressions(n_inputs=3, max_ops=10))
def test_one_edge_per_operand_occurrence(case):
    fn, xs = case
    out = fn(*[Value(x) for x in xs])
    order, index = walk(out)
    edges = EDGE.findall(draw(out).source)
    expected = [(f"v{index[c]}", f"v{i}") for i, v in enumerate(order) for c in v.children]
    assert edges == expected


def test_linear_node_is_drawn_with_all_its_value_operands():
    ws = [Value(1.0, label="w0"), Value(2.0, label="w1")]
    out = linear(ws, [3.0, 4.0], Value(0.5, label="b"))
    src = draw(out).source
    assert "label=linear" in src and len(EDGE.findall(src)) == 3


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match="root must be a Value"):
        draw(1.0)
    with pytest.raises(ValueError, match="rankdir"):
        draw(Value(1.0), rankdir="XY")
    with pytest.raises(ValueError, match="max_nodes"):
        draw(Value(1.0), max_nodes=0)


def test_rankdir_is_passed_to_graphviz():
    assert "rankdir=TB" in draw(neuron(), rankdir="TB").source


# -- collapsing -----------------------------------------------------------------------------
def scoped_net(layers=(20, 12, 3), nin=30):
    """An MLP-like graph built by hand, each neuron's nodes carrying nn's `.scope`."""
    xs = [Value(0.01 * i, label=f"x{i}") for i in range(nin)]
    for li, width in enumerate(layers):
        outs = []
        for ni in range(width):
            scope = f"layers.{li}.neurons.{ni}"
            ws = [Value(0.1, label=f"{scope}.w.{k}") for k in range(len(xs))]
            bias = Value(0.0, label=f"{scope}.b")
            terms = [w * x for w, x in zip(ws, xs)]
            for t in terms:
                t.scope = scope
            s = sum(terms, bias)
            act = s.tanh()
            for v in walk(act)[0]:
                if v._op is not None and v.scope is None and v not in xs:
                    v.scope = scope
            outs.append(act)
        xs = outs
    loss = sum(xs[1:], xs[0])
    loss.backward()
    return loss


def test_small_graph_is_not_collapsed():
    y = neuron()
    assert "nodes hidden" not in draw(y, max_nodes=len(walk(y)[0])).source


def test_collapse_to_one_box_per_neuron():
    loss = scoped_net()
    n = len(walk(loss)[0])
    assert n > 2000
    src = draw(loss, max_nodes=200).source
    boxes = re.findall(r"label=<layers\.(\d+)\.neurons\.(\d+)<br/>(\d+) nodes hidden", src)
    assert len(boxes) == 20 + 12 + 3
    # layer 0 neuron: 30 weights + bias + 30 products + 30 adds + tanh
    assert ("0", "0", str(30 + 1 + 30 + 30 + 1)) in boxes
    assert "x0" in src  # unscoped inputs stay individual (30 + 35 boxes + 2 adds fit in 200)
    assert len(src.splitlines()) < 1000


def test_collapse_per_layer_then_leaves_then_truncate():
    loss = scoped_net()
    src = draw(loss, max_nodes=40).source
    layers = re.findall(r"label=<(layers\.\d+)<br/>(\d+) nodes hidden", src)
    assert [name for name, _ in layers] == ["layers.2", "layers.1", "layers.0"]
    assert "layers.0.neurons" not in src
    src = draw(loss, max_nodes=6).source
    assert "leaves<br/>30 nodes hidden" in src
    # An unscoped chain has nothing to group by: keep the boxes nearest the root.
    x = Value(0.5, label="x")
    y = x
    for _ in range(3000):
        y = (y * 0.999).tanh()
    src = draw(y, max_nodes=50).source
    assert len(re.findall(r"^\s*(?:v|g)\d+ \[", src, re.M)) <= 50
    assert "… the rest" in src


def test_collapsed_mlp_784_16_16_10_renders_in_seconds():
    require_dot()
    from nn import MLP, cross_entropy
    model = MLP(784, [16, 16, 10], seed=0)
    loss = cross_entropy(model([(i % 7) / 7 for i in range(784)]), 3)
    loss.backward()
    start = time.perf_counter()
    graph = draw(loss)
    svg = graph.pipe(format="svg")
    seconds = time.perf_counter() - start
    lines = len(graph.source.splitlines())
    assert lines < 3000, lines
    assert seconds < 10, seconds
    assert svg.startswith(b"<?xml") and svg.count(b"nodes hidden") == 16 + 16 + 10
    assert graph.source.count("layers.0.neurons.") == 16


# -- without Graphviz -----------------------------------------------------------------------
def test_without_dot_draw_returns_source_and_rendering_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot`
    g = draw(neuron())
    assert isinstance(g, graphviz.Digraph) and "data 0.7071" in g.source
    for render in (lambda: g.pipe(format="svg"),
                   lambda: g.render(tmp_path / "out", format="svg"),
                   lambda: g._repr_mimebundle_()):
        with pytest.raises(GraphvizNotInstalled, match="apt-get install graphviz") as e:
            render()
        assert isinstance(e.value, RuntimeError) and isinstance(e.value, graphviz.ExecutableNotFound)
