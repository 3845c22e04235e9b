"""Every op of the table: first and second derivatives against finite differences and closed
forms across each op's domain, conventions at kinks, and the fused `linear` node."""
import math

import pytest
from hypothesis import given, strategies as st

from autograd import Value, gradcheck, gradgradcheck, grad, linear, topo_order
from autograd import ops
from autograd.testing import BINARY_OPS, KINKS, UNARY_OPS, apply, inputs_for, integer_powers

ALL_OPS = UNARY_OPS + BINARY_OPS


def test_op_table_covers_every_op_the_contract_lists():
    assert set(ALL_OPS) | {"linear"} == set(ops.OPS)
    assert set(ops.UNARY) | set(ops.BINARY) | {"linear"} == set(ops.OPS)


@pytest.mark.parametrize("op", ALL_OPS)
@given(data=st.data())
def test_first_derivative_matches_finite_differences(op, data):
    xs = data.draw(inputs_for(op), label="xs")
    assert gradcheck(lambda *v: apply(op, *v), xs)


@pytest.mark.parametrize("op", ALL_OPS)
@given(data=st.data())
def test_second_derivative_matches_finite_differences(op, data):
    xs = data.draw(inputs_for(op), label="xs")
    assert gradgradcheck(lambda *v: apply(op, *v), xs)


@pytest.mark.parametrize("op", BINARY_OPS)
@given(data=st.data())
def test_number_on_either_side_matches_value_on_either_side(op, data):
    x, y = data.draw(inputs_for(op), label="xs")
    a, b = Value(x), Value(y)
    both = apply(op, a, b)
    both.backward()
    left, right = Value(x), Value(y)
    with_const_right, with_const_left = apply(op, left, y), apply(op, x, right)
    with_const_right.backward()
    with_const_left.backward()
    assert with_const_right.data == both.data == with_const_left.data
    assert (left.grad, right.grad) == (a.grad, b.grad)
    assert gradgradcheck(lambda v: apply(op, v, y), [x])
    assert gradgradcheck(lambda v: apply(op, x, v), [y])


@pytest.mark.parametrize("op", ["leaky_relu", "elu"])
@given(data=st.data())
def test_parameter_as_number_or_value(op, data):
    x, p = data.draw(inputs_for(op), label="xs")
    a, b, c = Value(x), Value(p), Value(x)
    as_value, as_number = apply(op, a, b), apply(op, c, p)
    as_value.backward()
    as_number.backward()
    assert as_value.data == as_number.data and a.grad == c.grad
    assert as_number.children == (c,) and as_value.children == (a, b)
    assert b.grad == (0.0 if x > 0 else x if op == "leaky_relu" else math.expm1(x))


@given(integer_powers())
def test_integer_powers_of_either_sign(case):
    x, n = case
    assert gradcheck(lambda v: v ** n, [x])
    assert gradgradcheck(lambda v: v ** n, [x])
    v = Value(x)
    (v ** n).backward()
    assert v.grad == pytest.approx(n * x ** (n - 1) if n else 0.0, rel=1e-12, abs=1e-300)


def second(f, x):
    """f''(x) as grad(grad(f, create_graph=True)), with f' alongside."""
    v = Value(x)
    d1, = grad(f(v), [v], create_graph=True)
    assert isinstance(d1, Value)
    d2, = grad(d1, [v])
    return d1.data, d2.data


def phi(x):
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


CLOSED_FORMS = {  # f, f', f''
    "tanh": (lambda v: v.tanh(), lambda x: 1 - math.tanh(x) ** 2,
             lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2)),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: s(x) * (1 - s(x)),
                lambda x: s(x) * (1 - s(x)) * (1 - 2 * s(x))),
    "exp": (lambda v: v.exp(), math.exp, math.exp),
    "log": (lambda v: v.log(), lambda x: 1 / x, lambda x: -1 / x ** 2),
    "cube": (lambda v: v ** 3, lambda x: 3 * x * x, lambda x: 6 * x),
    "gelu": (lambda v: v.gelu(), lambda x: 0.5 * math.erfc(-x / math.sqrt(2)) + x * phi(x),
             lambda x: phi(x) * (2 - x * x)),
    "softplus": (lambda v: v.softplus(), lambda x: s(x), lambda x: s(x) * (1 - s(x))),
    "erf": (lambda v: v.erf(), lambda x: 2 / math.sqrt(math.pi) * math.exp(-x * x),
            lambda x: -4 * x / math.sqrt(math.pi) * math.exp(-x * x)),
}


def s(x):
    return 1 / (1 + math.exp(-x))


