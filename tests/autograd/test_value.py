"""The Value API: construction, structure, identity, ordering, operators with numbers."""
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st

from autograd import Value, grad

reals = st.floats(-1e3, 1e3, allow_nan=False)


@pytest.mark.parametrize("data", [3, -7, 2.5, np.float64(1.25), np.int64(-4), np.float32(0.5),
                                  Fraction(1, 4)])
def test_real_data_is_stored_as_python_float(data):
    v = Value(data)
    assert type(v.data) is float and v.data == float(data)
    assert v.grad == 0.0 and type(v.grad) is float


@pytest.mark.parametrize("data, name", [(True, "bool"), ("1.0", "str"), (None, "NoneType"),
                                        (1 + 2j, "complex"), ([1.0], "list"), ((1.0,), "tuple"),
                                        (np.bool_(True), "bool"), (np.array([1.0]), "ndarray")])
def test_non_real_data_is_a_type_error_naming_the_type(data, name):
    with pytest.raises(TypeError, match=name):
        Value(data)


def test_leaf_fields():
    v = Value(2.0, label="w")
    assert (v.label, v.op, v.children, v.grad) == ("w", "", (), 0.0)
    assert Value(1).label == ""


def test_data_is_writable_as_optimizers_need():
    w = Value(1.0)
    y = w * 3
    w.data -= 0.5
    assert w.data == 0.5 and y.data == 3.0  # existing nodes keep the value they were made with


def test_children_in_operand_order_constants_excluded_duplicates_kept():
    a, b = Value(1.0), Value(2.0)
    assert (a - b).children == (a, b) and (b - a).children == (b, a)
    assert (a * a).children == (a, a)
    assert (a * 3).children == (a,) and (3 * a).children == (a,) and (2 ** a).children == (a,)
    assert (a / b).op == "/" and (a ** b).op == "**" and (-a).op == "neg" and abs(a).op == "abs"
    assert a.leaky_relu().children == (a,) and a.elu(0.5).children == (a,)
    for name in ("exp", "log", "tanh", "sigmoid", "relu", "softplus", "gelu", "erf"):
        node = getattr(b, name)()
        assert (node.op, node.children) == (name, (b,))


def test_local_grads_follow_children():
    a, b = Value(3.0), Value(5.0)
    assert (a * b).local_grads == (5.0, 3.0)
    assert (a * a).local_grads == (3.0, 3.0)
    assert (a / 2).local_grads == (0.5,)


def test_hash_and_equality_are_identity():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a and not (a == 1.0)
    assert len({a, b, a}) == 2
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b"


@given(reals, reals)
def test_ordering_compares_data_and_returns_bool(x, y):
    a, b = Value(x), Value(y)
    for got, want in [(a < b, x < y), (a <= b, x <= y), (a > b, x > y), (a >= b, x >= y),
                      (a < y, x < y), (x < b, x < y), (a >= y, x >= y)]:
        assert type(got) is bool and got == want


def test_ordering_with_a_non_number_is_a_type_error():
    with pytest.raises(TypeError):
        Value(1.0) < "2"


def test_repr_shows_data_grad_and_label():
    v = Value(2.5, label="x")
    v.grad = 1.5
    assert repr(v) == "Value(data=2.5, grad=1.5, label='x')"
    assert repr(Value(-1)) == "Value(data=-1.0, grad=0.0, label='')"


def test_label_must_be_a_str():
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


@given(reals, reals.filter(lambda y: abs(y) > 1e-3))
def test_operators_with_numbers_on_either_side(x, y):
    v = Value(x)
    cases = [(v + y, x + y), (y + v, y + x), (v - y, x - y), (y - v, y - x), (v * y, x * y),
             (y * v, y * x), (v / y, x / y), (-v, -x), (abs(v), abs(x)), (+v, x)]
    if x != 0:
        cases.append((y / v, y / x))
    for got, want in cases:
        assert isinstance(got, Value) and got.data == want


@pytest.mark.parametrize("left", [np.float64(2.0), np.int64(2), np.float32(2.0)])
def test_numpy_scalar_on_the_left_gives_a_value(left):
    x = Value(3.0)
    for got, want in [(left * x, 6.0), (left + x, 5.0), (left - x, -1.0), (left / x, 2 / 3),
                      (left ** x, 8.0)]:
        assert isinstance(got, Value), type(got)
        assert got.data == pytest.approx(want)
    y = left * x
    y.backward()
    assert x.grad == 2.0


@pytest.mark.parametrize("bad", ["2", None, [1.0], 1j, True])
def test_operator_with_a_non_number_is_a_type_error(bad):
    x = Value(1.0)
    for op in (lambda: x + bad, lambda: bad * x, lambda: x ** bad, lambda: bad - x):
        with pytest.raises(TypeError):
            op()


@given(st.floats(0.1, 5.0), st.floats(-3.0, 3.0))
def test_pow_of_two_values_is_differentiable_in_both(x, y):
    a, b = Value(x), Value(y)
    out = a ** b
    out.backward()
    assert out.data == pytest.approx(x ** y)
    assert a.grad == pytest.approx(y * x ** (y - 1))
    assert b.grad == pytest.approx(x ** y * math.log(x))


def test_pow_with_number_base_or_exponent():
    x = Value(3.0)
    (x ** 2).backward()
    assert x.grad == 6.0
    x.grad = 0.0
    (2 ** x).backward()
    assert x.grad == pytest.approx(8 * math.log(2))


@given(reals.filter(lambda x: x != 0))
def test_abs_value_and_gradient(x):
    v = Value(x)
    out = abs(v)
    out.backward()
    assert out.data == abs(x) and v.grad == math.copysign(1.0, x)


def test_float_conversion():
    assert float(Value(2.5)) == 2.5


def test_leaky_relu_and_elu_defaults_match_pytorch():
    assert Value(-2.0).leaky_relu().data == pytest.approx(-0.02)
    assert Value(-2.0).elu().data == pytest.approx(math.expm1(-2.0))
    x = Value(-1.0)
    g, = grad(x.leaky_relu(0.2), [x])
    assert g.data == 0.2


def test_float_leaves_the_graph_as_its_docstring_says():
    import math
    x = Value(0.5)
    y = math.tanh(x) * x        # float(x) is taken: the tanh records nothing
    y.backward()
    assert x.grad == math.tanh(0.5)
    assert "leaving the graph" in Value.__float__.__doc__
