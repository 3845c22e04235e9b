"""Find where a nan or an infinity first appears, in the forward pass or in backward().

    >>> x = Value(0.0, label="x")
    >>> with detect_anomaly():
    ...     y = (x * 1e300) * 1e300 + x.exp()    # finite: 0 × 1e300 × 1e300 = 0
    ...     z = (y + 1e300) * 1e300              # 1e300 × 1e300 overflows to inf
    Traceback (most recent call last):
    ...
    autograd.anomaly.AnomalyError: forward: * gave inf ...

The engine follows IEEE: an overflow is ±inf and nan flows through every op, so a diverging
run ends with a loss of nan and no hint of where it came from. Inside `detect_anomaly()`
every op checks its result, and `backward()` checks every gradient it computes, and the
first non-finite one raises `AnomalyError` naming the op, its operands (values and labels)
and a path through the graph; `err.node` is the Value to blame, ready for
`draw(root, highlight=err.node)`.

How it costs nothing outside the block: the Value methods look up their appliers
(`autograd.value._unary`, `_binary`, `_node`, `_leaf`) and `Value.backward` looks up
`autograd.backprop.backward` at call time, so entering the block swaps in checking versions
of those module attributes (and of `autograd.backward`), and leaving it puts the originals back. Outside, the hot path is byte for byte
the engine without this module; inside, each op pays one call and one `isfinite`, and
`backward()` one extra pass over the graph. Checking is per thread, like grad mode: while the
checkers are installed, other threads go through them but are not checked. A reference
taken before the block (`from autograd.backprop import backward`) keeps the unchecked
function. `grad()` is not checked either (with `create_graph=True` its products are ops, and
those are).
"""
import math
import sys
import threading
from collections import deque
from contextlib import contextmanager
from numbers import Real

from . import backprop, value
from .backprop import topo_order
from .ops import INFIX
from .value import Value

_isfinite = math.isfinite
_SHOWN_OPERANDS = 6  # a linear node has 2n+1 operands; the message names the telling ones
_PATH_ENDS = 4       # nodes shown at each end of a long path


class AnomalyError(ArithmeticError):
    """A nan or ±inf appeared inside `detect_anomaly()`. `.node` is the Value to blame (the
    op's result in the forward pass, the Value whose gradient went bad in backward), and
    `.path` the Values from an input to it (forward) or from it to the root (backward)."""

    def __init__(self, message, node, path):
        super().__init__(message)
        self.node, self.path = node, list(path)


class _Checking(threading.local):
    depth = 0  # this thread's nesting of detect_anomaly() blocks


_checking = _Checking()
_lock = threading.Lock()
_threads_in = 0
_originals = {}  # (module, name) -> the function its checker replaced, put back on exit


# -- describing nodes ---------------------------------------------------------------------
def _name(v):
    """A label, or one level of the expression (`(x * 0.0)`, `tanh(…)`), or `input`."""
    if v.label:
        return v.label
    if not v.op:
        return "input"
    args = [a.label or "…" if isinstance(a, Value) else repr(a) for a in v.operands]
    if v.op in INFIX and len(args) == 2:
        return f"({args[0]} {v.op} {args[1]})"
    if len(args) > 3:
        args = args[:2] + ["…"]
    return f"{v.op}({', '.join(args)})"


def _show(v):
    if isinstance(v, Value):
        return f"{_name(v)} = {float(v.data)!r}"
    return repr(float(v))


def _operands(operands):
    """The operands as text, non-finite and largest first when there are many."""
    if len(operands) <= _SHOWN_OPERANDS:
        return ", ".join(map(_show, operands))
    data = lambda a: a.data if isinstance(a, Value) else a
    worst = sorted(range(len(operands)),
                   key=lambda i: (_isfinite(data(operands[i])), -abs(data(operands[i]))))
    shown = sorted(worst[:_SHOWN_OPERANDS])
    rest = len(operands) - len(shown)
    return ", ".join(f"[{i}] {_show(operands[i])}" for i in shown) + f", ... ({rest} more)"


def _path_from_inputs(node):
    """From a leaf up to `node`, stepping back each time through a non-finite child if there
    is one (where the trouble came in), else through the child of largest magnitude."""
    path = [node]
    while path[-1].children:
        kids = path[-1].children
        bad = [c for c in kids if not _isfinite(c.data)]
        path.append(bad[0] if bad else max(kids, key=lambda c: abs(c.data)))
    path.reverse()
    return path


def _path_to_root(node, root):
    """A shortest path node → ... → root, found by walking down from the root."""
    parent = {root: None}
    queue = deque([root])
    while queue and node not in parent:
        n = queue.popleft()
        for c in n.children:
            if c not in parent:
                parent[c] = n
                queue.append(c)
    path = [node]
    while parent.get(path[-1]) is not None:
        path.append(parent[path[-1]])
    return path


def _arrows(path):
    """The path as text; a long one (a sum over a dataset) keeps its two ends."""
    shown = [_show(v) for v in path]
    if len(shown) > 2 * _PATH_ENDS + 1:
        hidden = len(shown) - 2 * _PATH_ENDS
        shown = shown[:_PATH_ENDS] + [f"… ({hidden} more) …"] + shown[-_PATH_ENDS:]
    return " → ".join(shown)


# -- the forward check --------------------------------------------------------------------
def _forward_anomaly(node, op_name, operands):
    bad_in = [a for a in operands if isinstance(a, Value) and not _isfinite(a.data)]
    if bad_in and all(a.is_leaf for a in bad_in):
        cause = "a non-finite input (the data, a parameter or a constant leaf), not an op"
    elif bad_in:
        cause = "an operand that was already non-finite (made outside detect_anomaly?)"
    else:
        cause = "finite operands: this op is where it first appeared"
    path = _path_from_inputs(node) if node.children else [node]
    raise AnomalyError(
        f"forward: {op_name} gave {float(node.data)!r} from {cause}\n"
        f"  operands: {_operands(operands)}\n"
        f"  path from the inputs: {_arrows(path)}", node, path)


