"""Reverse mode: order the graph, then apply the chain rule node by node.

`child.grad += local × node.grad` for every edge, visiting each node only after every node
that uses it. Everything here is iterative, so a chain a million nodes deep needs no
recursion-limit change.
"""
from contextlib import contextmanager

from . import value as _value
from .value import NARY, Value, _leaf


def topo_order(root, graded_leaves=None):
    """Interior (non-leaf) nodes reachable from `root`, each before all of its children.

    Leaves are never pushed: they have no children to order, and skipping them halves the
    work on a network, where most nodes are parameters and inputs. If `graded_leaves` is a
    list, each leaf reached whose .grad is non-zero is appended to it (perhaps repeatedly).
    """
    if root._op is None:
        return []
    seen, post, stack = set(), [], [root]
    pop, push, mark = stack.pop, stack.append, seen.add
    graded = graded_leaves.append if graded_leaves is not None else None
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
        if b is NARY:
            for c in node._a:
                if c._op is None:
                    if graded and c.grad:
                        graded(c)
                elif c not in seen:
                    push(c)
            continue
        c = node._a
        if c._op is None:
            if graded and c.grad:
                graded(c)
        elif c not in seen:
            push(c)
        if b is not None:
            if b._op is None:
                if graded and b.grad:
                    graded(b)
            elif b not in seen:
                push(b)
    post.reverse()
    return post


def backward(root, gradient=1.0):
    """Add ∂root/∂v × gradient into `v.grad` for every v that `root` depends on.

    Like PyTorch, grads accumulate across calls: this call's contributions to a node are
    summed first, then added to its earlier grad once, so calling twice doubles every grad
    exactly. (Interior nodes must also propagate only this call's gradient.)
    """
    gradient = float(gradient)
    graded = []
    order = topo_order(root, graded)
    if not order:
        root.grad += gradient
        return
    # Set earlier grads aside (plain lists of floats: no per-node objects for the GC to scan).
    graded = list(dict.fromkeys(graded))
    earlier = [n.grad for n in order]
    dirty = any(earlier)
    if dirty:
        for n in order:
            n.grad = 0.0
    graded_earlier = [c.grad for c in graded]
    for c in graded:
        c.grad = 0.0
    root.grad = gradient
    for n in order:
        g = n.grad
        b = n._b
        if b is None:
            a = n._a
            a.grad += n._da * g
        elif b is NARY:
            for c, local in zip(n._a, n._da):
                c.grad += local * g
        else:
            a = n._a
            a.grad += n._da * g
            b.grad += n._db * g
    if dirty:
        for n, old in zip(order, earlier):
            n.grad = old + n.grad
    for c, old in zip(graded, graded_earlier):
        c.grad = old + c.grad


def _edges(node, create_graph):
    """(child, ∂node/∂child) pairs; with create_graph the locals are Values in a new graph."""
    children = node.children
    if not create_graph:
        return zip(children, node.local_grads)
    op, b = node._op, node._b
    if b is NARY:
        operands = node._db
        every = op.partials(*operands, node)
        return [(a, every[i]) for i, a in enumerate(operands) if isinstance(a, Value)]
    if b is not None:
        x, y = node._a, b
        return [(x, op.partials[0](x, y, node)), (y, op.partials[1](x, y, node))]
    if op.const_at == 1:
        return [(node._a, op.partials[0](node._a, node._db, node))]
    if op.const_at == 0:
        return [(node._a, op.partials[1](node._db, node._a, node))]
    return [(node._a, op.partials[0](node._a, node))]


def grad(output, inputs, create_graph=False):
    """∂output/∂x for each x in `inputs`, as a list of Values; no `.grad` is touched.

        >>> x = Value(3.0); dy, = grad(x ** 3, [x], create_graph=True)
        >>> dy.data, grad(dy, [x])[0].data      # 3x², 6x
        (27.0, 18.0)

    With create_graph=True the results are Values in a new graph and can be differentiated
    again; otherwise they are leaves holding the number. An input `output` does not depend
    on gets 0.
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
    """Inside this block operations record no graph: results are leaves.

        >>> with no_grad():
        ...     w.data -= lr * w.grad
    """
    before = _value._grad_enabled
    _value._grad_enabled = False
    try:
        yield
    finally:
        _value._grad_enabled = before


@contextmanager
def enable_grad():
    """Undo an enclosing no_grad (grad(create_graph=True) needs a graph)."""
    before = _value._grad_enabled
    _value._grad_enabled = True
    try:
        yield
    finally:
        _value._grad_enabled = before
