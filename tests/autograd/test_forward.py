"""Forward mode: jvp against the reverse gradient, jacobian in both modes, hessian."""
import math

import pytest
from hypothesis import given, settings, strategies as st

import autograd.backprop
import autograd.forward
from autograd import Value, define_op, grad, linear, no_grad
from autograd.forward import forward_order, hessian, jacobian, jvp
from autograd.testing import Expression, apply, check_jvp, expressions, inputs_for, tangents
from autograd.testing import BINARY_OPS, UNARY_OPS
from nn import MLP, mse_loss


def close(a, b, rel, abs_=0.0):
    return abs(a - b) <= rel * max(abs(a), abs(b)) + abs_


# -- jvp ----------------------------------------------------------------------------------
def test_jvp_of_a_product_and_a_list():
    value, d = jvp(lambda x, y: x * y, [3.0, 4.0], [1.0, 0.5])
    assert (value, d) == (12.0, 4.0 + 0.5 * 3.0)
    values, ds = jvp(lambda x: [x * x, x.exp(), x], [0.0], [2.0])
    assert values == [0.0, 1.0, 0.0] and ds == [0.0, 2.0, 2.0]


@given(expressions(n_inputs=3, max_ops=12), tangents(3))
def test_jvp_equals_reverse_gradient_dot_tangent(case, v):
    fn, xs = case
    assert check_jvp(fn, xs, v, rtol=1e-12)


@given(expressions(n_inputs=3, max_ops=12), tangents(3))
def test_jvp_equals_the_engine_free_float_reference(case, v):
    fn, xs = case
    value, d = jvp(fn, xs, v)
    reference = math.fsum(g * t for g, t in zip(fn.gradient(xs), v))
    assert value == pytest.approx(fn.evaluate(xs), rel=1e-12, abs=1e-12)
    assert d == pytest.approx(reference, rel=1e-9, abs=1e-9)


@given(st.data())
def test_jvp_of_every_table_op(data):
    op = data.draw(st.sampled_from(UNARY_OPS + BINARY_OPS))
    xs = data.draw(inputs_for(op))
    v = data.draw(tangents(len(xs)))
    fn = lambda *vals: apply(op, *vals)
    assert check_jvp(fn, xs, v)
    # with a plain-number operand (a one-child node), on either side of an infix op
    if len(xs) == 2:
        assert check_jvp(lambda a: apply(op, a, xs[1]), xs[:1], v[:1])
    if op in BINARY_OPS:
        assert check_jvp(lambda b: apply(op, xs[0], b), xs[1:], v[1:])


hypot3 = define_op("hypot3", lambda x, y, z: math.sqrt(x * x + y * y + z * z),
                   lambda x, y, z, out: x / out, lambda x, y, z, out: y / out,
                   lambda x, y, z, out: z / out)
cube = define_op("cube", lambda x: x ** 3, lambda x, out: 3 * x ** 2)
mix = define_op("mix", lambda x, y: x * math.sin(y),
                lambda x, y, out: _sin(y),
                lambda x, y, out: x * _cos(y))


def _sin(y):
    return math.sin(y) if isinstance(y, float) else sin_op(y)


def _cos(y):
    return math.cos(y) if isinstance(y, float) else cos_op(y)


cos_op = define_op("cos", math.cos, lambda x, out: -_sin(x))
sin_op = define_op("sin", math.sin, lambda x, out: _cos(x))


@given(st.lists(st.floats(-3, 3), min_size=3, max_size=3).filter(lambda p: max(map(abs, p)) > 0.1),
       tangents(3))
def test_jvp_through_custom_and_linear_nodes(xs, v):
    def fn(a, b, c):
        h = hypot3(a, b * 2.0, c)               # n-ary custom op
        n = linear([a, b, 0.5], [c, h, a], -b)  # n-ary linear, Values and numbers mixed
        return mix(cube(n.tanh()), a) + sin_op(h)
    assert check_jvp(fn, xs, v)


