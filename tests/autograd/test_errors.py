"""Domain errors name the op and the operand; stable ops stay finite at extreme inputs."""
import math
from fractions import Fraction

import pytest

from autograd import DivisionByZero, DomainError, Overflow, Value, grad
from autograd import ops


@pytest.mark.parametrize("make, exc, bases, words", [
    (lambda: Value(0.0).log(), DomainError, (ValueError, ArithmeticError), ("log", "0.0")),
    (lambda: Value(-1.0).log(), DomainError, (ValueError, ArithmeticError), ("log", "-1.0")),
    (lambda: Value(3.0) / 0, DivisionByZero, (ZeroDivisionError, ValueError), ("/", "3.0", "0")),
    (lambda: Value(3.0) / Value(0.0), DivisionByZero, (ZeroDivisionError,), ("/", "0.0")),
    (lambda: 1 / Value(0), DivisionByZero, (ZeroDivisionError, ArithmeticError), ("/", "0.0")),
    (lambda: Value(-8) ** 0.5, DomainError, (ValueError,), ("**", "-8.0", "0.5")),
    (lambda: Value(-8.0) ** Value(1 / 3), DomainError, (ValueError,), ("**", "-8.0")),
    (lambda: Value(0) ** -1, DivisionByZero, (ZeroDivisionError,), ("**", "0.0", "-1")),
    (lambda: Value(10**400), Overflow, (OverflowError, ArithmeticError), ("Value data", "1329 bits")),
    (lambda: Value(1.0) + 10**400, Overflow, (OverflowError,), ("+ operand", "1329 bits")),
    (lambda: 10**400 - Value(1.0), Overflow, (OverflowError,), ("- operand", "1329 bits")),
    (lambda: Value(Fraction(10**400)), Overflow, (OverflowError,), ("Fraction", "10**400")),
    (lambda: Value(2.0) ** Fraction(-10**400, 3), Overflow, (OverflowError,), ("** operand", "Fraction")),
    (lambda: ops.log(-2.0), DomainError, (ValueError,), ("log", "-2.0")),
])
def test_domain_errors_name_op_and_operand(make, exc, bases, words):
    with pytest.raises(exc) as info:
        make()
    assert isinstance(info.value, bases)
    message = str(info.value)
    assert "math domain error" not in message
    for word in words:
        assert word in message, (word, message)


def test_exp_just_below_overflow_is_fine():
    assert math.isfinite(Value(709.0).exp().data)


def test_integer_power_of_negative_base_is_allowed():
    x = Value(-2.0)
    y = x ** 3
    y.backward()
    assert y.data == -8.0 and x.grad == 12.0
    assert (Value(-2.0) ** -2).data == 0.25


@pytest.mark.parametrize("x", [-1000.0, -745.0, -40.0, 40.0, 745.0, 1000.0, -1e300, 1e300])
def test_sigmoid_is_stable_and_correct_at_extremes(x):
    v = Value(x)
    s = v.sigmoid()
    s.backward()
    want = 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0
    assert s.data == pytest.approx(want, abs=1e-300)
    assert 0.0 <= s.data <= 1.0
    assert math.isfinite(v.grad) and 0.0 <= v.grad <= 1e-17


@pytest.mark.parametrize("x", [-1000.0, -40.0, 40.0, 1000.0, 1e300, -1e300])
def test_softplus_is_stable_and_correct_at_extremes(x):
    v = Value(x)
    s = v.softplus()
    s.backward()
    assert math.isfinite(s.data) and s.data >= 0.0
    if x > 0:
        assert s.data == pytest.approx(x) and v.grad == pytest.approx(1.0)
    else:
        assert s.data == pytest.approx(math.exp(x), abs=1e-300) and 0.0 <= v.grad < 1e-17


def test_second_derivatives_of_sigmoid_and_softplus_are_finite_at_extremes():
    for x in (-1000.0, 1000.0):
        for name in ("sigmoid", "softplus"):
            v = Value(x)
            d1, = grad(getattr(v, name)(), [v], create_graph=True)
            d2, = grad(d1, [v])
            assert math.isfinite(d1.data) and math.isfinite(d2.data), (name, x)


@pytest.mark.parametrize("bad", ["a", None, True, [0.1], 1j])
def test_activation_parameters_must_be_real(bad):
    with pytest.raises(TypeError, match=f"leaky_relu negative_slope .* got {type(bad).__name__}"):
        Value(-1.0).leaky_relu(bad)
    with pytest.raises(TypeError, match=f"elu alpha .* got {type(bad).__name__}"):
        Value(-1.0).elu(bad)


def test_negative_base_with_infinite_exponent():
    with pytest.raises(DomainError, match=r"\*\*: negative base -2.0 with non-integer exponent"):
        Value(-2.0) ** math.inf


def test_int_too_large_for_a_float():
    with pytest.raises(Overflow, match="Value data: an int of 1329 bits is too large"):
        Value(10**400)


@pytest.mark.parametrize("bad", [True, "x", None])
def test_backward_gradient_must_be_real(bad):
    with pytest.raises(TypeError, match="backward gradient"):
        (Value(1.0) * 2).backward(bad)
