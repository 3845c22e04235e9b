"""define_op: custom primitives behave like built-ins."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from autograd import DomainError, Value, define_op, grad, gradcheck, gradgradcheck
from autograd.ops import exp, log

# x ↦ x·eˣ, its derivative written with the generic exp so it also runs on Values
xexp = define_op("xexp", lambda x: x * math.exp(x), lambda x, out: exp(x) + out)
hypot = define_op("hypot", math.hypot, lambda x, y, out: x / out, lambda x, y, out: y / out)
# fused multiply-add, three operands
fma = define_op("fma", lambda a, b, c: a * b + c,
                lambda a, b, c, out: b, lambda a, b, c, out: a, lambda a, b, c, out: 1.0)
safe_log = define_op("safe_log", math.log, lambda x, out: 1.0 / x)


def test_unary_forward_backward_and_node():
    x = Value(0.5)
    y = xexp(x)
    y.backward()
    assert y.data == 0.5 * math.exp(0.5) and y.op == "xexp" and y.children == (x,)
    assert x.grad == pytest.approx(1.5 * math.exp(0.5))


def test_plain_numbers_give_a_float():
    assert type(xexp(1)) is float and xexp(1) == math.e
    assert hypot(3, 4.0) == 5.0 and fma(2.0, 3.0, 1.0) == 7.0


def test_binary_with_a_number_on_either_side():
    x = Value(3.0)
    right, left = hypot(x, 4.0), hypot(4.0, x)
    assert right.data == left.data == 5.0 and right.children == left.children == (x,)
    right.backward()
    left.backward()
    assert x.grad == pytest.approx(0.6 + 0.6)
    a, b = Value(3.0), Value(4.0)
    both = hypot(a, b)
    both.backward()
    assert (a.grad, b.grad) == pytest.approx((0.6, 0.8)) and both.children == (a, b)


def test_three_operands_with_values_and_numbers():
    a, c = Value(2.0), Value(1.0)
    out = fma(a, 3.0, c)
    out.backward()
    assert out.data == 7.0 and out.op == "fma" and out.children == (a, c)
    assert (a.grad, c.grad) == (3.0, 1.0)


@given(st.floats(-2, 2), st.floats(0.5, 3), st.floats(-2, 2))
def test_custom_ops_pass_gradcheck_and_gradgradcheck(x, y, z):
    f = lambda a, b, c: xexp(a) * hypot(a, b) + fma(a, b, c).tanh() + safe_log(b)
    assert gradcheck(f, [x, y, z])
    assert gradgradcheck(f, [x, y, z])


def test_second_derivative_through_create_graph():
    x = Value(0.3)
    d1, = grad(xexp(x), [x], create_graph=True)
    d2, = grad(d1, [x])
    assert d1.data == pytest.approx((1 + 0.3) * math.exp(0.3))
    assert d2.data == pytest.approx((2 + 0.3) * math.exp(0.3))


def test_custom_op_inside_another_custom_ops_derivative():
    softlog = define_op("softlog", lambda x: math.log1p(math.exp(x)),
                        lambda x, out: 1.0 - exp(-out))  # = sigmoid(x), via out
    x = Value(0.4)
    d1, = grad(softlog(x), [x], create_graph=True)
    d2, = grad(d1, [x])
    s = 1 / (1 + math.exp(-0.4))
    assert (d1.data, d2.data) == pytest.approx((s, s * (1 - s)))


def test_wrong_arity_is_a_type_error():
    with pytest.raises(TypeError, match="hypot"):
        hypot(Value(1.0))
    with pytest.raises(TypeError, match="xexp"):
        xexp(Value(1.0), 2.0)
    with pytest.raises(TypeError):
        fma(1.0, 2.0)


def test_non_number_operand_is_a_type_error():
    with pytest.raises(TypeError):
        hypot(Value(1.0), "2")
    with pytest.raises(TypeError):
        xexp("2")


def test_forward_domain_error_names_the_op():
    for call in (lambda: safe_log(Value(-1.0)), lambda: safe_log(0.0)):
        with pytest.raises(DomainError, match="safe_log") as info:
            call()
        assert isinstance(info.value, ValueError)


def test_bad_definitions_are_refused():
    with pytest.raises(TypeError):
        define_op("", math.sin, math.cos)
    with pytest.raises(TypeError):
        define_op("nope", math.sin)
    with pytest.raises(TypeError):
        define_op("nope", math.sin, "not callable")


def test_custom_op_uses_generic_log():
    plog = define_op("plog", lambda x, p: x ** p, lambda x, p, out: p * out / x,
                     lambda x, p, out: out * log(x))
    assert gradgradcheck(plog, [1.7, 0.6])


@pytest.mark.parametrize("partials, words", [
    ((lambda x: 1.0,), ["'bad'", "partial 0 (∂out/∂x)", "2 argument(s) (x, out)"]),
    ((lambda x, y, out: 1.0,), ["'bad'", "partial 0", "(x, out)"]),
    ((lambda x, out: 1.0, lambda x, out: 1.0), ["'bad'", "forward", "2 argument(s) (x, y)"]),
    ((lambda a, b, c, out: 1.0, lambda a, b, c, out: 1.0, lambda a, b, out: 1.0),
     ["'bad'", "partial 2 (∂out/∂x2)", "(x0, x1, x2, out)"]),
])
def test_partials_of_the_wrong_arity_are_refused_at_definition(partials, words):
    forward = (lambda x: x) if len(partials) != 3 else (lambda a, b, c: a)
    with pytest.raises(TypeError) as info:
        define_op("bad", forward, *partials)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_signatures_taking_any_arguments_and_builtins_are_accepted():
    op = define_op("star", lambda *xs: xs[0] * 2, lambda *args: 2.0)
    assert op(Value(1.0)).data == 2.0
    assert define_op("h", math.hypot, lambda x, y, out: x / out, lambda x, y, out: y / out)


class NotAFloat:
    """Converts to float like a one-element array does."""
    def __float__(self):
        return 2.0


@pytest.mark.parametrize("result", [Value(2.0), NotAFloat(), np.array(2.0), "2.0", None, True, [2.0]])
def test_a_partial_must_return_a_number_and_is_checked_when_first_used(result):
    op = define_op("twice", lambda x: 2 * x, lambda x, out: result)
    x = Value(1.0)
    with pytest.raises(TypeError, match=rf"twice: partial 0 \(∂out/∂x\) must return a real number, "
                                        rf"got {type(result).__name__}"):
        op(x)
    assert x.grad == 0.0


def test_a_forward_must_return_a_number():
    op = define_op("vforward", lambda x: Value(x), lambda x, out: 1.0)
    with pytest.raises(TypeError, match="vforward: forward must return a real number, got Value"):
        op(Value(1.0))


def test_partials_may_return_ints_and_values_under_create_graph():
    sq = define_op("sq", lambda x: x * x, lambda x, out: 2 * x)
    x = Value(3)
    d, = grad(sq(x), [x], create_graph=True)
    assert d.data == 6.0 and isinstance(d, Value)
    const = define_op("lin", lambda x: 3 * x, lambda x, out: 3)   # an int partial
    y = const(x)
    y.backward()
    assert x.grad == 3.0 and type(x.grad) is float
