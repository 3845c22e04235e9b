"""Fuzzing the expression parser: whatever the text, only ExprError comes out, never a crash,
and a well-formed expression over bound names evaluates to a Value with every gradient."""
import math

from hypothesis import HealthCheck, given, settings, strategies as st

from autograd import Value
from autograd import ops
from autograd.__main__ import parse_inputs
from autograd.expr import FUNCTIONS, ExprError, evaluate, first_use, parse

NAMES = ("x", "y", "ｘ", "w_1", "b")
INPUTS = {"x": 0.7, "y": -1.3, "w_1": 2.0, "b": 0.25}   # ｘ is x (NFKC); "b" is bound
SYMBOLS = ops.INFIX + ("%", "//", "@", "<", "==", "and", "if", "else", "lambda", ":=", ".", ",")
PIECES = (NAMES + tuple(FUNCTIONS) + SYMBOLS
          + ("(", ")", "[", "]", "{", "}", " ", "-", "+", "0", "1.5", "1e308", "9" * 30, "2j",
             "'s'", "b'x'", "True", "None", "__import__", "\x00", "\udcff", "\n", "\t", "#", "\\",
             "f'{x}'", "*", "**", "await", "yield", "...", "0x1F", "1_000", "１"))

fuzz = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)


def outcome(text):
    """Run every entry point on `text`; return the root Value, or None for an ExprError."""
    try:
        parse(text)
        used = first_use(text)
        root, leaves = evaluate(text, INPUTS)
    except ExprError as e:
        assert e.col is None or 1 <= e.col <= len(text) + 1, (e.col, text)
        assert str(e) and "\n" not in str(e)
        return None
    assert set(used) <= set(INPUTS)
    assert isinstance(root, Value) and math.isfinite(root.data)
    root.backward()
    assert set(leaves) == set(INPUTS)
    return root


@fuzz
@given(st.text(max_size=200))
def test_random_text_gives_a_value_or_an_expr_error(text):
    outcome(text)


@fuzz
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_random_token_soup_gives_a_value_or_an_expr_error(text):
    outcome(text)


def expressions():
    """Random syntax trees of the accepted language, as text: numbers, names, the table's
    infix operators, unary signs and calls of its functions (arity right or wrong)."""
    leaves = st.one_of(st.sampled_from(NAMES),
                       st.floats(-1e3, 1e3, allow_nan=False).map(repr),
                       st.integers(0, 10**6).map(str))

    def extend(inner):
        binary = st.tuples(inner, st.sampled_from(ops.INFIX), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})")
        unary = st.tuples(st.sampled_from("-+"), inner).map("".join)
        call = st.tuples(st.sampled_from(sorted(FUNCTIONS)), st.lists(inner, min_size=0, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})")
        return binary | unary | call
    return st.recursive(leaves, extend, max_leaves=30)


@fuzz
@given(expressions())
def test_random_syntax_trees_give_a_value_or_an_expr_error(text):
    outcome(text)


@fuzz
@given(st.lists(st.text(max_size=20), max_size=5))
def test_random_input_arguments_give_a_dict_or_an_expr_error(pairs):
    try:
        values = parse_inputs(pairs, {})
    except ExprError as e:
        assert "\n" not in str(e)
        return
    assert all(name.isidentifier() and math.isfinite(v) for name, v in values.items())


def test_nfkc_names_meet_in_the_expression():
    root, leaves = evaluate("ｘ * x", {"x": 3.0})
    root.backward()
    assert root.data == 9.0 and leaves["x"].grad == 6.0
