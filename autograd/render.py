"""Draw a computation graph with Graphviz: value boxes (label, data, grad), op ellipses, edges
in the direction data flows.

    >>> a = Value(2.0, label="a"); y = a * a; y.backward()
    >>> svg = draw(y, show_edges=True).pipe(format="svg")   # two edges, each "local 4"

Node names come from a depth-first walk from the root in operand order (`v0` is the root),
never from `id()`, so the same graph always gives the same DOT text and the same SVG. Graphs
with more than `max_nodes` values are collapsed into one box per neuron, then per layer, using
the module path nn stores in `Value.scope`.
"""
import html
import re

import graphviz

from .value import Value

RANKDIRS = ("LR", "TB", "BT", "RL")
_SYMBOLS = ("+", "-", "*", "/", "**")
_FONT = "Helvetica"


class GraphvizNotInstalled(graphviz.ExecutableNotFound):
    """Graphviz's `dot` program is missing, so a graph can be described but not rendered.

    A subclass of graphviz.ExecutableNotFound (and so of RuntimeError): code that already
    catches either keeps working.
    """

    def __init__(self):
        RuntimeError.__init__(
            self,
            "cannot render the graph: Graphviz's `dot` program is not on PATH. Install Graphviz "
            "(Debian/Ubuntu: `sudo apt-get install graphviz`; macOS: `brew install graphviz`; "
            "others: https://graphviz.org/download/). The DOT text is still available as `.source`.")


class Graph(graphviz.Digraph):
    """A graphviz.Digraph whose rendering says how to install Graphviz when `dot` is missing.

    Jupyter display, `.pipe()`, `.render()` and `.view()` all go through `pipe`/`render`.
    """

    def __repr__(self):
        # No memory address, so a notebook's saved outputs do not change from run to run.
        return f"<autograd.render.Graph: {len(self.body)} DOT statements>"

    def pipe(self, *args, **kwargs):
        return _explaining_missing_dot(super().pipe, *args, **kwargs)

    def render(self, *args, **kwargs):
        return _explaining_missing_dot(super().render, *args, **kwargs)


def _explaining_missing_dot(call, *args, **kwargs):
    """Run a Graphviz call; a missing `dot` becomes one error saying how to install it."""
    try:
        return call(*args, **kwargs)
    except GraphvizNotInstalled:
        raise
    except graphviz.ExecutableNotFound:
        raise GraphvizNotInstalled() from None


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
        if name in _SYMBOLS:
            return f"{name} {c}" if const_at == 1 else f"{c} {name}"
        return f"{name}(·, {c})" if const_at == 1 else f"{name}({c}, ·)"
    return name


