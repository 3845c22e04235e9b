"""Draw a computation graph with Graphviz: value boxes (label, data, grad), op ellipses, edges
in the direction data flows.

    >>> a = Value(2.0, label="a"); y = a * a; y.backward()
    >>> svg = draw(y, show_edges=True).pipe(format="svg")   # two edges, each "local 4"

Node names come from a depth-first walk from the root in operand order (`v0` is the root),
never from `id()`, so the same graph always gives the same DOT text and the same SVG. A graph
too big or too tangled to read is drawn with values folded into shared boxes (one per
neuron, per layer, per sum, ...); `collapse.py` decides which. Graphviz runs with a time limit
(`dot.py`), and in Jupyter the drawing is both an SVG and a PNG of the same size, since an
untrusted notebook shows only the PNG.
"""
import base64
import html
import os
import re

import graphviz

from . import collapse
from .dot import GraphvizNotInstalled, LayoutError, LayoutTimeout, png_size, run, size_of  # noqa: F401
from .files import write_atomic
from .ops import COMMUTATIVE, INFIX
from .value import Value

RANKDIRS = ("LR", "TB", "BT", "RL")
TIMEOUT = 20.0  # seconds Graphviz may spend on one layout
_FONT = "Helvetica"
_MARK, _MARK_FILL = "#c62828", "#ffebee"          # highlight: the node and its path
_DEAD, _DEAD_FILL = "#9e9e9e", "#e0e0e0"          # dead units, greyed
_SATURATED, _SATURATED_FILL = "#ef6c00", "#fff3e0"  # saturated units
_BOX_FILL = "#eef3fb"


class Graph(graphviz.Digraph):
    """A graphviz.Digraph that runs Graphviz with a time limit (`.timeout`, seconds) and
    displays in Jupyter as SVG and as a PNG of the same size (shown where SVG is not trusted).

    `.pipe()`, `.render()` and the Jupyter display all lay out through `dot.run`: a missing
    `dot` raises GraphvizNotInstalled, a layout over the limit LayoutTimeout.
    """

    timeout = TIMEOUT
    summary = ""  # what was drawn, e.g. "405 values as 36 boxes"

    def __repr__(self):
        # No memory address, so a notebook's saved outputs do not change from run to run.
        what = self.summary or f"{len(self.body)} DOT statements"
        return f"<autograd.render.Graph: {what}>"

    def _run(self, formats, engine=None):
        what = None
        if self.summary:
            what = "{}, {} boxes and {} edges for Graphviz".format(self.summary, *size_of(self.source))
        return run(self.source, formats, timeout=self.timeout, engine=engine or self.engine, what=what)

    def pipe(self, format=None, renderer=None, formatter=None, quiet=False, *, engine=None,
             encoding=None):
        """The drawing as bytes (str with `encoding`); Graphviz's messages are captured, so
        `quiet` changes nothing."""
        spec = ":".join(p for p in (format or self.format, renderer, formatter) if p)
        out, = self._run([spec], engine)
        return out.decode(encoding) if encoding else out

    def render(self, filename=None, directory=None, view=False, cleanup=False, format=None,
               renderer=None, formatter=None, quiet=False, quiet_view=False, *,
               outfile=None, engine=None, raise_if_result_exists=False, overwrite_source=False):
        """Write the DOT source to `filename` (unless `cleanup`) and the drawing next to it
        (`filename.svg`), or to `outfile`; returns the drawing's path. Files are written whole
        or not at all."""
        if outfile is not None:
            outfile = os.fspath(outfile)
            format = format or os.path.splitext(outfile)[1].lstrip(".") or self.format
        format = format or self.format
        source_path = os.path.join(directory or self.directory or "",
                                   os.fspath(filename) if filename is not None else self.filename)
        if outfile is None:
            suffix = ".".join(p for p in (formatter, renderer, format) if p)
            outfile = f"{source_path}.{suffix}"
        elif directory is not None and not os.path.isabs(outfile):
            outfile = os.path.join(directory, outfile)
        if raise_if_result_exists and os.path.exists(outfile):
            raise graphviz.FileExistsError(f"output file exists: {outfile!r}")
        if not cleanup and not overwrite_source and os.path.abspath(outfile) == os.path.abspath(source_path):
            raise ValueError(f"render: the drawing would overwrite its DOT source {outfile!r}; "
                             f"pass overwrite_source=True or another outfile")
        data = self.pipe(format, renderer, formatter, engine=engine)
        if not cleanup:
            write_atomic(source_path, self.source)
        write_atomic(outfile, data)
        if view or quiet_view:
            self._view(outfile, format=format, quiet=quiet_view)
        return outfile

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        """SVG for trusted views, a PNG of the same size for untrusted ones, and a line of
        text; one layout for all."""
        svg, png = self._run(["svg", "png"])
        png = _fewer_colours(png)
        width, height = png_size(png)
        data = {"image/svg+xml": svg.decode("utf-8"),
                "image/png": base64.b64encode(png).decode("ascii"),
                "text/plain": repr(self)}
        keep = set(include) if include is not None else set(data)
        keep -= set(exclude or ())
        data = {k: v for k, v in data.items() if k in keep}
        return data, {"image/png": {"width": width, "height": height}} if "image/png" in data else {}


