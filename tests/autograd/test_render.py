import base64
import os
import re
import shutil

import graphviz
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, draw, linear
from autograd.dot import PNG_SIGNATURE, LayoutError, LayoutTimeout, png_size
from autograd.render import GraphvizNotInstalled, walk
from autograd.testing import expressions
from benchmarks.drawing import mnist_loss, moons_loss  # the graphs the drawing benchmark times

EDGE = re.compile(r"^\s*(v\d+) -> (v\d+)op\b", re.M)
MARK = "#c62828"


def require_dot():
    assert shutil.which("dot"), "Graphviz's `dot` is missing: install it with `sudo apt-get install graphviz`"


def svg_px(svg):
    """(width, height) of an SVG in CSS pixels (Graphviz writes points: 4/3 px each)."""
    w, h = re.search(rb'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups()
    return float(w) * 4 / 3, float(h) * 4 / 3


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
    assert draw(moons_loss(3)).source == draw(moons_loss(3)).source


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


def test_linear_node_is_drawn_with_all_its_value_operands_in_order():
    ws = [Value(1.0, label="w0"), Value(2.0, label="w1")]
    out = linear(ws, [3.0, 4.0], Value(0.5, label="b"))
    src = draw(out).source
    assert "label=linear" in src and len(EDGE.findall(src)) == 3
    assert re.search(r"^\s*v0op \[.*label=linear.*ordering=in", src, re.M)  # w.0, w.1, then b
    assert [int(j) for j in re.findall(r"-> v0op \[id=v0in(\d)", src)] == [0, 1, 2]


# -- operand order --------------------------------------------------------------------------
def edge_names(src):
    """{(child label, op): headlabel} for every edge with an operand name."""
    labels = dict(re.findall(r"^\s*(v\d+) \[label=<<table.*?<b>(\w+)</b>", src, re.M))
    return {(labels[a], b): n for a, b, n in
            re.findall(r"^\s*(v\d+) -> (v\d+)op \[[^\]]*headlabel=(\w+)", src, re.M)}


def test_operand_order_of_minus_divide_and_power_is_drawn():
    a, b = Value(3.0, label="a"), Value(2.0, label="b")
    for y, names in ((a - b, ("x", "y")), (b - a, ("y", "x")), (a / b, ("x", "y")),
                     (b / a, ("y", "x")), (a ** b, ("base", "exp")), (b ** a, ("exp", "base"))):
        assert edge_names(draw(y).source) == {("a", "v0"): names[0], ("b", "v0"): names[1]}, y.op
    # Order-free ops name nothing; a single-Value op shows its constant in the op instead.
    assert "headlabel" not in draw(a * b + a).source + draw(2 - a).source + draw(a ** 2).source
    src = draw(a - a).source  # the same value on both sides: two edges, both named
    assert sorted(re.findall(r"headlabel=(\w+)", src)) == ["x", "y"]


# -- Jupyter display --------------------------------------------------------------------------
def test_mimebundle_holds_svg_and_a_png_of_the_same_size_and_short_text():
    require_dot()
    g = draw(neuron())
    data, meta = g._repr_mimebundle_()
    assert set(data) == {"image/svg+xml", "image/png", "text/plain"}
    png = base64.b64decode(data["image/png"])
    assert png.startswith(PNG_SIGNATURE) and len(png) > 1000
    assert png[25] == 3  # palette colour (Pillow, from the notebooks extra): a small notebook
    width, height = png_size(png)
    assert meta == {"image/png": {"width": width, "height": height}}
    w, h = svg_px(data["image/svg+xml"].encode())
    assert abs(width - w) <= 2 and abs(height - h) <= 2, (width, height, w, h)
    assert data["image/svg+xml"].lstrip().startswith("<?xml") and "data 0.7071" in data["image/svg+xml"]
    assert data["text/plain"] == "<autograd.render.Graph: 10 values>" == repr(g)
    only, _ = g._repr_mimebundle_(include=["image/png"])
    assert list(only) == ["image/png"]


def test_pipe_and_render_keep_working(tmp_path):
    require_dot()
    g = draw(neuron())
    assert isinstance(g, graphviz.Digraph)
    assert g.pipe(format="svg").startswith(b"<?xml") and g.pipe(format="png").startswith(PNG_SIGNATURE)
    assert g.pipe(format="svg", encoding="utf-8").startswith("<?xml")
    out = g.render(tmp_path / "n", format="svg")
    assert out == str(tmp_path / "n.svg") and open(out, "rb").read().startswith(b"<?xml")
    assert open(tmp_path / "n").read() == g.source
    with pytest.raises(LayoutError, match="nonsense") as e:
        g.pipe(format="nonsense")
    assert isinstance(e.value, graphviz.CalledProcessError) and isinstance(e.value, RuntimeError)
    out = g.render(outfile=tmp_path / "m.png", cleanup=True)
    assert open(out, "rb").read().startswith(PNG_SIGNATURE) and not os.path.exists(tmp_path / "m")


# -- never hang -------------------------------------------------------------------------------
def sum_of(n, distinct):
    xs = [Value(float(i), label=f"x{i}") for i in range(n)] if distinct else [Value(1.0, label="x")] * n
    y = xs[0]
    for x in xs[1:]:
        y = y + x
    y.backward()
    return y


@pytest.mark.parametrize("n, distinct", [(100, False), (251, True), (500, True), (80, False)])
def test_long_sums_draw_as_a_few_boxes_with_counted_edges(n, distinct):
    require_dot()
    g = draw(sum_of(n, distinct))
    src = g.source
    assert f"sum: {n - 1} × +" in src
    assert re.search(rf'-> g\d+ \[label="×{n}"\]', src), src  # one edge for all n operands
    if distinct:
        assert f"{n} leaves" in src and "x0, x1, …, x" in src
    svg = g.pipe(format="svg")
    assert svg.startswith(b"<?xml") and svg_px(svg)[0] < 600


def test_a_hopeless_layout_is_stopped_with_a_clear_error():
    require_dot()
    x = Value(0.5, label="x")
    y = x
    for _ in range(150):
        y = (y * 0.999).tanh()
    g = draw(y, timeout=0.001)  # far too little for any layout: the limit must trigger
    for render in (lambda: g.pipe(format="svg"), lambda: g._repr_mimebundle_()):
        with pytest.raises(LayoutTimeout, match=r"301 values.*within 0.001 s.*max_nodes") as e:
            render()
        assert isinstance(e.value, RuntimeError)
    children = [p for p in os.listdir("/proc") if p.isdigit() and _parent(p) == os.getpid()]
    assert not children, "the stopped Graphviz process must not be left running"
    with pytest.raises(ValueError, match="timeout"):
        draw(y, timeout=0)


def _parent(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


# -- readable networks ------------------------------------------------------------------------


def neuron_boxes(src, layer):
    return [int(n) for n in re.findall(rf"label=<<b>neurons\.(\d+)</b>", _cluster(src, layer))]


def _cluster(src, layer):
    m = re.search(rf"subgraph cluster_\d+ {{\n[^\n]*label=\"{re.escape(layer)}\"(.*?)\n\t}}", src, re.S)
    assert m, f"no cluster for {layer}"
    return m.group(1)


def test_one_sample_moons_loss_is_one_box_per_neuron_in_module_order_and_fits_a_screen():
    require_dot()
    g = draw(moons_loss(1))
    src = g.source
    assert neuron_boxes(src, "layers.0") == list(range(16))
    assert neuron_boxes(src, "layers.1") == list(range(16))
    assert neuron_boxes(src, "layers.2") == [0]
    # 256 edges between the two hidden layers: one edge, from cluster to cluster, counted.
    bundles = re.findall(r'-> g\d+ \[label="(\d+)→(\d+)\n×(\d+)" lhead=(cluster_\d+) ltail=(cluster_\d+)', src)
    assert ("16", "16", "256") in [b[:3] for b in bundles] and ("16", "1", "16") in [b[:3] for b in bundles]
    assert len(re.findall(r"^\s*g\d+ -> g\d+", src, re.M)) == len(bundles) + 15 + 15 + 0  # + stacking
    w, h = svg_px(g.pipe(format="svg"))
    assert w <= 1900 and h <= 1400, (w, h)


def test_batch_moons_loss_fits_a_screen():
    require_dot()
    g = draw(moons_loss(100))
    src = g.source
    assert "sum: 100 × +" in src and "sum: 337 × +" in src  # data loss, then L2 over 337 weights
    assert "100 × (* → 1 + → relu)" in src  # the samples, folded (× ±1: the label)
    w, h = svg_px(g.pipe(format="svg"))
    assert w <= 1900 and h <= 500, (w, h)


def test_784_16_16_10_loss_fits_a_screen_in_seconds():
    require_dot()
    g = draw(mnist_loss())
    src = g.source
    assert len(src.splitlines()) < 400
    assert neuron_boxes(src, "layers.0") == list(range(16)) and neuron_boxes(src, "layers.2") == list(range(10))
    assert "787 values, 785 leaves" in src  # 784 weights, a bias, linear, relu
    assert re.search(r'label="16→16\n×256"', src) and re.search(r'label="16→10\n×160"', src)
    # the ten logits' z - max and exp are one box, fed by one edge from layers.2
    assert "<b>10 × (- → exp)</b>" in src and re.search(r'label="10→1\n×10" ltail=cluster_2', src)
    w, h = svg_px(g.pipe(format="svg"))
    assert w <= 1800 and h <= 1400, (w, h)


# -- folding --------------------------------------------------------------------------------
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
            s = sum(terms, bias)
            act = s.tanh()
            for v in walk(act)[0]:
                if not v.is_leaf and v.scope is None and v not in xs:
                    v.scope = scope
            outs.append(act)
        xs = outs
    loss = sum(xs[1:], xs[0])
    loss.backward()
    return loss


def test_small_graph_is_not_folded():
    y = neuron()
    src = draw(y, max_nodes=len(walk(y)[0])).source
    assert "values" not in src and "cluster" not in src


def test_fold_to_one_box_per_neuron():
    loss = scoped_net()
    assert len(walk(loss)[0]) > 2000
    src = draw(loss, max_nodes=200).source
    # layer 0 neuron: 30 weights + bias + 30 products + 30 adds + tanh
    assert "<b>neurons.0</b><br/>92 values, 31 leaves" in src
    assert [len(neuron_boxes(src, f"layers.{i}")) for i in range(3)] == [20, 12, 3]
    # 30 inputs each feeding all of layers.0 would join that layer to 30 boxes: one box,
    # and one edge into the layer for its 30 × 20 uses.
    assert "<b>30 leaves</b><br/>x0, x1, …, x29" in src and "<b>x0</b>" not in src
    assert re.search(r'-> g\d+ \[label="1→20\n×600" lhead=cluster_0', src)
    src = draw(scoped_net(nin=3), max_nodes=200).source  # 3 inputs are few enough to show
    assert "<b>x0</b>" in src and "leaves</b>" not in src


def test_fold_per_layer_then_truncate():
    loss = scoped_net()
    src = draw(loss, max_nodes=6).source
    layers = re.findall(r"label=<<b>(layers\.\d+)</b><br/>(\d+) values", src)
    assert [name for name, _ in layers] == ["layers.2", "layers.1", "layers.0"]
    assert "neurons" not in src and "30 leaves" in src
    # An unscoped chain has nothing to group by: keep the boxes nearest the root.
    x = Value(0.5, label="x")
    y = x
    for _ in range(3000):
        y = (y * 0.999).tanh()
    src = draw(y, max_nodes=50).source
    assert len(re.findall(r"^\s*(?:v|g)\d+ \[", src, re.M)) <= 50
    assert "… the rest" in src


@given(expressions(n_inputs=4, max_ops=40), st.integers(2, 30))
def test_a_drawing_never_has_more_boxes_than_max_nodes(case, max_nodes):
    fn, xs = case
    out = fn(*[Value(x) for x in xs])
    src = draw(out, max_nodes=max_nodes).source
    boxes = re.findall(r"^\s*([vg]\d+) \[", src, re.M)
    assert 1 <= len(boxes) <= max_nodes
    # every value is in exactly one box: the folded boxes' counts and the plain values add up
    n = len(walk(out)[0])
    folded = sum(int(k) for k in re.findall(r"<br/>(\d+) values", src))
    named = re.findall(r"<b>(\d+) leaves</b>", src)
    plain = len([b for b in boxes if b.startswith("v")])
    assert folded + sum(map(int, named)) + plain == n or "the rest" in src


@settings(max_examples=25)
@given(st.integers(1, 30), st.lists(st.integers(1, 20), min_size=1, max_size=3), st.booleans(),
       st.integers(20, 500))
def test_any_mlp_loss_draws_as_neurons_in_module_order_or_as_layers(nin, widths, fused, max_nodes):
    from nn import MLP
    model = MLP(nin, widths + [1], seed=0, fused=fused)
    loss = (model([0.1 * k for k in range(nin)]) - 1.0) ** 2
    src = draw(loss, max_nodes=max_nodes).source
    assert len(re.findall(r"^\s*([vg]\d+) \[", src, re.M)) <= max_nodes
    clusters = re.findall(r'subgraph cluster_\d+ {\n[^\n]*label="(layers\.\d+)"', src)
    if "cluster" in src:
        assert clusters == [f"layers.{i}" for i in range(len(widths) + 1)]
        for i, w in enumerate(widths + [1]):
            assert neuron_boxes(src, f"layers.{i}") == list(range(w))
    elif "values" in src:  # folded further: one box per layer
        assert re.findall(r"<b>(layers\.\d+)</b>", src) == [f"layers.{i}" for i in reversed(range(len(widths) + 1))]


def test_fan_out_decides_folding_not_the_value_count():
    few = sum_of(10, False)   # x used 10 times: drawn value by value
    assert "sum:" not in draw(few).source
    many = sum_of(30, False)  # 59 values, far under max_nodes, but x joins 30 ops
    assert "sum: 29 × +" in draw(many).source


# -- highlight, dead and saturated -------------------------------------------------------------
def marked_nodes(src):
    return {n for n, attrs in re.findall(r"^\s*(v\d+) \[(.*)$", src, re.M) if MARK in attrs}


def marked_edges(src):
    return {(a, b) for a, b, attrs in re.findall(r"^\s*(v\d+) -> (v\d+)op \[(.*)$", src, re.M) if MARK in attrs}


@given(expressions(n_inputs=3, max_ops=10), st.data())
def test_highlight_marks_exactly_the_node_and_its_paths_to_the_root(case, data):
    fn, xs = case
    out = fn(*[Value(x) for x in xs])
    order, index = walk(out)
    h = data.draw(st.sampled_from(order))
    src = draw(out, highlight=h).source
    on = {v for v in order if v is h or _depends_on(v, h)}
    assert marked_nodes(src) == {f"v{index[v]}" for v in on}
    assert marked_edges(src) == {(f"v{index[c]}", f"v{index[v]}") for v in on for c in v.children if c in on}


def _depends_on(v, h):
    stack, seen = list(v.children), set()
    while stack:
        c = stack.pop()
        if c is h:
            return True
        if c not in seen:
            seen.add(c)
            stack.extend(c.children)
    return False


def test_highlight_of_a_list_and_inside_a_folded_box():
    y = neuron()
    order, index = walk(y)
    x1 = next(v for v in order if v.label == "x1")
    x2 = next(v for v in order if v.label == "x2")
    src = draw(y, highlight=[x1, x2]).source
    assert len(marked_nodes(src)) == 2 + 2 + 1 + 1 + 1  # x1, x2, both products, both sums (n), o
    loss = mnist_loss()
    w = next(v for v in walk(loss)[0] if v.label == "layers.1.neurons.4.w.2")
    src = draw(loss, highlight=w).source
    marked = re.findall(rf"label=<<b>([\w.]+)</b>[^\n]*color=\"{MARK}\"", src)
    # its box in layers.1, then every neuron of layers.2 (all use it), then the loss's values
    assert marked == ["neurons.4"] + [f"neurons.{i}" for i in range(10)]
    assert re.search(rf'label="16→10\n×160"[^\n]*color="{MARK}"', src)  # and on to layer 2
    with pytest.raises(ValueError, match="not part of the graph"):
        draw(y, highlight=Value(1.0))
    with pytest.raises(TypeError, match="highlight"):
        draw(y, highlight=[x1, "x2"])


def test_folding_keeps_a_highlighted_path_apart_from_its_parallel_copies():
    w0, w1, b = Value(0.5, label="w0"), Value(-0.2, label="w1"), Value(0.1, label="b")
    loss = sum(((0.1 * k) * w0 + (1 - 0.05 * k) * w1 + b - (k % 3)) ** 2 for k in range(30))
    src = draw(loss, highlight=w0, max_nodes=20).source
    boxes = {title: MARK in line for line in src.splitlines()
             for title in re.findall(r"<b>([^<]+)</b>", line)}
    assert boxes["w0"] and not boxes["w1"] and not boxes["b"]
    products = [line for line in src.splitlines() if "<b>30 × *" in line]
    assert len(products) == 2 and sum(MARK in line for line in products) == 1  # w0's, not w1's


def test_dead_units_are_greyed_and_saturated_ones_marked():
    loss = moons_loss(1)
    src = draw(loss, dead={"layers.0.neurons.3", "layers.1.neurons.7"},
               saturated={"layers.1.neurons.2"}).source
    style = dict(re.findall(r"label=<<b>(neurons\.\d+)</b>.*?fillcolor=\"(#\w+)\"", _cluster(src, "layers.0")))
    assert style["neurons.3"] == "#e0e0e0" and style["neurons.4"] == "#eef3fb"
    style = dict(re.findall(r"label=<<b>(neurons\.\d+)</b>.*?fillcolor=\"(#\w+)\"", _cluster(src, "layers.1")))
    assert style["neurons.7"] == "#e0e0e0" and style["neurons.2"] == "#fff3e0" and style["neurons.0"] == "#eef3fb"
    # Drawn value by value, a dead neuron's values are grey (its parameters by their labels).
    from nn import MLP
    small = MLP(2, [2, 1], seed=0)([1.0, -1.0])
    src = draw(small, dead={"layers.0.neurons.1"}).source
    grey = [line for line in src.splitlines() if 'bgcolor="#e0e0e0"' in line]
    assert sorted(re.search(r"<b>([\w.]+)</b>", line)[1] for line in grey if "<b>" in line) == \
        ["layers.0.neurons.1.b", "layers.0.neurons.1.w.0", "layers.0.neurons.1.w.1"]
    assert len(grey) == 3 + 2  # and its linear and relu values
    # Folded per layer, the layer's box lists them.
    src = draw(loss, max_nodes=8, dead={"layers.0.neurons.3"}).source
    assert "dead: neurons.3" in src
    with pytest.raises(TypeError, match="dead"):
        draw(loss, dead="layers.0.neurons.3")


# -- arguments and missing Graphviz -----------------------------------------------------------
def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match="root must be a Value"):
        draw(1.0)
    with pytest.raises(ValueError, match="rankdir"):
        draw(Value(1.0), rankdir="XY")
    with pytest.raises(ValueError, match="max_nodes"):
        draw(Value(1.0), max_nodes=0)
    with pytest.raises(TypeError, match="saturated"):
        draw(Value(1.0), saturated=[3])


def test_rankdir_is_passed_to_graphviz():
    assert "rankdir=TB" in draw(neuron(), rankdir="TB").source


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
    assert not os.path.exists(tmp_path / "out")  # nothing half-written


def test_a_bundle_whose_svg_never_ends_is_an_incomplete_layout():
    from autograd.dot import _split
    svg, rest = b"<svg>\n</svg>\n", b"digraph {}\n"
    assert _split(svg + rest, ["svg", "dot"]) == [svg, rest]
    with pytest.raises(LayoutError, match="incomplete"):   # no </svg>: nothing to cut at
        _split(b"<svg>\n" + rest, ["svg", "dot"])