def test_jvp_makes_no_reverse_pass_and_calls_fn_once(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a reverse pass was made")
    monkeypatch.setattr(autograd.backprop, "backward", refuse)
    monkeypatch.setattr(autograd.backprop, "grad", refuse)
    monkeypatch.setattr(autograd.forward, "grad", refuse)
    calls = []

    def fn(x, y):
        calls.append(1)
        return (x * y).tanh() + x.exp()
    value, d = jvp(fn, [0.3, -0.4], [1.0, 2.0])
    assert len(calls) == 1
    t = math.tanh(-0.12)
    assert d == pytest.approx((1 - t * t) * (-0.4 + 2 * 0.3) + math.exp(0.3), rel=1e-14)


def test_jvp_works_inside_no_grad_and_on_value_inputs():
    with no_grad():
        assert jvp(lambda x: x * x, [Value(3.0)], [1.0]) == (9.0, 6.0)


def test_an_inf_local_derivative_behind_a_fixed_input_gives_zero_as_reverse_does():
    fn = lambda x, y: x ** 0.5 + y
    assert jvp(fn, [0.0, 1.0], [0.0, 1.0]) == (1.0, 1.0)
    assert jvp(fn, [0.0, 1.0], [1.0, 0.0])[1] == math.inf


def test_jvp_refuses_bad_arguments():
    with pytest.raises(ValueError, match="2 inputs but 1 tangents"):
        jvp(lambda x, y: x * y, [1.0, 2.0], [1.0])
    with pytest.raises(TypeError, match=r"inputs\[1\].*str"):
        jvp(lambda x, y: x * y, [1.0, "2"], [1.0, 1.0])
    with pytest.raises(TypeError, match=r"jvp: tangents\[0\] must be a real number, got bool"):
        jvp(lambda x: x, [1.0], [True])
    with pytest.raises(TypeError, match="jacobian: inputs must be a list of numbers, got float"):
        jacobian(lambda x: x, 1.0)
    with pytest.raises(TypeError, match="float"):
        jvp(lambda x: 1.0, [1.0], [1.0])
    with pytest.raises(TypeError, match="output 1 is int"):
        jvp(lambda x: [x, 2], [1.0], [1.0])


# -- jacobian -----------------------------------------------------------------------------
def all_slots(expr):
    """A function returning every intermediate result of `expr`: many outputs, shared nodes."""
    def fn(*values):
        slots = list(values)
        for op, args in expr.program:
            slots.append(apply(op, *(slots[a] if type(a) is int else a for a in args)))
        return slots[expr.n_inputs:]
    return fn


def path_sizes(fn, xs):
    """|J| summed over paths: entry (i, j) is Σ over the paths from input j to output i of
    |the product of their local derivatives|, the size rounding errors in J scale with."""
    values = [Value(x) for x in xs]
    out = fn(*values)
    outs = out if isinstance(out, list) else [out]
    order = forward_order(outs)
    columns = []
    for x in values:
        size = {x: 1.0}
        for node in order:
            size[node] = math.fsum(abs(d) * size.get(c, 0.0)
                                   for c, d in zip(node.children, node.local_grads))
        columns.append([size.get(o, 0.0) for o in outs])
    return [[col[i] for col in columns] for i in range(len(outs))]


@given(expressions(n_inputs=3, max_ops=10))
def test_jacobian_forward_equals_reverse(case):
    expr, xs = case
    fn = all_slots(expr)
    rev, fwd = jacobian(fn, xs, mode="rev"), jacobian(fn, xs, mode="fwd")
    assert len(rev) == len(expr.program) and all(len(row) == 3 for row in rev)
    sizes = path_sizes(fn, xs)
    for k, (r, f, s) in enumerate(zip(rev, fwd, sizes)):
        reference = Expression(3, expr.program[:k + 1]).gradient(xs)
        for a, b, c, size in zip(r, f, reference, s):
            assert abs(a - b) <= 1e-12 * size + 1e-300, (k, a, b, size)
            assert abs(a - c) <= 1e-9 * size + 1e-12, (k, a, c, size)


def test_jacobian_shapes_and_types():
    assert jacobian(lambda x, y: x * y, [2.0, 5.0]) == [[5.0, 2.0]]
    assert jacobian(lambda x, y: x * y, [2, 5], mode="fwd") == [[5.0, 2.0]]
    J = jacobian(lambda x: [x, x * 3, Value(1.0)], [2.0], mode="fwd")
    assert J == [[1.0], [3.0], [0.0]] and all(type(e) is float for row in J for e in row)
    assert jacobian(lambda x: [x, x * 3, Value(1.0)], [2.0]) == J
    with pytest.raises(ValueError, match="mode.*'backward'"):
        jacobian(lambda x: x, [1.0], mode="backward")


# -- hessian ------------------------------------------------------------------------------
def grad_at(fn, xs):
    vs = [Value(x) for x in xs]
    return [g.data for g in grad(fn(*vs), vs)]


def fd_of_grad(fn, xs, eps=1e-6):
    """Column j: central differences of the analytic gradient along input j."""
    cols = []
    for j in range(len(xs)):
        up, down = list(xs), list(xs)
        up[j] += eps
        down[j] -= eps
        cols.append([(a - b) / (2 * eps) for a, b in zip(grad_at(fn, up), grad_at(fn, down))])
    return [[col[i] for col in cols] for i in range(len(xs))]


def assert_hessian_ok(fn, xs):
    H = hessian(fn, xs)
    n = len(xs)
    assert len(H) == n and all(len(row) == n and all(type(e) is float for e in row) for row in H)
    size = max([abs(e) for row in H for e in row] + [1.0])
    numeric = fd_of_grad(fn, xs)
    for i in range(n):
        for j in range(n):
            assert abs(H[i][j] - H[j][i]) <= 1e-12 * size, (i, j, H)
            assert abs(H[i][j] - numeric[i][j]) <= 1e-5 * (1 + abs(numeric[i][j])), (i, j, H, numeric)
    return H


def test_hessian_of_a_polynomial():
    assert hessian(lambda x, y: x * x * y + y ** 3, [1.0, 2.0]) == [[4.0, 2.0], [2.0, 12.0]]
    assert hessian(lambda x, y: x * 2.0, [1.0, 2.0]) == [[0.0, 0.0], [0.0, 0.0]]
    with pytest.raises(TypeError, match="one Value"):
        hessian(lambda x: [x, x], [1.0])


@settings(max_examples=max(20, settings.default.max_examples // 2))
@given(expressions(n_inputs=3, max_ops=8, order=2))
def test_hessian_is_symmetric_and_matches_finite_differences_of_grad(case):
    fn, xs = case
    assert_hessian_ok(fn, xs)


def mlp_loss(fused, activation, seed):
    """The loss of a small MLP as a function of its parameters (fn(*params))."""
    model = MLP(2, [3, 2], activation=activation, seed=seed, fused=fused)
    neurons = [n for layer in model.layers for n in layer.neurons]
    start = [p.data for p in model.parameters()]

    def loss(*ps):
        k = 0
        for n in neurons:           # the model computes with the Values jvp passes in
            n.w = list(ps[k:k + n.nin])
            n.b = ps[k + n.nin]
            k += n.nin + 1
        total = 0.0
        for x, y in (([0.5, -1.0], [1.0, 0.0]), ([-0.3, 0.8], [0.0, 1.0])):
            total = total + mse_loss(model(x), y)
        return total
    return loss, start


@settings(max_examples=max(10, settings.default.max_examples // 4))
@given(st.booleans(), st.sampled_from(["tanh", "relu", "gelu"]), st.integers(0, 10 ** 6),
       st.data())
def test_mlp_losses_in_both_modes(fused, activation, seed, data):
    loss, params = mlp_loss(fused, activation, seed)
    v = data.draw(tangents(len(params)))
    assert check_jvp(loss, params, v)
    rev, fwd = jacobian(loss, params), jacobian(loss, params, mode="fwd")
    sizes = path_sizes(loss, params)[0]
    assert all(abs(a - b) <= 1e-12 * size + 1e-300 for a, b, size in zip(rev[0], fwd[0], sizes))
    H = hessian(loss, params)
    size = max([abs(e) for row in H for e in row] + [1.0])
    n = len(params)
    assert all(abs(H[i][j] - H[j][i]) <= 1e-12 * size for i in range(n) for j in range(n))
    if activation != "relu":  # relu kinks make finite differences of grad unreliable
        assert_hessian_ok(loss, params)


def test_fused_and_unfused_mlps_give_the_same_hessian():
    a, params = mlp_loss(True, "tanh", 3)
    b, _ = mlp_loss(False, "tanh", 3)
    Ha, Hb = hessian(a, params), hessian(b, params)
    assert all(close(x, y, 1e-12, 1e-14) for ra, rb in zip(Ha, Hb) for x, y in zip(ra, rb))


def test_deep_chains_and_an_output_per_step():
    def chain(x, n=100_000):
        for _ in range(n):
            x = x * 1.0 + 0.0
        return x
    assert jvp(chain, [2.0], [3.0]) == (2.0, 3.0)          # iterative: no recursion limit

    def trajectory(x, n=2000):
        out, h = [], x
        for _ in range(n):
            h = (h * 0.9 + x * 0.5).tanh()
            out.append(h)
        return out
    _, ds = jvp(trajectory, [0.3], [1.0])                  # one walk, not 2000 of them
    assert len(ds) == 2000 and all(math.isfinite(d) for d in ds)
    J = jacobian(lambda x: trajectory(x, 50), [0.3])
    assert [row[0] for row in J] == pytest.approx(jvp(lambda x: trajectory(x, 50), [0.3], [1.0])[1],
                                                  rel=1e-12, abs=1e-15)