def _fewer_colours(png):
    """The PNG with a 32-colour palette instead of Graphviz's 32-bit pixels: a third of the
    bytes or less in a saved notebook, and the same picture (a drawing has a few flat colours plus
    their anti-aliased edges). Needs Pillow (which matplotlib brings); without it, unchanged."""
    try:
        from PIL import Image
    except ImportError:
        return png
    import io
    with Image.open(io.BytesIO(png)) as im:
        im = im.convert("RGBA")
        flat = Image.new("RGBA", im.size, "white")
        flat.alpha_composite(im)
        few = flat.convert("RGB").quantize(colors=32, method=Image.Quantize.MEDIANCUT,
                                          dither=Image.Dither.NONE)
    out = io.BytesIO()
    few.save(out, "PNG", compress_level=9)
    return out.getvalue()


def fmt(x):
    """A number with 4 significant digits, as every box and formula shows it."""
    s = f"{x:.4g}"
    return "0" if s == "-0" else s


def walk(root):
    """Every Value reachable from `root` in depth-first preorder, children in operand order.

    Returns (order, index): the list, and each Value's position in it. Iterative, so deep
    chains need no recursion limit.
    """
    order, index, stack = [], {}, [root]
    while stack:
        v = stack.pop()
        if v in index:
            continue
        index[v] = len(order)
        order.append(v)
        stack.extend(reversed(v.children))
    return order, index


def op_text(v):
    """The op as drawn: its name, plus the plain-number operand of a one-child node
    (`x * 3` draws as `* 3`, `3 - x` as `3 -`)."""
    name = v.op
    operands = v.operands
    if len(operands) == 2 and sum(isinstance(o, Value) for o in operands) == 1:
        const_at = 0 if not isinstance(operands[0], Value) else 1
        c = fmt(operands[const_at])
        if name in INFIX:
            return f"{name} {c}" if const_at == 1 else f"{c} {name}"
        return f"{name}(·, {c})" if const_at == 1 else f"{name}({c}, ·)"
    return name


def operand_names(v):
    """Names drawn at the op end of each edge when operand order matters (`x - y`:
    "x", "y"; `x ** y`: "base", "exp"), else None."""
    if v.is_leaf or len(v.children) != 2 or v.op in COMMUTATIVE:
        return None
    return ("base", "exp") if v.op == "**" else ("x", "y")


def _operand_label(name, second):
    """Edge attributes naming an operand at the op: the first operand's name above its edge,
    the second's below, clear of the arrowheads."""
    return {"headlabel": name, "labelfontsize": "9", "labelfontcolor": "#0d47a1",
            "labeldistance": "1.8", "labelangle": "35" if second else "-35"}


