"""grad(): gradients as values, first and higher order, without touching .grad; no_grad()."""
import pytest
from hypothesis import given, strategies as st

from autograd import Value, enable_grad, grad, no_grad
from autograd.testing import expressions


def test_grad_does_not_touch_dot_grad():
    x, y = Value(2.0), Value(-3.0)
    x.grad = 5.0
    z = x * y + x.tanh()
    gx, gy = grad(z, [x, y])
    assert (x.grad, y.grad, z.grad) == (5.0, 0.0, 0.0)
    assert gy.data == 2.0


def test_create_graph_false_gives_plain_leaf_values():
    x = Value(3.0)
    g, = grad(x * x * x, [x])
    assert isinstance(g, Value) and g.data == 27.0 and g.op == "" and g.children == ()


def test_create_graph_true_gives_differentiable_values():
    x = Value(3.0)
    g, = grad(x * x * x, [x], create_graph=True)
    assert isinstance(g, Value) and g.data == 27.0 and g.op != ""
    g2, = grad(g, [x])
    assert g2.data == 18.0
    g.backward()  # the new graph also backprops into .grad
    assert x.grad == 18.0


def test_unreachable_input_gets_zero():
    x, y = Value(1.0), Value(2.0)
    gx, gy = grad(x.exp(), [x, y])
    assert gy.data == 0.0 and isinstance(gy, Value)
    gy2, = grad(x.exp(), [y], create_graph=True)
    assert gy2.data == 0.0


def test_input_given_twice_gets_its_gradient_twice():
    x = Value(1.5)
    g1, g2 = grad(x * x, [x, x])
    assert g1.data == g2.data == 3.0


def test_output_as_input_is_one():
    x = Value(1.5)
    y = x * 2
    assert [g.data for g in grad(y, [y, x])] == [1.0, 2.0]


def test_linear_function_has_zero_second_derivative():
    x = Value(1.5)
    g, = grad(3 * x + 1, [x], create_graph=True)
    assert grad(g, [x])[0].data == 0.0


def test_grad_rejects_non_values():
    with pytest.raises(TypeError, match="output"):
        grad(1.0, [Value(1.0)])
    with pytest.raises(TypeError, match=r"inputs\[1\]"):
        grad(Value(1.0), [Value(1.0), 2.0])


@given(expressions(n_inputs=3, max_ops=12))
def test_grad_agrees_with_backward(case):
    fn, xs = case
    vals = [Value(x) for x in xs]
    out = fn(*vals)
    gs = grad(out, vals)
    assert all(v.grad == 0.0 for v in vals)
    out.backward()
    for v, g in zip(vals, gs):
        assert g.data == pytest.approx(v.grad, rel=1e-12, abs=1e-15)
    gcs = grad(fn(*vals), vals, create_graph=True)
    for v, g in zip(vals, gcs):
        assert g.data == pytest.approx(v.grad, rel=1e-12, abs=1e-15)


@given(expressions(n_inputs=2, max_ops=10))
def test_grad_agrees_with_independent_forward_mode(case):
    fn, xs = case
    vals = [Value(x) for x in xs]
    for g, want in zip(grad(fn(*vals), vals), fn.gradient(xs)):
        assert g.data == pytest.approx(want, rel=1e-9, abs=1e-12)


# -- no_grad ---------------------------------------------------------------------------------
def test_no_grad_records_no_graph():
    w = Value(2.0)
    with no_grad():
        y = (w * 3).tanh() + w ** 2 - w.log()
        w.data -= 0.5 * y.data
    assert y.op == "" and y.children == () and y.local_grads == ()
    z = w * 2  # recording resumes afterwards
    assert z.children == (w,)


def test_no_grad_nests_and_restores_after_an_exception():
    x = Value(1.0)
    with no_grad():
        with no_grad():
            assert (x + 1).op == ""
        assert (x + 1).op == ""
        with enable_grad():
            assert (x + 1).op == "+"
        assert (x + 1).op == ""
    assert (x + 1).op == "+"
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            x / 0
    assert (x + 1).op == "+"


def test_grad_under_no_grad():
    x = Value(2.0)
    y = x ** 3  # built with recording on
    with no_grad():
        g, = grad(y, [x])
        assert g.data == 12.0
        gc, = grad(y, [x], create_graph=True)  # create_graph needs a graph even here
        assert grad(gc, [x])[0].data == 12.0
        assert (x * 2).op == ""  # still off afterwards


@given(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, -1.0]), st.sampled_from([0.0, 0.5, 2.0, 3.0]),
       st.booleans())
def test_pow_at_a_zero_base_same_numbers_with_and_without_create_graph(y, x_data, y_is_value):
    """The `**` derivatives branch on the operands (0⁰, a vertical tangent, 0 base for d/dy);
    those tests must read numbers when the formula runs on Values too."""
    for xd in (0.0, x_data):
        if xd == 0 and y < 0:
            continue  # 0 ** -1 is a DivisionByZero, tested elsewhere
        x, e = Value(xd), Value(y)
        out = x ** (e if y_is_value else y)
        inputs = [x, e] if y_is_value else [x]
        plain = [g.data for g in grad(out, inputs)]
        graphed = [g.data for g in grad(out, inputs, create_graph=True)]
        assert plain == graphed or all(a == b or (a != a and b != b) for a, b in zip(plain, graphed))