@pytest.mark.parametrize("name", CLOSED_FORMS)
@given(x=st.floats(-8.0, 8.0))
def test_second_derivative_matches_closed_form(name, x):
    f, df, d2f = CLOSED_FORMS[name]
    if name == "log":
        x = abs(x) + 1e-2
    d1, d2 = second(f, x)
    assert d1 == pytest.approx(df(x), rel=1e-9, abs=1e-12)
    assert d2 == pytest.approx(d2f(x), rel=1e-9, abs=1e-12)


@given(st.floats(0.05, 5.0), st.floats(-3.0, 3.0))
def test_hessian_of_x_pow_y_matches_closed_form(x, y):
    a, b = Value(x), Value(y)
    ga, gb = grad(a ** b, [a, b], create_graph=True)
    haa, hab = grad(ga, [a, b])
    hba, hbb = grad(gb, [a, b])
    lx = math.log(x)
    assert ga.data == pytest.approx(y * x ** (y - 1), rel=1e-12)
    assert gb.data == pytest.approx(x ** y * lx, rel=1e-12, abs=1e-300)
    assert haa.data == pytest.approx(y * (y - 1) * x ** (y - 2), rel=1e-9, abs=1e-12)
    assert hbb.data == pytest.approx(x ** y * lx * lx, rel=1e-9, abs=1e-12)
    mixed = x ** (y - 1) * (1 + y * lx)
    assert hab.data == pytest.approx(mixed, rel=1e-9, abs=1e-12)
    assert hba.data == pytest.approx(mixed, rel=1e-9, abs=1e-12)


def test_third_derivative_of_cube_is_six():
    x = Value(1.7)
    d1, = grad(x ** 3, [x], create_graph=True)
    d2, = grad(d1, [x], create_graph=True)
    d3, = grad(d2, [x])
    assert (d1.data, d2.data, d3.data) == pytest.approx((3 * 1.7 ** 2, 6 * 1.7, 6.0))


# -- kinks: PyTorch's conventions -----------------------------------------------------------
def derivative_at_zero(f):
    x = Value(0.0)
    f(x).backward()
    return x.grad


def test_relu_derivative_at_zero_is_zero():
    assert derivative_at_zero(lambda v: v.relu()) == 0.0


def test_abs_derivative_at_zero_is_zero():
    assert derivative_at_zero(abs) == 0.0


@pytest.mark.parametrize("slope", [0.01, 0.2, 0.0])
def test_leaky_relu_derivative_at_zero_is_the_negative_slope(slope):
    assert derivative_at_zero(lambda v: v.leaky_relu(slope)) == slope


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_elu_derivative_at_zero_is_alpha(alpha):
    assert derivative_at_zero(lambda v: v.elu(alpha)) == alpha


@given(st.floats(-700, 0, exclude_max=True), st.sampled_from([1.0, 0.5, 2.0]))
def test_elu_derivative_stays_exact_far_left(x, alpha):
    # alpha·exp(x), not out + alpha: that sum cancels to 0 once exp(x) is below alpha's ulp
    v = Value(x)
    v.elu(alpha).backward()
    assert v.grad == pytest.approx(alpha * math.exp(x), rel=1e-15, abs=0)


def test_kink_conventions_hold_for_grad_too():
    x = Value(0.0)
    got = [g.data for g in grad(x.relu() + abs(x) + x.leaky_relu(0.1) + x.elu(2.0), [x])]
    assert got == [0.0 + 0.0 + 0.1 + 2.0]


# -- linear: one n-ary node, bit-identical to micrograd's unfused sum ------------------------
operand = st.floats(-10.0, 10.0)


@st.composite
def linear_cases(draw):
    n = draw(st.integers(0, 6))
    nums = draw(st.lists(operand, min_size=2 * n + 1, max_size=2 * n + 1))
    is_value = draw(st.lists(st.booleans(), min_size=2 * n + 1, max_size=2 * n + 1))
    return n, nums, is_value


def make(nums, is_value):
    return [Value(x) if v else x for x, v in zip(nums, is_value)]


@given(linear_cases())
def test_linear_matches_unfused_sum_bit_for_bit(case):
    n, nums, is_value = case
    fused_ops, plain_ops = make(nums, is_value), make(nums, is_value)
    out = linear(fused_ops[:n], fused_ops[n:2 * n], fused_ops[-1])
    ws, xs, b = plain_ops[:n], plain_ops[n:2 * n], plain_ops[-1]
    ref = sum((w * x for w, x in zip(ws, xs)), b)
    ref_data = ref.data if isinstance(ref, Value) else ref
    assert out.data == ref_data
    assert out.op == "linear"
    assert out.children == tuple(v for v in fused_ops if isinstance(v, Value))
    out.backward(0.75)
    if isinstance(ref, Value):
        ref.backward(0.75)
    for f, p in zip(fused_ops, plain_ops):
        if isinstance(f, Value):
            assert f.grad == p.grad