def _check(root, rankdir, max_nodes, timeout):
    if not isinstance(root, Value):
        raise TypeError(f"draw: root must be a Value, got {type(root).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if type(max_nodes) is not int or max_nodes < 2:
        raise ValueError(f"draw: max_nodes must be an int >= 2, got {max_nodes!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"draw: timeout must be a positive number of seconds, got {timeout!r}")


def _values(xs, what):
    """`highlight=`: None, a Value, or an iterable of Values, as a list."""
    if xs is None:
        return []
    if isinstance(xs, Value):
        return [xs]
    if isinstance(xs, (str, bytes)) or not hasattr(xs, "__iter__"):
        raise TypeError(f"draw: {what} must be a Value or a list of Values, got {type(xs).__name__}")
    xs = list(xs)
    for x in xs:
        if not isinstance(x, Value):
            raise TypeError(f"draw: {what} must hold only Values, got {type(x).__name__}: {x!r}")
    return xs


def _scopes(xs, what):
    """`dead=` / `saturated=`: an iterable of neuron paths ("layers.0.neurons.3")."""
    if xs is None:
        return frozenset()
    if isinstance(xs, (str, bytes)) or not hasattr(xs, "__iter__"):
        raise TypeError(f"draw: {what} must be a set of neuron paths such as "
                        f"{{'layers.0.neurons.3'}}, got {type(xs).__name__}")
    xs = frozenset(xs)
    for x in xs:
        if not isinstance(x, str):
            raise TypeError(f"draw: {what} must hold neuron paths (str), got {type(x).__name__}: {x!r}")
    return xs


def new_graph(rankdir, *, timeout=TIMEOUT):
    g = Graph(
        "computation",
        graph_attr={"rankdir": rankdir, "nodesep": "0.25", "ranksep": "0.35",
                    # Cheaper placement passes: the layouts drawn here are narrow DAGs, and
                    # without a limit a wide fan-out can keep network simplex busy for minutes.
                    "nslimit": "2", "nslimit1": "2", "remincross": "false"},
        node_attr={"fontname": _FONT, "fontsize": "11"},
        edge_attr={"fontname": _FONT, "fontsize": "9", "arrowsize": "0.6"},
    )
    g.timeout = timeout
    return g


def value_label(title, data, grad, width=None, *, color=None, fill=None, op=None, grad_name="grad"):
    """HTML-like label: one row of cells [title] | data … | grad … (grad=None hides it).

    `width` is a minimum cell width (in points) so the stepper can rewrite the numbers in
    place without text spilling out of its box. `color`/`fill` draw a marked box; `op` adds
    a first cell naming the op that made the value (a folded drawing's compact form);
    `grad_name` names the second number (the stepper's forward mode shows a tangent there).
    """
    fixed = f' width="{width}"' if width else ""
    cells = [f'<td bgcolor="#f1f1f1"><i>{html.escape(op)}</i></td>'] if op else []
    if title:
        cells.append(f"<td><b>{html.escape(title)}</b></td>")
    cells.append(f"<td{fixed}>data {html.escape(data)}</td>")
    if grad is not None:
        cells.append(f"<td{fixed}>{html.escape(grad_name)} {html.escape(grad)}</td>")
    style = ""
    if color:
        style += f' color="{color}"'
    if fill:
        style += f' bgcolor="{fill}"'
    border = "2" if color == _MARK else "1"
    return (f'<<table border="0" cellborder="{border}" cellspacing="0" cellpadding="3"{style}><tr>'
            + "".join(cells) + "</tr></table>>")


def add_value(g, name, v, title, grad, width=None, *, color=None, fill=None, grad_name="grad"):
    """A value's box and, for a computed value, its op's ellipse with the edge between."""
    g.node(name, value_label(title, fmt(v.data), grad, width, color=color, fill=fill,
                             grad_name=grad_name),
           id=name, shape="plain")
    if not v.is_leaf:
        mark = {"color": color, "penwidth": "2.5"} if color == _MARK else {}
        g.node(name + "op", op_text(v), id=name + "op", shape="ellipse", fontsize="10",
               width="0.3", height="0.3", margin="0.04,0.02", ordering="in", **mark)
        g.edge(name + "op", name, id=name + "out", **mark)


def edge_label(local, out_grad):
    """∂out/∂in and what this edge adds to the input's grad (local × out.grad)."""
    return f"local {fmt(local)}\n+= {fmt(local)} × {fmt(out_grad)} = {fmt(local * out_grad)}"


def draw(root, *, rankdir="LR", show_grad=True, max_nodes=500, show_edges=False,
         highlight=None, dead=None, saturated=None, timeout=TIMEOUT):
    """A graphviz.Digraph of everything `root` depends on; displays itself in Jupyter.

        >>> x = Value(1.0, label="x"); y = (x * 3).tanh(); y.backward()
        >>> draw(y).pipe(format="svg")[:4]
        b'<?xm'

    `show_edges=True` labels each edge (one per operand occurrence: `a*a` has two) with the
    local derivative ∂out/∂in and its contribution local × out.grad. Operands of `-`, `/`
    and `**` are named at the op ("x"/"y", "base"/"exp").

    A graph with more than `max_nodes` values, or with a value joined to too many others to
    read, is folded: one box per neuron (by `Value.scope`), per layer, per long sum, per
    group of parallel values; edges between the same boxes become one edge with a count.

    `highlight` (a Value or a list of them) marks those values and every path from them to
    the root; a marked value inside a box marks the box. `dead` and `saturated` (sets of
    neuron paths such as "layers.0.neurons.3") grey dead units and mark saturated ones.
    Graphviz gets `timeout` seconds per layout before it is stopped with a LayoutTimeout.
    """
    _check(root, rankdir, max_nodes, timeout)
    marked = _values(highlight, "highlight")
    dead, saturated = _scopes(dead, "dead"), _scopes(saturated, "saturated")
    order, index = walk(root)
    for v in marked:
        if v not in index:
            raise ValueError(f"draw: highlight {v!r} is not part of the graph of the root")
    keys, s, on_path = collapse.plan(order, index, max_nodes, [index[v] for v in marked])
    g = new_graph(rankdir, timeout=timeout)
    g.graph_attr["bgcolor"] = "white"  # readable on a dark notebook theme too
    grad = (lambda v: fmt(v.grad)) if show_grad else (lambda v: None)
    if all(k is None for k in keys):
        _draw_full(g, s, on_path, grad, show_edges, dead, saturated)
        g.summary = f"{len(order)} values"
    else:
        boxes = _draw_boxes(g, s, keys, on_path, grad, dead, saturated)
        g.summary = f"{len(order)} values as {boxes} boxes"
    return g


def _tone(scope, dead, saturated):
    """(border colour, fill) for a value or box of neuron `scope`."""
    if scope in dead:
        return _DEAD, _DEAD_FILL
    if scope in saturated:
        return _SATURATED, _SATURATED_FILL
    return None, None


def _draw_full(g, s, on_path, grad, show_edges, dead, saturated):
    for i, v in enumerate(s.order):
        color, fill = (_MARK, _MARK_FILL) if on_path[i] else _tone(_scope(v), dead, saturated)
        add_value(g, f"v{i}", v, v.label, grad(v), color=color, fill=fill)
    for i, v in enumerate(s.order):
        names = operand_names(v)
        for j, (k, local) in enumerate(zip(s.kids[i], v.local_grads)):
            attrs = {"id": f"v{i}in{j}"}
            if show_edges:
                attrs["label"] = edge_label(local, v.grad)
            if names:
                attrs.update(_operand_label(names[j], j))
            if on_path[i] and on_path[k]:
                attrs.update(color=_MARK, penwidth="2.5")
            g.edge(f"v{k}", f"v{i}op", **attrs)


def _scope(v):
    """A value's neuron: its scope, or the neuron path in a parameter's label."""
    if v.scope:
        return v.scope
    if v.is_leaf and ".w." in v.label:
        return v.label.rsplit(".w.", 1)[0]
    if v.is_leaf and v.label.endswith(".b"):
        return v.label[:-2]
    return None


# -- folded drawings --------------------------------------------------------------------
_NUM = re.compile(r"(\d+)")


def _module_order(key):
    """Sort key putting neurons.2 before neurons.10 (module order, not string order)."""
    return [int(p) if p.isdigit() else p for p in _NUM.split(key)]


def _draw_boxes(g, s, keys, on_path, grad, dead, saturated):
    order = s.order
    height = {v: h for v, h in zip(order, s.height)}
    names, members, groups = {}, {}, 0
    for i in range(len(order)):
        b = collapse.box_of(keys, i)
        if b not in names:
            if keys[i] is None:
                names[b] = f"v{i}"
            else:
                names[b], groups = f"g{groups}", groups + 1
        members.setdefault(b, []).append(i)
    g.attr(ranksep="0.25", nodesep="0.12")
    g.attr("node", fontsize="10")
    edges = collapse.drawn_edges(s, keys)
    # Outputs of a box: members used outside it (or the root); one output gets its numbers.
    outputs = {b: {} for b in names}  # dicts as ordered sets
    for i, ks in enumerate(s.kids):
        bi = collapse.box_of(keys, i)
        for k in ks:
            bk = collapse.box_of(keys, k)
            if bk != bi:
                outputs[bk][k] = None
    outputs[collapse.box_of(keys, 0)][0] = None

    # Neuron boxes go into one cluster per layer, in module order, stacked by invisible edges.
    clusters = {}
    for b in names:
        layer = collapse.layer_of(b)
        if layer:
            clusters.setdefault(layer, []).append(b)
    for layer in clusters:
        clusters[layer].sort(key=_module_order)
    cluster_name = {layer: f"cluster_{n}" for n, layer in enumerate(sorted(clusters, key=_module_order))}

    def box_node(graph, b):
        i0 = members[b][0]
        if b[0] == "v" and keys[i0] is None:
            # One node per value, op included: a folded drawing's row of values stays short.
            v = order[i0]
            color, fill = (_MARK, _MARK_FILL) if on_path[i0] else _tone(_scope(v), dead, saturated)
            label = value_label(v.label, fmt(v.data), grad(v), color=color, fill=fill,
                                op=None if v.is_leaf else op_text(v))
            graph.node(names[b], label, id=names[b], shape="plain")
            return
        lines = _box_lines(b, [order[i] for i in members[b]], list(outputs[b]), order, height, grad,
                           dead, saturated, short=collapse.layer_of(b) is not None)
        color, fill = _tone(b if isinstance(b, str) else None, dead, saturated)
        attrs = {"fillcolor": fill or _BOX_FILL}
        if any(on_path[i] for i in members[b]):
            attrs.update(color=_MARK, penwidth="2.5", fillcolor=_MARK_FILL)
        elif color:
            attrs.update(color=color, fontcolor="#616161" if color == _DEAD else "black")
        graph.node(names[b], "<" + "<br/>".join(lines) + ">", id=names[b], shape="box3d",
                   margin="0.09,0.06", style="filled", **attrs)

    for b in names:
        if collapse.layer_of(b) is None:
            box_node(g, b)
    for layer, boxes in sorted(clusters.items(), key=lambda kv: _module_order(kv[0])):
        with g.subgraph(name=cluster_name[layer]) as c:
            c.attr(label=layer, style="rounded", color="#90a4ae", fontname=_FONT, fontsize="11")
            with c.subgraph() as same:
                same.attr(rank="same")
                for b in boxes:
                    box_node(same, b)
                # Flat edges order a rank left to right, which LR and RL turn bottom to top.
                stacked = boxes[::-1] if g.graph_attr["rankdir"] in ("LR", "RL") else boxes
                for a, b in zip(stacked, stacked[1:]):
                    same.edge(names[a], names[b], style="invis")

    marked_edge = {}
    for i, ks in enumerate(s.kids):
        if on_path[i]:
            for k in ks:
                if on_path[k]:
                    marked_edge[collapse.box_of(keys, k), collapse.box_of(keys, i)] = True
    bundled = collapse.bundles(edges)
    in_bundle = {p for pairs in bundled.values() for p in pairs}
    for (a, b), n in edges.items():
        if (a, b) in in_bundle:
            continue
        attrs = {}
        if n > 1:
            attrs["label"] = f"×{n}"
        dst = order[members[b][0]]
        if b[0] == "v" and keys[members[b][0]] is None:
            names_at = operand_names(dst)
            if names_at:
                at = [nm for k, nm in zip(s.kids[members[b][0]], names_at) if collapse.box_of(keys, k) == a]
                attrs.update(_operand_label("/".join(at), len(at) > 1 or at[0] == names_at[1]))
        if marked_edge.get((a, b)):
            attrs.update(color=_MARK, penwidth="2.5")
        g.edge(names[a], names[b], **attrs)
    if bundled:
        g.attr(compound="true")
    for (ea, eb), pairs in bundled.items():
        total = sum(edges[p] for p in pairs)
        srcs = list(dict.fromkeys(a for a, _ in pairs))
        dsts = list(dict.fromkeys(b for _, b in pairs))
        tail = _middle(clusters[ea[1]], srcs) if ea[0] == "layer" else ea[1]
        head = _middle(clusters[eb[1]], dsts) if eb[0] == "layer" else eb[1]
        attrs = {"label": f"{len(srcs)}→{len(dsts)}\n×{total}", "penwidth": "2"}
        if ea[0] == "layer":
            attrs["ltail"] = cluster_name[ea[1]]
        if eb[0] == "layer":
            attrs["lhead"] = cluster_name[eb[1]]
        if any(marked_edge.get(p) for p in pairs):
            attrs.update(color=_MARK, penwidth="3")
        g.edge(names[tail], names[head], **attrs)
    return len(names)


def _middle(boxes, used):
    """The box at the middle of a layer's column that an edge of the bundle touches, so the
    bundle's one edge meets the layer near its centre."""
    used = set(used)
    touched = [b for b in boxes if b in used]
    return touched[len(touched) // 2]


def _box_lines(b, vs, outs, order, height, grad, dead, saturated, short):
    """The text of a box holding several values."""
    n = len(vs)
    leaves = sum(v.is_leaf for v in vs)
    if isinstance(b, str):
        title = b.rsplit(".", 2)[-2] + "." + b.rsplit(".", 1)[-1] if short else b
    elif b[0] == "chain":
        op = order[b[1]].op
        title = f"{'sum' if op == '+' else 'product'}: {n} × {op}"
    elif b[0] == "class" and order[b[1]].is_leaf:
        title = f"{n} leaves"
    elif b[0] == "class":  # parallel values, perhaps a run of several ops each
        levels = {}
        for v in vs:
            levels.setdefault(height[v], {})[op_text(v)] = v.op
        # one op per level, with its constant when every copy has the same one
        ops = [next(iter(texts)) if len(texts) == 1 else next(iter(texts.values()))
               for _, texts in sorted(levels.items())]
        title = f"{n // len(ops)} × " + (ops[0] if len(ops) == 1 else f"({' → '.join(ops)})")
    else:
        title = "… the rest"
    lines = [f"<b>{html.escape(title)}</b>"]
    if isinstance(b, tuple) and b[0] == "class" and order[b[1]].is_leaf:
        named = [v.label for v in vs if v.label]
        if named:
            shown = ", ".join(named[:2]) + (f", …, {named[-1]}" if len(named) > 3 else
                                            f", {named[2]}" if len(named) == 3 else "")
            lines.append(html.escape(shown))
    else:
        lines.append(f"{n} values" + (f", {leaves} leaves" if leaves else ""))
    if isinstance(b, str) and collapse.layer_of(b) is None:
        for what, scopes in (("dead", dead), ("saturated", saturated)):
            inside = sorted((x for x in scopes if x.startswith(b + ".")), key=_module_order)
            if inside:
                lines.append(html.escape(f"{what}: " + ", ".join(x[len(b) + 1:] for x in inside)))
    if len(outs) == 1:
        out = order[outs[0]]
        g = grad(out)
        lines.append(f"out data {fmt(out.data)}" + (f" grad {g}" if g is not None else ""))
    return lines
