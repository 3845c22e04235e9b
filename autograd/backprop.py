"""Reverse mode: order the graph, then apply the chain rule node by node.

`child.grad += local × node.grad` for every edge, visiting each node only after every node
that uses it. Everything here is iterative, so a chain a million nodes deep needs no
recursion-limit change.
"""
from contextlib import contextmanager

from .value import (Value, _leaf, _real, is_grad_enabled, set_grad_enabled,  # noqa: F401
                    symbolic_local_grads)


def topo_order(root):
    """Interior (non-leaf) nodes reachable from `root`, each before all of its children.

    Leaves are never pushed: they have no children to order, and skipping them halves the
    work on a network, where most nodes are parameters and inputs (an n-ary node lists its
    interior children apart, so a neuron's hundreds of weights are not even looked at).
    """
    if root._op is None:
        return []
    seen, post, stack = set(), [], [root]
    pop, push, mark = stack.pop, stack.append, seen.add
    while stack:
        node = pop()
        if node is None:  # the marker pushed above a node: its children are all done
            post.append(pop())
            continue
        if node in seen:
            continue
        mark(node)
        push(node)
        push(None)
        # Unrolled for one and two children: no tuple per node, which would wake the
        # garbage collector again and again on a big graph.
        b = node._b
        if type(b) is tuple:
            for c in b:
                if c not in seen:
                    push(c)
            continue
        c = node._a
        if c._op is not None and c not in seen:
            push(c)
        if b is not None and b._op is not None and b not in seen:
            push(b)
    post.reverse()
    return post


def backward(root, gradient=1.0):
    """Add ∂root/∂v × gradient into `v.grad` for every v that `root` depends on.

    Like PyTorch, grads accumulate across calls. Interior nodes set their earlier grad aside
    and propagate only this call's gradient, so calling twice adds exactly the same amounts
    again. A leaf adds each edge's contribution in turn (as micrograd does), so its doubled
    grad can differ from 2 × the first in the last bit; summing first, as PyTorch does, would
    cost a scan of every leaf edge. A node whose gradient is exactly 0 passes nothing on:
    most of a ReLU network's edges lie below dead units, and skipping them is the biggest
    saving in backward (PyTorch would instead turn 0 × inf into nan there).
    """
    gradient = gradient.data if isinstance(gradient, Value) else _real(gradient, "backward gradient")
    order = topo_order(root)
    if not order:
        root.grad += gradient
        return
    earlier = [n.grad for n in order]  # floats in a list: nothing new for the GC to scan
    dirty = any(earlier)
    if dirty:
        for n in order:
            n.grad = 0.0
    root.grad = gradient
    for n in order:
        g = n.grad
        if g == 0.0:
            continue
        b = n._b
        if b is None:
            a = n._a
            a.grad += n._da * g
        elif type(b) is tuple:
            for c, local in zip(n._a, n._da):
                c.grad += local * g
        else:
            a = n._a
            a.grad += n._da * g
            b.grad += n._db * g
    if dirty:
        for n, old in zip(order, earlier):
            n.grad = old + n.grad


def _edges(node, create_graph):
    """(child, ∂node/∂child) pairs; with create_graph the locals are Values in a new graph."""
    return zip(node.children, symbolic_local_grads(node) if create_graph else node.local_grads)


def grad(output, inputs, create_graph=False):
    """∂output/∂x for each x in `inputs`, as a list of Values; no `.grad` is touched.

        >>> x = Value(3.0); dy, = grad(x ** 3, [x], create_graph=True)
        >>> dy.data, grad(dy, [x])[0].data      # 3x², 6x
        (27.0, 18.0)

    With create_graph=True the results are Values in a new graph and can be differentiated
    again; otherwise they are leaves holding the number. An input `output` does not depend
    on gets 0.

    Both read the graph as it was built: `backward()` and plain `grad()` use the local
    derivatives stored at forward time, while `create_graph=True` re-evaluates the op table's
    formulas on the operands, so changing some `.data` between the forward pass and this
    call (as an optimiser step does) makes them disagree. Rebuild the graph instead.
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"grad: inputs[{i}] must be a Value, got {type(x).__name__}")
    grads = {output: 1.0}
    if create_graph:
        with enable_grad():
            _accumulate(output, grads, True)
    else:
        _accumulate(output, grads, False)
    result = []
    for x in inputs:
        g = grads.get(x, 0.0)
        result.append(g if isinstance(g, Value) else _leaf(float(g)))
    return result


def _accumulate(output, grads, create_graph):
    get = grads.get
    for node in topo_order(output):
        g = get(node)
        if g is None:
            continue
        for child, local in _edges(node, create_graph):
            old = get(child)
            grads[child] = local * g if old is None else old + local * g


@contextmanager
def no_grad():
    """Inside this block operations record no graph: results are leaves. Like PyTorch's, the
    mode belongs to the thread: other threads go on recording.

        >>> w = Value(1.0); (w * 3).backward()
        >>> with no_grad():
        ...     w.data -= 0.1 * w.grad        # an update that must not be recorded
        >>> w.data, (w * 2).op == "*"          # outside the block, recording is back
        (0.7, True)
    """
    before = set_grad_enabled(False)
    try:
        yield
    finally:
        set_grad_enabled(before)


@contextmanager
def enable_grad():
    """Undo an enclosing no_grad in this thread (grad(create_graph=True) needs a graph)."""
    before = set_grad_enabled(True)
    try:
        yield
    finally:
        set_grad_enabled(before)