def _check(root, rankdir, max_nodes):
    if not isinstance(root, Value):
        raise TypeError(f"draw: root must be a Value, got {type(root).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if type(max_nodes) is not int or max_nodes < 2:
        raise ValueError(f"draw: max_nodes must be an int >= 2, got {max_nodes!r}")


def new_graph(rankdir):
    return Graph(
        "computation",
        graph_attr={"rankdir": rankdir, "nodesep": "0.25", "ranksep": "0.35"},
        node_attr={"fontname": _FONT, "fontsize": "11"},
        edge_attr={"fontname": _FONT, "fontsize": "9", "arrowsize": "0.6"},
    )


def value_label(title, data, grad, width=None):
    """HTML-like label: one row of cells [title] | data … | grad … (grad=None hides it).

    `width` is a minimum cell width (in points) so the stepper can rewrite the numbers in
    place without text spilling out of its box.
    """
    fixed = f' width="{width}"' if width else ""
    cells = []
    if title:
        cells.append(f"<td><b>{html.escape(title)}</b></td>")
    cells.append(f"<td{fixed}>data {html.escape(data)}</td>")
    if grad is not None:
        cells.append(f"<td{fixed}>grad {html.escape(grad)}</td>")
    return ('<<table border="0" cellborder="1" cellspacing="0" cellpadding="3"><tr>'
            + "".join(cells) + "</tr></table>>")


def add_value(g, name, v, title, grad, width=None):
    g.node(name, value_label(title, fmt(v.data), grad, width), id=name, shape="plain")
    if v._op is not None:
        g.node(name + "op", op_text(v), id=name + "op", shape="ellipse", fontsize="10",
               width="0.3", height="0.3", margin="0.04,0.02")
        g.edge(name + "op", name, id=name + "out")


def edge_label(local, out_grad):
    """∂out/∂in and what this edge adds to the input's grad (local × out.grad)."""
    return f"local {fmt(local)}\n+= {fmt(local)} × {fmt(out_grad)} = {fmt(local * out_grad)}"


def draw(root, *, rankdir="LR", show_grad=True, max_nodes=500, show_edges=False):
    """A graphviz.Digraph of everything `root` depends on; displays itself in Jupyter.

        >>> x = Value(1.0, label="x"); y = (x * 3).tanh(); y.backward()
        >>> draw(y).pipe(format="svg")[:4]
        b'<?xm'

    `show_edges=True` labels each edge (one per operand occurrence: `a*a` has two) with the
    local derivative ∂out/∂in and its contribution local × out.grad. A graph with more than
    `max_nodes` values is collapsed by `Value.scope`: one box per neuron, then per layer.
    """
    _check(root, rankdir, max_nodes)
    order, index = walk(root)
    g = new_graph(rankdir)
    if len(order) <= max_nodes:
        for i, v in enumerate(order):
            add_value(g, f"v{i}", v, v.label, fmt(v.grad) if show_grad else None)
        for i, v in enumerate(order):
            for j, (c, local) in enumerate(zip(v.children, v.local_grads)):
                label = edge_label(local, v.grad) if show_edges else None
                g.edge(f"v{index[c]}", f"v{i}op", id=f"v{i}in{j}", label=label)
        return g
    _draw_collapsed(g, order, index, max_nodes, show_grad)
    return g


# -- collapsing ---------------------------------------------------------------------------
def _scope_keys(order):
    """Each Value's neuron-level group: its scope, or for a parameter (a leaf nn labels
    `layers.0.neurons.3.w.17`) the longest dotted prefix of its label that is a scope in this
    graph. None means "draw on its own"."""
    scopes = {v.scope for v in order if v.scope}
    keys = []
    for v in order:
        key = v.scope or None
        if key is None and v._op is None and v.label and scopes:
            prefix = v.label
            while "." in prefix:
                prefix = prefix.rsplit(".", 1)[0]
                if prefix in scopes:
                    key = prefix
                    break
        keys.append(key)
    return keys


def _layer_key(key):
    # "layers.1.neurons.4" -> "layers.1": keep the first two components of a module path.
    return ".".join(key.split(".")[:2]) if key else key


def _items(keys):
    """The number of boxes drawn: one per group plus one per ungrouped value."""
    return len({k for k in keys if k is not None}) + sum(k is None for k in keys)


def _collapse_keys(order, max_nodes):
    keys = _scope_keys(order)
    if _items(keys) <= max_nodes:
        return keys
    keys = [_layer_key(k) for k in keys]
    if _items(keys) <= max_nodes:
        return keys
    # Unscoped leaves (network inputs fed as Values, targets, ...) into one box.
    keys = ["leaves" if k is None and v._op is None else k for k, v in zip(keys, order)]
    if _items(keys) <= max_nodes:
        return keys
    # Last resort for a huge unscoped graph: keep the boxes nearest the root (the walk is
    # preorder from the root), fold everything after them into one.
    seen, out = {}, []
    for k, v in zip(keys, order):
        item = k if k is not None else v
        if item not in seen:
            seen[item] = len(seen)
        out.append(k if seen[item] < max_nodes - 1 else "… the rest")
    return out


def _draw_collapsed(g, order, index, max_nodes, show_grad):
    keys = _collapse_keys(order, max_nodes)
    group_name, members, params = {}, {}, {}
    for k, v in zip(keys, order):
        if k is not None:
            if k not in group_name:
                group_name[k] = f"g{len(group_name)}"
            members[k] = members.get(k, 0) + 1
            params[k] = params.get(k, 0) + (v._op is None)
    # Outputs of a group: members used outside it (or the root); one output gets its numbers.
    outputs = {k: {} for k in group_name}  # dicts as ordered sets
    edges = {}
    for i, v in enumerate(order):
        kv = keys[i]
        dst = group_name[kv] if kv is not None else f"v{i}op"
        for c in v.children:
            kc = keys[index[c]]
            if kc is not None and kc == kv:
                continue
            if kc is not None:
                outputs[kc][c] = None
            src = group_name[kc] if kc is not None else f"v{index[c]}"
            edges[src, dst] = edges.get((src, dst), 0) + 1
    if keys[0] is not None:
        outputs[keys[0]][order[0]] = None
    drawn = set()
    for i, v in enumerate(order):
        k = keys[i]
        if k is None:
            add_value(g, f"v{i}", v, v.label, fmt(v.grad) if show_grad else None)
        elif k not in drawn:
            drawn.add(k)
            lines = [html.escape(k),
                     f"{members[k]} nodes hidden" + (f", {params[k]} leaves" if params[k] else "")]
            if len(outputs[k]) == 1:
                out, = outputs[k]
                lines.append(f"out data {fmt(out.data)}" + (f" grad {fmt(out.grad)}" if show_grad else ""))
            g.node(group_name[k], "<" + "<br/>".join(lines) + ">", id=group_name[k],
                   shape="box3d", style="filled", fillcolor="#eef3fb")
    for (src, dst), n in edges.items():
        g.edge(src, dst, label=f"×{n}" if n > 1 else None)
