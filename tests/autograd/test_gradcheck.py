"""gradcheck / gradgradcheck: pass on correct gradients, a readable table on wrong ones."""
import math
import re
import sys

import pytest
from hypothesis import given, settings

from autograd import GradcheckError, Value, define_op, gradcheck, gradgradcheck, linear
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


def test_wrong_first_derivative_raises_with_a_table_of_the_failing_rows():
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: bad_sin(x) * y, [0.5, 2.0])
    message = str(info.value)
    lines = message.splitlines()
    assert lines[0] == "gradcheck (rev): 1 of 2 entries disagree (atol=1e-05, rtol=0.001)"
    assert re.search(r"input.*analytic.*numeric.*error", lines[1])
    (idx, analytic, numeric, error), = rows(message)   # input 1 (y) is right: not listed
    assert idx == "0"
    assert analytic == pytest.approx(-2 * math.cos(0.5), rel=1e-6)
    assert numeric == pytest.approx(2 * math.cos(0.5), rel=1e-6)
    assert error == pytest.approx(4 * math.cos(0.5), rel=1e-3)
    assert isinstance(info.value, AssertionError)


def test_forward_mode_is_checked_along_random_directions():
    f = lambda x, y: bad_sin(x) * y
    assert gradcheck(lambda x, y: (x * y).tanh(), [0.3, 0.2], modes=("rev", "fwd"))
    with pytest.raises(GradcheckError) as info:
        gradcheck(f, [0.5, 2.0], modes=("fwd",))
    message = str(info.value)
    assert message.startswith("gradcheck (fwd): 3 of 3 entries disagree")
    assert re.search(r"direction.*analytic.*numeric.*error", message.splitlines()[1])
    assert sorted(r[0] for r in rows(message)) == ["0", "1", "2"]
    assert "(rev)" not in message
    with pytest.raises(GradcheckError) as both:
        gradcheck(f, [0.5, 2.0], modes=("rev", "fwd"))
    assert "gradcheck (rev): 1 of 2" in str(both.value) and "gradcheck (fwd): 3 of 3" in str(both.value)
    with pytest.raises(GradcheckError) as again:     # the directions are the same every time
        gradcheck(f, [0.5, 2.0], modes=("fwd",))
    assert str(again.value) == message


def test_forward_mode_uses_jvp(monkeypatch):
    module = sys.modules["autograd.gradcheck"]   # autograd.gradcheck is the function
    monkeypatch.setattr(module, "jvp", lambda fn, xs, v: (0.0, 0.0))   # a broken forward mode
    assert gradcheck(lambda x: x * x, [1.5])
    with pytest.raises(GradcheckError, match="fwd"):
        gradcheck(lambda x: x * x, [1.5], modes=("fwd",))


half_wrong = define_op("half_wrong", lambda x: x * x, lambda x, out: 3 * x)  # is 2x


def test_a_big_failure_shows_the_worst_rows_and_a_summary():
    n, wrong = 400, 30
    def fn(*xs):
        return (linear(list(xs[:n - wrong]), [1.0] * (n - wrong), 0.0)
                + linear([half_wrong(x) for x in xs[n - wrong:]], [1.0] * wrong, 0.0))
    xs = [0.5 + i / n for i in range(n)]
    with pytest.raises(GradcheckError) as info:
        gradcheck(fn, xs)
    message = str(info.value)
    lines = message.splitlines()
    assert lines[0] == (f"gradcheck (rev): {wrong} of {n} entries disagree "
                        "(atol=1e-05, rtol=0.001); the worst 20 shown")
    table = rows(message)
    assert len(table) == 20 and len(message) < 2000
    assert [int(r[0]) for r in table] == list(range(n - 1, n - 21, -1))  # largest error first
    errors = [r[3] for r in table]
    assert errors == sorted(errors, reverse=True)


def test_nan_rows_count_as_worst():
    nan_grad = define_op("nan_grad", lambda x: x, lambda x, out: math.nan)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: half_wrong(x) + nan_grad(y), [1.0, 1.0])
    assert [r[0] for r in rows(str(info.value))] == ["1", "0"]


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
@pytest.mark.parametrize("name, bad, error", [
    ("eps", 0, ValueError), ("eps", 0.0, ValueError), ("eps", -1e-6, ValueError),
    ("eps", math.inf, ValueError), ("eps", math.nan, ValueError), ("eps", "1e-6", TypeError),
    ("eps", True, TypeError), ("atol", -1.0, ValueError), ("atol", math.nan, ValueError),
    ("atol", math.inf, ValueError), ("rtol", -0.1, ValueError), ("rtol", math.inf, ValueError),
    ("rtol", None, TypeError),
])
def test_bad_tolerances_are_refused_by_name(check, name, bad, error):
    calls = []
    def fn(x):
        calls.append(1)
        return x * x
    with pytest.raises(error, match=rf"{check.__name__}: {name} must be"):
        check(fn, [1.0], **{name: bad})
    assert calls == []   # refused before any work


def test_zero_tolerances_are_allowed():
    # with a step of 2**-10 every number below is exact: 2x's difference quotient is 2,
    # x³'s is 3 + 2**-20
    assert gradcheck(lambda x: x + x, [1.0], eps=2.0 ** -10, atol=0, rtol=0.0)
    with pytest.raises(GradcheckError, match="1 of 1"):
        gradcheck(lambda x: x * x * x, [1.0], eps=2.0 ** -10, atol=0, rtol=0)
    assert gradcheck(lambda x: x * x * x, [1.0], eps=2.0 ** -10, atol=2.0 ** -20, rtol=0)


@pytest.mark.parametrize("modes", ["fwd", (), ("bwd",), ("rev", "jvp"), None])
def test_bad_modes_are_refused(modes):
    with pytest.raises(ValueError, match="modes must be"):
        gradcheck(lambda x: x, [1.0], modes=modes)


def test_inputs_must_be_numbers():
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a real number, got str"):
        gradcheck(lambda x, y: x * y, [1.0, "2"])
    assert gradcheck(lambda x, y: x * y, [Value(1.0), 2])


@given(expressions(n_inputs=3, max_ops=12))
def test_random_expression_dags_pass_forward_mode_gradcheck(case):
    fn, xs = case
    assert gradcheck(fn, xs, modes=("fwd",))


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
