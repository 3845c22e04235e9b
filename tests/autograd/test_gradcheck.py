"""gradcheck / gradgradcheck: pass on correct gradients, a readable table on wrong ones."""
import math
import re

import pytest
from hypothesis import given, settings

from autograd import GradcheckError, Value, define_op, gradcheck, gradgradcheck
from autograd.testing import expressions

# d/dx sin is cos; this op claims -cos: wrong first derivative
bad_sin = define_op("bad_sin", math.sin, lambda x, out: -ops_cos(x))
# right first derivative, but the derivative's own derivative is wrong: it is built from an
# op whose local derivative is 0, so create_graph sees a constant
flat_cos = define_op("flat_cos", math.cos, lambda x, out: 0.0 * x)
sin_wrong_second = define_op("sin2", math.sin, lambda x, out: flat_cos(x))


def ops_cos(x):
    return math.cos(x) if isinstance(x, float) else flat_cos(x)


def test_passes_on_correct_functions():
    assert gradcheck(lambda x, y: (x * y).tanh() + x.exp() / y, [0.3, -1.2]) is True
    assert gradgradcheck(lambda x, y: (x * y).tanh() + x.exp() / y, [0.3, -1.2]) is True


def rows(message):
    """The numeric rows of the table: index columns, analytic, numeric, error."""
    out = []
    for line in message.splitlines():
        fields = line.replace("<-- mismatch", "").split()
        try:
            out.append((fields[0], *map(float, fields[1:])))
        except (ValueError, IndexError):
            continue
    return out


def test_wrong_first_derivative_raises_with_a_table():
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: bad_sin(x) * y, [0.5, 2.0])
    message = str(info.value)
    header = next(line for line in message.splitlines() if "analytic" in line)
    assert re.search(r"input.*analytic.*numeric.*error", header)
    table = rows(message)
    assert [r[0] for r in table] == ["0", "1"]
    idx, analytic, numeric, error = table[0]
    assert analytic == pytest.approx(-2 * math.cos(0.5), rel=1e-6)
    assert numeric == pytest.approx(2 * math.cos(0.5), rel=1e-6)
    assert error == pytest.approx(4 * math.cos(0.5), rel=1e-3)
    assert "mismatch" in message.splitlines()[message.splitlines().index(header) + 1]
    assert "mismatch" not in message.splitlines()[-1]  # input 1 (y) is right
    assert isinstance(info.value, AssertionError)


def test_wrong_second_derivative_passes_gradcheck_fails_gradgradcheck():
    f = lambda x: sin_wrong_second(x) * x
    assert gradcheck(f, [0.7])
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(f, [0.7])
    (idx, analytic, numeric, error), = rows(str(info.value))
    # f = x sin x, f'' = 2 cos x - x sin x; the bad op contributes 0 for its cos' term
    assert numeric == pytest.approx(2 * math.cos(0.7) - 0.7 * math.sin(0.7), rel=1e-4)
    assert analytic != pytest.approx(numeric, rel=1e-3)


def test_tolerances_are_respected():
    slightly = define_op("slightly", lambda x: x * x, lambda x, out: 2 * x * 1.01)
    with pytest.raises(GradcheckError):
        gradcheck(slightly, [1.0])
    assert gradcheck(slightly, [1.0], rtol=0.02)


def test_fn_must_return_a_value():
    with pytest.raises(TypeError, match="Value"):
        gradcheck(lambda x: 1.0, [1.0])


@given(expressions(n_inputs=3, max_ops=12))
def test_random_expression_dags_pass_gradcheck(case):
    fn, xs = case
    assert gradcheck(fn, xs)


@settings(max_examples=max(20, settings.default.max_examples // 3))
@given(expressions(n_inputs=2, max_ops=8, order=2))
def test_random_expression_dags_pass_gradgradcheck(case):
    fn, xs = case
    assert gradgradcheck(fn, xs)


def test_gradcheck_leaves_inputs_untouched():
    xs = [0.25, 0.5]
    gradcheck(lambda a, b: a * b, xs)
    assert xs == [0.25, 0.5]


def test_checks_build_their_graph_even_inside_no_grad():
    from autograd import no_grad
    with no_grad():
        assert gradcheck(lambda a, b: (a * b).tanh(), [0.3, -0.7])
        assert gradgradcheck(lambda a, b: (a * b).tanh(), [0.3, -0.7])
        with pytest.raises(GradcheckError):
            gradgradcheck(lambda a: sin_wrong_second(a), [0.4])