@given(linear_cases())
def test_linear_second_derivatives(case):
    n, nums, _ = case
    vals = [Value(x) for x in nums]
    out = linear(vals[:n], vals[n:2 * n], vals[-1])
    first = grad(out, vals, create_graph=True)
    assert [g.data for g in first] == nums[n:2 * n] + nums[:n] + [1.0]
    if n:  # ∂²/∂w₀∂x₀ = 1, ∂²/∂w₀² = 0
        hess_row = grad(first[0], vals)
        assert [h.data for h in hess_row] == [0.0] * n + [1.0] + [0.0] * n
    assert gradcheck(lambda *v: linear(v[:n], v[n:2 * n], v[-1]).tanh(), nums)


@st.composite
def layer_cases(draw):
    """A layer on its fast paths: Value weights and biases, inputs all Values (some of them
    interior nodes) or all floats; now and then a computed (interior) weight or bias."""
    n, rows = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    W = draw(st.lists(st.lists(operand, min_size=n, max_size=n), min_size=rows, max_size=rows))
    bs = draw(st.lists(operand, min_size=rows, max_size=rows))
    xs = draw(st.lists(operand, min_size=n, max_size=n))
    kind = draw(st.sampled_from(["leaf values", "interior values", "floats"]))
    computed_w = draw(st.sampled_from([None] + [(r, i) for r in range(rows) for i in range(n)]))
    computed_b = draw(st.sampled_from([None] + list(range(rows))))
    return W, bs, xs, kind, computed_w, computed_b


def build_layer(case):
    W, bs, xs, kind, computed_w, computed_b = case
    leaves = [[Value(w) for w in row] for row in W] + [[Value(b) for b in bs]]
    Wv = [list(row) for row in leaves[:-1]]
    bv = list(leaves[-1])
    if computed_w is not None:
        r, i = computed_w
        Wv[r][i] = Wv[r][i] * 1.0
    if computed_b is not None:
        bv[computed_b] = bv[computed_b] + 0.0
    x_leaves = [Value(x) for x in xs]
    if kind == "floats":
        xv = list(xs)
    elif kind == "interior values":
        xv = [x * 1.0 if i % 2 == 0 else x for i, x in enumerate(x_leaves)]
    else:
        xv = x_leaves
    return Wv, xv, bv, [v for row in leaves for v in row] + (x_leaves if kind != "floats" else [])


@given(layer_cases())
def test_linear_layer_builds_the_same_nodes_as_the_general_path(case):
    from autograd import linear_layer
    from autograd.value import nary
    Wv, xv, bv, _ = build_layer(case)
    fast = linear_layer(Wv, xv, bv)
    slow = [nary(ops.LINEAR, (*ws, *xv, b)) for ws, b in zip(Wv, bv)]
    for f, s in zip(fast, slow):
        assert (f.data, f.op, f.children, f.local_grads, f.operands) == \
            (s.data, s.op, s.children, s.local_grads, s.operands)
        assert topo_order(f)[1:] == topo_order(s)[1:]  # the same interior children, same order
        assert f.data == linear(f.operands[:len(xv)], xv, f.operands[-1]).data


@given(layer_cases())
def test_linear_layer_gradients(case):
    from autograd import linear_layer
    Wv, xv, bv, leaves = build_layer(case)
    loss = sum(o.tanh() for o in linear_layer(Wv, xv, bv))
    by_engine = grad(loss, leaves)
    unfused = sum(sum((w * x for w, x in zip(ws, xv)), b).tanh() for ws, b in zip(Wv, bv))
    assert [g.data for g in by_engine] == pytest.approx([g.data for g in grad(unfused, leaves)],
                                                        rel=1e-12, abs=1e-12)


# -- numbers outside the floats: one IEEE rule for every op and every derivative -----------

def same(ours, theirs, rel=1e-12, abs=1e-300):
    """Equal as IEEE numbers: nan matches nan, ±inf matches only itself."""
    if math.isnan(theirs) or math.isinf(theirs):
        return (math.isnan(ours) and math.isnan(theirs)) or ours == theirs
    return ours == pytest.approx(theirs, rel=rel, abs=abs)