def _on():
    return _checking.depth > 0


# Each checker wraps the function it replaces (its `original`), which it keeps for good: a
# thread that fetched a checker just before the block ended still calls the right function.
def _unary_checker(original):
    def checked_unary(op, x):
        v = original(op, x)
        if not _isfinite(v.data) and _on():
            _forward_anomaly(v, op.name, (x,))
        return v
    return checked_unary


def _binary_checker(original):
    def checked_binary(op, x, y):
        v = original(op, x, y)
        if v is not NotImplemented and not _isfinite(v.data) and _on():
            _forward_anomaly(v, op.name, (x, y))
        return v
    return checked_binary


def _node_checker(original):
    # n-ary nodes (linear, define_op with 3+ operands) are made here; op None is a leaf
    def checked_node(data, op, a, da, b, db):
        v = original(data, op, a, da, b, db)
        if op is not None and not _isfinite(data) and _on():
            _forward_anomaly(v, op.name, v.operands)
        return v
    return checked_node


def _leaf_checker(original):
    # An n-ary op under no_grad() returns a bare leaf: no op or operands are left to name.
    def checked_leaf(data):
        v = original(data)
        if not _isfinite(data) and _on():
            raise AnomalyError(f"forward: an n-ary op (linear or a custom op) under no_grad() "
                               f"gave {float(data)!r}; no graph was recorded, so run it with "
                               f"recording on to see its operands", v, [v])
        return v
    return checked_leaf


# -- the backward check -------------------------------------------------------------------
def _check_gradients(root, gradient):
    """The gradients backward() is about to compute, edge by edge; raises at the first
    non-finite one, before any `.grad` is touched (so nothing is lost)."""
    seed = gradient.data if isinstance(gradient, Value) else gradient
    if not isinstance(seed, Real) or isinstance(seed, bool):
        return  # backward itself refuses it, with its own message
    if not _isfinite(seed):
        raise AnomalyError(f"backward: the starting gradient {float(seed)!r} of {_show(root)} is not "
                           f"finite", root, [root])
    grads = {root: float(seed)}
    get = grads.get
    for n in topo_order(root):
        g = get(n, 0.0)
        if g == 0.0:  # backward() skips these too
            continue
        for i, (c, local) in enumerate(zip(n.children, n.local_grads)):
            before = get(c, 0.0)
            total = before + local * g
            if not _isfinite(total):
                _backward_anomaly(root, n, i, c, local, g, before, total)
            grads[c] = total


def _backward_anomaly(root, n, i, c, local, g, before, total):
    local, g, before, total = map(float, (local, g, before, total))
    path = [c] + _path_to_root(n, root)
    if not _isfinite(local):
        why = f"the local derivative is {local!r}"
    elif not _isfinite(g):
        why = f"the gradient arriving at {_name(n)} is already {g!r}"
    elif not _isfinite(local * g):
        why = f"{local!r} × {g!r} overflows"
    else:
        why = f"adding {local * g!r} to the {before!r} already gathered"
    operands = n.operands
    raise AnomalyError(
        f"backward: the gradient of {_name(c)} became {total!r} on the edge "
        f"{_name(n)} → {_name(c)} (operand {i} of {n.op}): {why}\n"
        f"  local ∂{_name(n)}/∂{_name(c)} = {local!r}, upstream ∂/∂{_name(n)} = {g!r}\n"
        f"  {n.op} operands: {_operands(operands)}\n"
        f"  path to the root: {_arrows(path)}", c, path)


def _backward_checker(original):
    def checked_backward(root, gradient=1.0):
        if _on():
            _check_gradients(root, gradient)
        return original(root, gradient)
    return checked_backward


# -- installing ---------------------------------------------------------------------------
def _targets():
    package = sys.modules[__package__]
    return [(value, "_unary", _unary_checker), (value, "_binary", _binary_checker),
            (value, "_node", _node_checker), (value, "_leaf", _leaf_checker),
            (backprop, "backward", _backward_checker), (package, "backward", _backward_checker)]


def _install():
    for module, name, make_checker in _targets():
        _originals[module, name] = original = getattr(module, name)
        setattr(module, name, make_checker(original))


def _uninstall():
    for module, name, _ in _targets():
        setattr(module, name, _originals[module, name])


@contextmanager
def detect_anomaly():
    """Inside this block the first nan or ±inf raises `AnomalyError`: an op's result in the
    forward pass, or a gradient in `backward()`. Re-entrant, per thread; on leaving (even by
    an exception) the engine is exactly as before.

        >>> x = Value(0.0, label="x")
        >>> y = x ** 0.5; y.label = "y"; L = y * 3.0         # d√x/dx at 0 is inf
        >>> with detect_anomaly():
        ...     L.backward()
        Traceback (most recent call last):
        ...
        autograd.anomaly.AnomalyError: backward: the gradient of x became inf on the edge y → x ...
        >>> x.grad                                          # nothing was written
        0.0

    Domain errors the engine raises anyway (log of 0, division by zero) stay as they are.
    """
    global _threads_in
    with _lock:
        if _checking.depth == 0:
            if _threads_in == 0:
                _install()
            _threads_in += 1
        _checking.depth += 1
    try:
        yield
    finally:
        with _lock:
            _checking.depth -= 1
            if _checking.depth == 0:
                _threads_in -= 1
                if _threads_in == 0:
                    _uninstall()
