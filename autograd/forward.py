"""Forward mode: push tangents from the inputs to the outputs through the recorded graph.

    >>> value, derivative = jvp(lambda x, y: x * y + y.exp(), [2.0, 0.0], [1.0, 0.0])
    >>> value, derivative                                     # ∂/∂x of x·y + eʸ is y
    (1.0, 0.0)

Reverse mode (`backward`) starts at the output with ∂out/∂out = 1 and multiplies each edge's
local derivative into the gradient of the node below. Forward mode reads the same edges the
other way: it starts at the inputs with a tangent vᵢ each and gives every node n, children
first, the tangent Σ over its children c of (∂n/∂c)·(tangent of c), so the output ends up
with Σᵢ ∂f/∂xᵢ·vᵢ. The local
derivatives are the numbers the op table stored on each node at forward time (`local_grads`);
nothing is differentiated numerically and there is no reverse pass.

One reverse pass gives a whole row of the Jacobian (every input, one output); one forward
sweep gives a whole column (one input direction, every output). `jacobian` offers both.
"""
from numbers import Real

from .backprop import enable_grad, grad, topo_order
from .value import Value


def floats(inputs, what, name="inputs"):
    """`inputs` as a list of floats (a Value gives its `.data`), or a TypeError naming the bad one."""
    try:
        inputs = list(inputs)
    except TypeError:
        raise TypeError(f"{what}: {name} must be a list of numbers, got {type(inputs).__name__}") from None
    xs = []
    for i, x in enumerate(inputs):
        if isinstance(x, Value):
            x = x.data
        if type(x) is bool or not isinstance(x, Real):
            raise TypeError(f"{what}: {name}[{i}] must be a real number, got {type(x).__name__}: {x!r}")
        xs.append(float(x))
    return xs


def _record(fn, xs, what):
    """Call fn on fresh leaves; returns (leaves, outputs as a list, whether fn gave a list)."""
    values = [Value(x) for x in xs]
    with enable_grad():  # inside no_grad() there would be no graph to differentiate
        out = fn(*values)
    many = isinstance(out, (list, tuple))
    outs = list(out) if many else [out]
    for k, o in enumerate(outs):
        if not isinstance(o, Value):
            where = f"output {k}" if many else "the result"
            raise TypeError(f"{what}: fn must return a Value or a list of Values; "
                            f"{where} is {type(o).__name__}")
    return values, outs, many


def forward_order(outputs):
    """Every interior node the outputs depend on, each after all of its children: for one
    output the reverse of `topo_order`; for several, one depth-first walk over them all (a
    node shared by many outputs is visited once, so a chain with an output per step costs
    its length, not its length squared)."""
    if len(outputs) == 1:
        return topo_order(outputs[0])[::-1]
    order, seen = [], set()
    stack = [(out, False) for out in reversed(outputs)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif node not in seen and not node.is_leaf:
            seen.add(node)
            stack.append((node, True))
            stack.extend((c, False) for c in node.children if c not in seen)
    return order


def push(order, seeds):
    """Tangents of every node in `order` (forward order), given `seeds`: {leaf: tangent}.

    A leaf not in `seeds` (a parameter read by closure, a constant) has tangent 0. A child
    whose tangent is exactly 0 contributes nothing, not local × 0: reverse mode likewise
    skips a node whose gradient is 0, so an inf local derivative behind a constant (√x at
    0, with x held fixed) gives the same 0 in both modes instead of nan.
    """
    tangent = dict(seeds)
    get = tangent.get
    for node in order:
        t = 0.0
        for child, local in zip(node.children, node.local_grads):
            tc = get(child, 0.0)
            if tc != 0.0:
                t += local * tc
        tangent[node] = t
    return tangent


def jvp(fn, inputs, tangents):
    """`(value, derivative)` of `fn(*values)` at `inputs` along `tangents`: the value as a
    float and Σᵢ ∂f/∂xᵢ·tangents[i], by forward mode. A `fn` returning a list of Values gives
    two lists.

        >>> jvp(lambda x: [x * x, x.exp()], [0.0], [2.0])    # (x², eˣ)' · 2 at 0
        ([0.0, 1.0], [0.0, 2.0])

    `inputs` and `tangents` are lists of numbers of the same length; a Value in `inputs`
    stands for its `.data` (fn always receives fresh leaves).
    """
    xs = floats(inputs, "jvp")
    vs = floats(tangents, "jvp", "tangents")
    if len(vs) != len(xs):
        raise ValueError(f"jvp: {len(xs)} inputs but {len(vs)} tangents")
    values, outs, many = _record(fn, xs, "jvp")
    tangent = push(forward_order(outs), zip(values, vs))
    derivs = [tangent.get(o, 0.0) for o in outs]
    data = [o.data for o in outs]
    return (data, derivs) if many else (data[0], derivs[0])


def jacobian(fn, inputs, mode="rev"):
    """∂outᵢ/∂xⱼ of `fn(*values)` at `inputs`, one row per output (a single-output fn gives
    one row), each a list of floats.

        >>> jacobian(lambda x, y: [x * y, x + y], [2.0, 3.0])
        [[3.0, 2.0], [1.0, 1.0]]
        >>> jacobian(lambda x, y: [x * y, x + y], [2.0, 3.0], mode="fwd")
        [[3.0, 2.0], [1.0, 1.0]]

    `mode="rev"` fills it row by row, one reverse pass per output; `mode="fwd"` column by
    column, one forward sweep of a unit tangent per input, over the same recorded graph.
    The cheaper mode is the one with fewer passes: rev when there are fewer outputs than
    inputs (a loss and its parameters), fwd otherwise.
    """
    if mode not in ("rev", "fwd"):
        raise ValueError(f"jacobian: mode must be 'rev' or 'fwd', got {mode!r}")
    xs = floats(inputs, "jacobian")
    values, outs, _ = _record(fn, xs, "jacobian")
    if mode == "rev":
        return [[g.data for g in grad(o, values)] for o in outs]
    return _tangent_columns(outs, values)


def _tangent_columns(outs, values):
    """∂outs/∂values as rows of floats, a column per value: one forward sweep each, pushing
    a unit tangent from that value through one shared ordering of the graph."""
    order = forward_order(outs)
    columns = []
    for x in values:
        tangent = push(order, {x: 1.0})
        columns.append([tangent.get(o, 0.0) for o in outs])
    return [[col[i] for col in columns] for i in range(len(outs))]


def hessian(fn, inputs):
    """∂²f/∂xᵢ∂xⱼ of a scalar `fn(*values)` at `inputs`, an n×n list of lists of floats.

        >>> hessian(lambda x, y: x * x * y, [1.0, 2.0])      # [[2y, 2x], [2x, 0]]
        [[4.0, 2.0], [2.0, 0.0]]

    Forward-over-reverse: one `grad(..., create_graph=True)` records the gradient ∇f as a
    graph, then one forward sweep per input pushes a unit tangent through that graph, giving
    column j, ∂(∇f)/∂xⱼ. Reverse-over-reverse (a reverse pass per entry of ∇f) would cost
    the same number of passes, n, over the same graph, but each reverse pass must re-order
    the graph from its own root and keep a dictionary of gradients; the forward sweeps share
    one ordering and touch each node once. This is the combination JAX's `hessian`
    (jacfwd(jacrev(f))) uses, for the same reason.
    """
    xs = floats(inputs, "hessian")
    values, outs, many = _record(fn, xs, "hessian")
    if many:
        raise TypeError(f"hessian: fn must return one Value, got a list of {len(outs)}")
    gradient = grad(outs[0], values, create_graph=True)
    return _tangent_columns(gradient, values)