def _is_domain_error(op, x, y):
    return ((op == "/" and y == 0) or
            (op == "**" and ((x == 0 and y < 0) or (x < 0 and not float(y).is_integer()))))


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
@given(x=st.floats(), y=st.floats())
def test_binary_ops_and_their_derivatives_follow_ieee_as_pytorch(op, x, y):
    import torch
    a, b = Value(x), Value(y)
    try:
        out = apply(op, a, b)
    except ArithmeticError:
        assert _is_domain_error(op, x, y) and not math.isnan(x) and not math.isnan(y)
        return
    assert not _is_domain_error(op, x, y) or math.isnan(x) or math.isnan(y)
    out.backward()
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, y))
    t = {"+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div, "**": torch.pow}[op](ta, tb)
    t.backward()
    assert same(out.data, t.item()), (out.data, t.item())
    assert same(a.grad, ta.grad.item()), ("d/dx", a.grad, ta.grad.item())
    if not (op == "**" and x < 0):  # d/dy x**y is undefined for x < 0: we say nan
        assert same(b.grad, tb.grad.item()), ("d/dy", b.grad, tb.grad.item())


def _torch_unary(name):
    import torch
    F = torch.nn.functional
    return {"neg": torch.neg, "abs": torch.abs, "exp": torch.exp, "log": torch.log,
            "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
            "softplus": lambda t: torch.logaddexp(t, torch.zeros_like(t)),
            "erf": torch.erf, "gelu": F.gelu}[name]


@pytest.mark.parametrize("name", list(ops.UNARY))
@given(x=st.floats(allow_nan=False))
def test_unary_ops_and_their_derivatives_follow_ieee_as_pytorch(name, x):
    import torch
    v = Value(x)
    if name == "log" and x <= 0:
        with pytest.raises(ArithmeticError, match="log"):
            v.log()
        return
    out = apply(name, v)
    out.backward()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tout = _torch_unary(name)(t)
    tout.backward()
    assert same(out.data, tout.item(), rel=1e-9), (out.data, tout.item())
    # 1 - tanh², σ(1 - σ): a rounding of `out` shows as an absolute error of ~1e-16
    assert same(v.grad, t.grad.item(), rel=1e-9, abs=1e-15), ("derivative", v.grad, t.grad.item())


@pytest.mark.parametrize("op", UNARY_OPS + BINARY_OPS)
@given(other=st.floats(-3.0, 3.0), side=st.sampled_from([0, 1]))
def test_nan_in_gives_nan_out(op, other, side):
    """A nan operand makes the result nan; a kink's derivative there is nan too (neither
    side of the kink), while a derivative that does not read the operand (d(-x)/dx, d(x*y)/dx)
    keeps its value."""
    v = Value(math.nan)
    if op in BINARY_OPS:
        operands = (v, Value(other)) if side == 0 else (Value(other), v)
    elif op in ("leaky_relu", "elu"):
        operands = (v, 0.1)
    else:
        operands = (v,)
    if op == "/" and side == 0 and other == 0:
        with pytest.raises(ArithmeticError, match="division by zero"):
            apply(op, *operands)
        return
    out = apply(op, *operands)
    if op == "**" and (side, other) in ((0, 0.0), (1, 1.0)):
        assert out.data == 1.0  # x ** 0 == 1 and 1 ** y == 1 for every x, y, nan included (IEEE)
        return
    assert math.isnan(out.data), out.data
    if op in KINKS:
        out.backward()
        assert math.isnan(v.grad), (op, v.grad)

@pytest.mark.parametrize("make, want", [
    (lambda: Value(1000.0).exp(), math.inf),
    (lambda: Value(10.0) ** 400, math.inf),
    (lambda: Value(-10.0) ** 401, -math.inf),
    (lambda: Value(-10.0) ** 400.0, math.inf),
    (lambda: 10.0 ** Value(400), math.inf),
    (lambda: Value(1e200) * 1e200, math.inf),
    (lambda: Value(-1e200) * Value(1e200), -math.inf),
    (lambda: Value(1e300) / 1e-300, math.inf),
    (lambda: Value(1.7e308) + 1.7e308, math.inf),
    (lambda: Value(-1000.0).elu(1e308) * 10, -math.inf),
    (lambda: Value(math.inf).log(), math.inf),
    (lambda: Value(math.inf).tanh(), 1.0),
])
def test_overflow_gives_infinity_in_every_op(make, want):
    assert make().data == want


@pytest.mark.parametrize("make, x, want", [
    (lambda x: x ** -1.5, 1e-200, -math.inf),      # -1.5 x^-2.5 overflows
    (lambda x: x.exp(), 1000.0, math.inf),
    (lambda x: 2.0 ** x, 1100.0, math.inf),        # 2^x ln 2
    (lambda x: x ** 3, 1e200, math.inf),
    (lambda x: x.log(), 5e-324, math.inf),
    (lambda x: 1.0 / x, 1e-200, -math.inf),
])
def test_derivatives_follow_the_same_rule(make, x, want):
    v = Value(x)
    make(v).backward()
    assert v.grad == want
    d, = grad(make(v), [v], create_graph=True)  # the same formula on Values
    assert d.data == want


def test_relu_of_nan_is_nan_so_a_nan_feature_makes_the_loss_nan():
    w, b = Value(0.5), Value(0.1)
    loss = ((w * math.nan + b).relu() - 1.0) ** 2
    loss.backward()
    assert math.isnan(loss.data) and math.isnan(w.grad)
