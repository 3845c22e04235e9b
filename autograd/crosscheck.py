"""A second oracle beside finite differences: replay a recorded graph in PyTorch.

    >>> from autograd import Value
    >>> a, b = Value(0.5, label="a"), Value(-1.5, label="b")
    >>> y = (a * b).tanh() + a.exp(); y.label = "y"
    >>> report = crosscheck(y)
    >>> report.ok, report.first
    (True, None)
    >>> print(report)                     # doctest: +SKIP
    crosscheck: 5 nodes agree with PyTorch (float64, rtol 1e-09, atol 1e-12)
      #  node  op    chainrule value   torch value  chainrule grad  torch grad
      0  a           0.5               0.5          ...

`crosscheck(root)` builds the graph of `root` again in PyTorch: every leaf becomes a float64
tensor holding the same number, every node the torch function of its op (`TORCH_OPS`,
keyed by the names in `autograd.ops.OPS`, n-ary `linear` included) applied to its replayed
operands. Torch's backward then gives every node's gradient ∂root/∂node, which is set next
to chainrule's (from `autograd.grad`, leaving every `.grad` as it was). The graph is read
only through `children`, `local_grads`, `operands`, `op`, `is_leaf`, `label` and `data`.

Three checks, and the node each one blames:

1. values, in forward order: the first node whose value differs from torch's is the one
   whose op computed wrongly (its operands still agreed);
2. local derivatives: each node's stored ∂node/∂operand against torch's autograd of the
   same op at the same operand values; the first node whose partial differs is named,
   since a wrong partial shows in the gradients of the nodes *below* it;
3. gradients, from the root down, in case the stored partials agree and the chain rule
   itself went wrong.

Custom ops (`define_op`) are replayed through their own forward: pass the functions
`define_op` returned as `crosscheck(root, ops=[cube, ...])` (an op crosscheck cannot replay
is an error naming it). PyTorch cannot differentiate arbitrary Python, so their partials
on the torch side are fourth-order central finite differences of that forward
(h = 1e-3·max(1, |x|), error ~1e-11), and where they enter, check 2 and the gradients are
held to `fd_rtol` (default 1e-6) instead: a wrong partial is still off by far more.

Needs the torch extra (`pip install 'chainrule[torch]'`); without it, an ImportError says so.
"""
import math
from importlib import resources
from string import Template

from .backprop import grad
from .ops import OPS
from .torch_extra import require_torch
from .value import Value


def _torch_ops(torch):
    """Our op name → a torch function of the same operands, one entry per op in OPS."""
    F = torch.nn.functional
    zero = torch.zeros((), dtype=torch.float64)

    def linear(*args):  # w1..wn, x1..xn, b
        n = (len(args) - 1) // 2
        return args[-1] + torch.dot(torch.stack(args[:n]), torch.stack(args[n:2 * n]))

    table = {
        "neg": torch.neg, "abs": torch.abs, "exp": torch.exp, "log": torch.log,
        "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
        "softplus": lambda x: torch.logaddexp(x, zero),  # exact, no threshold
        "erf": torch.erf, "gelu": lambda x: F.gelu(x, approximate="none"),
        "+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div, "**": torch.pow,
        # the slope and alpha are operands too (differentiable), so no F.leaky_relu / F.elu;
        # the clamp keeps the unused branch's exp finite, so its zero gradient stays 0
        "leaky_relu": lambda x, s: torch.where(x > 0, x, s * x),
        "elu": lambda x, a: torch.where(x > 0, x, a * torch.expm1(torch.clamp(x, max=0.0))),
        "linear": linear,
    }
    return {name: table[name] for name in OPS}  # a KeyError here: an op without a torch twin


def _fd_partials(forward, xs):
    """∂forward/∂xᵢ by the fourth-order central difference."""
    out = []
    for i, x in enumerate(xs):
        h = 1e-3 * max(1.0, abs(x))
        for _ in range(6):  # step back inside the domain if a step leaves it
            try:
                f = [forward(*xs[:i], x + k * h, *xs[i + 1:]) for k in (-2, -1, 1, 2)]
                break
            except (ValueError, ArithmeticError):
                h /= 10.0
        else:
            f = None
        out.append(math.nan if f is None else (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h))
    return out


