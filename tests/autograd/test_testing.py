"""autograd.testing: the strategies themselves, and `import autograd` without Hypothesis."""
import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import Phase, find, given, settings, strategies as st

from autograd import GradcheckError, Value
from autograd.testing import (BINARY_OPS, UNARY_OPS, Expression, apply, binary_ops, check_jvp,
                              expressions, inputs_for, tangents, unary_ops)

BLOCK_HYPOTHESIS = """
import sys
sys.modules["hypothesis"] = None   # any import of hypothesis now raises ImportError
import autograd
from autograd import Value, grad, no_grad, gradcheck, gradgradcheck, GradcheckError, define_op
x = Value(2.0); (x * x).backward(); assert x.grad == 4.0
try:
    import autograd.testing
except ImportError:
    print("testing needs hypothesis")
"""


def test_import_autograd_does_not_need_hypothesis():
    run = subprocess.run([sys.executable, "-c", BLOCK_HYPOTHESIS], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "testing needs hypothesis"


def test_expression_replays_a_program_and_shows_it():
    expr = Expression(2, [("+", (0, 0)), ("*", (2, 2)), ("tanh", (3,)), ("-", (1.5, 4)),
                          ("leaky_relu", (5, 0.1))])
    assert expr.source() == ("v0 = x0 + x0; v1 = v0 * v0; v2 = tanh(v1); v3 = 1.5 - v2; "
                             "v4 = leaky_relu(v3, 0.1); return v4")
    assert repr(expr) == f"Expression(2, {expr.source()!r})"
    a, b = Value(0.3), Value(7.0)
    out = expr(a, b)
    assert out.data == expr.evaluate([0.3, 7.0])
    out.backward()
    assert [a.grad, b.grad] == pytest.approx(expr.gradient([0.3, 7.0]))
    assert b.grad == 0.0
    with pytest.raises(TypeError, match="2 inputs"):
        expr(a)


@given(expressions(n_inputs=3, max_ops=12))
def test_expressions_are_in_domain_and_match_the_float_reference(case):
    fn, xs = case
    assert isinstance(fn, Expression) and len(xs) == 3
    assert all(isinstance(x, float) and -3 <= x <= 3 for x in xs)
    assert 1 <= len(fn.program)
    out = fn(*xs)
    assert isinstance(out, Value)
    assert out.data == pytest.approx(fn.evaluate(xs), rel=1e-12, abs=1e-12)
    again = fn(*xs)
    assert again.data == out.data  # replays deterministically


QUICK = settings(database=None, phases=[Phase.generate], max_examples=2000)  # no shrinking


def _consumers(expr):
    return Counter(a for _, args in expr.program for a in args if type(a) is int)


def test_expressions_share_sub_expressions():
    # a node used twice by one op (a + a), and a node used by two different later ops
    find(expressions(), lambda c: any(args[0] == args[1] and type(args[0]) is int
                                      for _, args in c[0].program if len(args) == 2),
         settings=QUICK)
    find(expressions(), lambda c: any(n >= 3 for n in _consumers(c[0]).values()),
         settings=QUICK)


@pytest.mark.parametrize("op", UNARY_OPS + BINARY_OPS)
def test_expressions_use_every_op(op):
    find(expressions(), lambda c: any(o == op for o, _ in c[0].program),
         settings=QUICK)


def test_expressions_use_constants_on_both_sides():
    for side in (0, 1):
        find(expressions(), lambda c: any(o in BINARY_OPS and type(args[side]) is float
                                          for o, args in c[0].program),
             settings=QUICK)


def test_expressions_reject_bad_arguments():
    for kwargs in ({"n_inputs": 0}, {"max_ops": 0}, {"n_inputs": 1.5}, {"order": 3}):
        with pytest.raises(ValueError):
            find(expressions(**kwargs), lambda case: True)


@given(st.data())
def test_per_op_strategies(data):
    op = data.draw(unary_ops() | binary_ops())
    xs = data.draw(inputs_for(op))
    assert len(xs) == (1 if op in UNARY_OPS and op not in ("leaky_relu", "elu") else 2)
    out = apply(op, *map(Value, xs))
    assert isinstance(out, Value) and out.op == op


def test_inputs_for_unknown_op():
    with pytest.raises(ValueError, match="sin"):
        inputs_for("sin")


def test_apply_with_numbers_on_either_side():
    assert apply("leaky_relu", Value(-2.0), 0.1).data == pytest.approx(-0.2)
    assert apply("**", 2.0, Value(3.0)).data == 8.0
    assert apply("-", 1.0, Value(3.0)).data == -2.0
    assert apply("neg", Value(3.0)).data == -3.0 and apply("abs", Value(-3.0)).data == 3.0


def test_op_lists_come_from_the_op_table():
    from autograd import ops
    from autograd.testing import PARAM_OPS, PARAMETRIC_OPS, _FORWARD, _PARTIALS, _SYMBOL
    assert set(UNARY_OPS) | set(BINARY_OPS) == set(ops.UNARY) | set(ops.BINARY)
    assert BINARY_OPS == ops.INFIX and set(_SYMBOL) == set(ops.INFIX)
    assert set(PARAMETRIC_OPS) == set(ops.BINARY) - set(ops.INFIX) == set(PARAM_OPS)
    # the engine-free reference implements every op the strategies draw
    assert set(_FORWARD) == set(_PARTIALS) == set(UNARY_OPS) | set(BINARY_OPS)


@given(expressions(n_inputs=2, max_ops=6), tangents(2))
def test_check_jvp_holds_on_expressions(case, v):
    fn, xs = case
    assert check_jvp(fn, xs, v)
    assert all(isinstance(t, float) and -1 <= t <= 1 for t in v)


def test_check_jvp_reports_modes_that_disagree():
    calls = []

    def fickle(x):  # a different function on each call: forward and reverse see two graphs
        calls.append(1)
        return x * (2.0 if len(calls) == 1 else 3.0)
    with pytest.raises(GradcheckError, match=r"forward mode gives 3\.0.*reverse.* 2\.0"):
        check_jvp(fickle, [1.0], [1.0])