def _custom_function(torch):
    class Custom(torch.autograd.Function):
        """A define_op op in torch: forward by the op's own forward on floats, backward by
        finite differences of it (never by the partials under test)."""

        @staticmethod
        def forward(ctx, forward, *xs):
            ctx.forward, ctx.xs = forward, [float(x) for x in xs]
            return torch.tensor(forward(*ctx.xs), dtype=torch.float64)

        @staticmethod
        def backward(ctx, g):
            return (None, *(g * p for p in _fd_partials(ctx.forward, ctx.xs)))

    return Custom


class Row:
    """One node: its name, op, both values, both gradients, and what disagrees."""
    __slots__ = ("index", "name", "op", "value", "torch_value", "grad", "torch_grad",
                 "partials", "torch_partials", "problem")

    def __init__(self, index, name, op):
        self.index, self.name, self.op = index, name, op
        self.value = self.torch_value = self.grad = self.torch_grad = None
        self.partials = self.torch_partials = ()
        self.problem = ""

    def __repr__(self):
        return (f"Row({self.index}, {self.name!r}, op={self.op!r}, value={self.value!r}, "
                f"torch_value={self.torch_value!r}, grad={self.grad!r}, "
                f"torch_grad={self.torch_grad!r}{', ' + self.problem if self.problem else ''})")


class Crosscheck:
    """The result of `crosscheck`: `.rows` (one `Row` per node, leaves and ops, in forward
    order), `.ok`, `.first` (the disagreeing `Row` to look at, or None) and `.message`.
    `print()` shows a text table, Jupyter an HTML one; `bool(report)` is `.ok`."""

    def __init__(self, rows, first, rtol, atol, fd_rtol):
        self.rows, self.first = rows, first
        self.rtol, self.atol, self.fd_rtol = rtol, atol, fd_rtol

    @property
    def ok(self):
        return self.first is None

    def __bool__(self):
        return self.ok

    @property
    def message(self):
        if self.ok:
            return (f"crosscheck: {len(self.rows)} nodes agree with PyTorch (float64, "
                    f"rtol {self.rtol:g}, atol {self.atol:g})")
        r = self.first
        return f"crosscheck: node {r.index} {r.name!r} (op {r.op!r}) disagrees: {r.problem}"

    _COLUMNS = ("#", "node", "op", "chainrule value", "torch value", "chainrule grad",
                "torch grad", "")

    def _cells(self, r):
        return (str(r.index), r.name, r.op or "leaf", _num(r.value), _num(r.torch_value),
                _num(r.grad), _num(r.torch_grad), r.problem)

    def to_text(self, max_rows=60):
        """The table as text; with more than `max_rows` nodes, the disagreeing rows and the
        first and last few."""
        rows = self.rows
        shown = rows
        if max_rows is not None and len(rows) > max_rows:
            keep = set(range(max_rows // 2)) | set(range(len(rows) - max_rows // 2, len(rows)))
            keep |= {i for i, r in enumerate(rows) if r.problem}
            shown = [rows[i] for i in sorted(keep)]
        table = [self._COLUMNS] + [self._cells(r) for r in shown]
        widths = [max(len(c[i]) for c in table) for i in range(len(self._COLUMNS))]
        lines = [self.message]
        last = -1
        for cells, r in zip(table, [None] + shown):
            if r is not None and r.index != last + 1:
                lines.append(f"  ... {r.index - last - 1} rows agree ...")
            if r is not None:
                last = r.index
            lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
        return "\n".join(lines)

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        return f"<Crosscheck {'ok' if self.ok else 'MISMATCH'}: {len(self.rows)} nodes>"

    def _repr_html_(self):
        from html import escape
        page = resources.files(__package__).joinpath("crosscheck.html").read_text("utf-8")
        head, row_template, tail = page.split("<!--row-->")
        row = Template(row_template)
        body = "".join(row.substitute(cls="bad" if r.problem else "",
                                      **{f"c{i}": escape(c) for i, c in enumerate(self._cells(r))})
                       for r in self.rows)
        return Template(head).substitute(message=escape(self.message),
                                         status="ok" if self.ok else "bad") + body + tail


def _num(x):
    return "" if x is None else f"{x:.12g}"


def _close(a, b, rtol, atol):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def _forward_order(root):
    """Every node reachable from root (leaves included), each after all of its children."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(node.children) if c not in seen)
    return order


def crosscheck(root, *, ops=(), rtol=1e-9, atol=1e-12, fd_rtol=1e-6):
    """Replay `root`'s graph in PyTorch (float64, the same leaves), run its backward and
    return a `Crosscheck` table: every node's value and gradient next to torch's, the first
    disagreeing node named. `ops` lists the `define_op` functions the graph uses."""
    torch = require_torch("crosscheck")
    if not isinstance(root, Value):
        raise TypeError(f"crosscheck: root must be a Value, got {type(root).__name__}")
    table = _torch_ops(torch)
    custom = {}
    for f in ops:
        op = getattr(f, "op", None)
        if op is None or not callable(getattr(op, "forward", None)):
            raise TypeError(f"crosscheck: ops must be functions made by define_op, got {f!r}")
        custom[op.name] = op.forward
    Custom = _custom_function(torch)

    def replay(name, args):
        if name in custom:
            return Custom.apply(custom[name], *args)
        return table[name](*args)

    order = _forward_order(root)
    for node in order:
        if not node.is_leaf and node.op not in table and node.op not in custom:
            raise ValueError(f"crosscheck: cannot replay op {node.op!r} (node "
                             f"{node.label or node!r}); pass the function define_op made for "
                             f"it: crosscheck(root, ops=[{node.op}])")
    index = {node: i for i, node in enumerate(order)}
    rows = [Row(i, node.label or f"v{i}", node.op) for i, node in enumerate(order)]

    def const(x):
        return torch.tensor(float(x), dtype=torch.float64)

    # the replay, node by node, from torch's own operands
    tensors = {}
    for node in order:
        if node.is_leaf:
            t = torch.tensor(node.data, dtype=torch.float64, requires_grad=True)
        else:
            t = replay(node.op, [tensors[a] if isinstance(a, Value) else const(a)
                                 for a in node.operands])
            t.retain_grad()
        tensors[node] = t
    tensors[root].backward()
    ours = grad(root, order)
    uses_fd = {n for n in order if n.op in custom}
    below_fd = _below(order, uses_fd)
    for node, g, row in zip(order, ours, rows):
        t = tensors[node]
        row.value, row.torch_value = node.data, t.item()
        row.grad = g.data
        row.torch_grad = 0.0 if t.grad is None else t.grad.item()

    # Every check marks every row it finds; the one to blame is the first of the first check
    # that found anything.
    blamed = []
    # 1. values, forward order
    found = []
    for node, row in zip(order, rows):
        if not _close(row.value, row.torch_value, rtol, atol):
            found.append(_mark(row, f"value {row.value!r}, torch {row.torch_value!r}"))
    blamed += found[:1]
    # 2. local derivatives at our operand values
    found = []
    for node, row in zip(order, rows):
        if node.is_leaf:
            continue
        row.partials = tuple(node.local_grads)
        row.torch_partials = tuple(_torch_partials(torch, node, replay))
        tol = fd_rtol if node.op in custom else rtol
        for k, (a, b) in enumerate(zip(row.partials, row.torch_partials)):
            if not _close(a, b, tol, atol):
                child = node.children[k]
                found.append(_mark(row, f"∂/∂{child.label or f'v{index[child]}'} (operand {k}) "
                                        f"is {a!r}, torch {b!r}"))
                break
    blamed += found[:1]
    # 3. gradients, from the root down
    found = []
    for node, row in zip(reversed(order), reversed(rows)):
        tol = fd_rtol if node in below_fd else rtol
        if not _close(row.grad, row.torch_grad, tol, atol):
            found.append(_mark(row, f"grad {row.grad!r}, torch {row.torch_grad!r}"))
    blamed += found[:1]
    first = blamed[0] if blamed else None
    return Crosscheck(rows, first, rtol, atol, fd_rtol)


def _mark(row, problem):
    row.problem = f"{row.problem}; {problem}" if row.problem else problem
    return row


def _torch_partials(torch, node, replay):
    """∂node/∂child for each child, by torch at the node's own operand values."""
    args, leaves = [], []
    for a in node.operands:
        if isinstance(a, Value):
            t = torch.tensor(a.data, dtype=torch.float64, requires_grad=True)
            leaves.append(t)
        else:
            t = torch.tensor(float(a), dtype=torch.float64)
        args.append(t)
    out = replay(node.op, args)
    if not out.requires_grad:
        return [0.0] * len(leaves)
    gs = torch.autograd.grad(out, leaves, allow_unused=True)
    return [0.0 if g is None else g.item() for g in gs]


def _below(order, sources):
    """Nodes whose gradient passes through one of `sources` (its descendants)."""
    below = set()
    for node in reversed(order):  # parents first
        if node in sources or node in below:
            below.update(node.children)
    return below | set(sources)
