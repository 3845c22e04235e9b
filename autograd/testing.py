"""Hypothesis strategies for property tests of gradients (needs `pip install chainrule[testing]`).

    >>> from hypothesis import given
    >>> from autograd import gradcheck
    >>> from autograd.testing import expressions
    >>> @given(expressions(n_inputs=3, max_ops=10))
    ... def test_backward_matches_finite_differences(case):
    ...     fn, xs = case
    ...     assert gradcheck(fn, xs)

`expressions()` draws a random program over the op table: each instruction applies an op to
earlier slots (inputs or results) and constants, so nodes get reused by several later nodes
(`v1 = v0 + v0; v2 = v1 * v1`), the case that breaks naive backprop. The program is checked
on plain floats, with its own implementation of every op and derivative (independent of the
engine), so the drawn inputs are inside every op's domain, away from kinks, and the finite
differences `gradcheck` compares with are accurate.

Per-op strategies: `unary_ops()`, `binary_ops()`, `inputs_for(op)` and `apply(op, *operands)`:

    >>> @given(unary_ops().flatmap(lambda op: st.tuples(st.just(op), inputs_for(op))))
    ... def test_op(case):
    ...     op, xs = case
    ...     assert gradcheck(lambda *v: apply(op, *v), xs)
"""
import math
import operator
import sys

from hypothesis import assume, strategies as st

from . import ops
from .backprop import grad
from .errors import GradcheckError
from .forward import forward_order, jvp
from .value import Value

# Every list of ops derives from the op table. "Unary" in the lecture notes' sense: the
# table's one-operand ops, then its two-operand ops written as functions with a parameter
# (leaky_relu, elu), which the table treats as a second operand (so it is differentiable
# too). "Binary": the ops written between their operands.
PARAMETRIC_OPS = tuple(name for name in ops.BINARY if name not in ops.INFIX)
UNARY_OPS = tuple(ops.UNARY) + PARAMETRIC_OPS
BINARY_OPS = tuple(ops.INFIX)
PARAM_OPS = {"leaky_relu": (0.0, 0.01, 0.1, 0.2, 0.5), "elu": (1.0, 0.5, 2.0, 0.1)}
KINKS = ("abs", "relu", "leaky_relu", "elu")  # non-differentiable at operand 0
EXPONENTS = (2.0, 3.0, 4.0, -1.0, -2.0, 0.5, 1.5, 2.5, -0.5, 1.0 / 3.0)

# How far from trouble drawn points stay. FD steps are 1e-6; these margins are much larger.
KINK_MARGIN = 0.05   # |operand| of a kink op
LOG_MARGIN = 0.1     # operand of log, base of a non-integer power
DIV_MARGIN = 0.1     # |divisor|, |base| of a negative integer power
BOUND = 100.0        # |every intermediate value|: keeps finite differences accurate
PERTURB = 1e-3       # inputs are nudged by this much to check no kink or pole is near


# -- floats: an independent implementation of every op and its partials -------------------
def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _pow(x, y):
    if x < 0 and y != int(y):
        raise ValueError("negative base, fractional exponent")
    return math.pow(x, y)


_FORWARD = {
    "neg": operator.neg, "abs": abs, "exp": math.exp, "log": math.log, "tanh": math.tanh,
    "sigmoid": _sigmoid, "relu": lambda x: x if x > 0 else 0.0,
    "softplus": lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x))),
    "gelu": lambda x: 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0))), "erf": math.erf,
    "leaky_relu": lambda x, s: x if x > 0 else s * x,
    "elu": lambda x, a: x if x > 0 else a * math.expm1(x),
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": _pow,
}
_PARTIALS = {  # (operands..., out) -> tuple of ∂out/∂operand
    "neg": lambda x, o: (-1.0,),
    "abs": lambda x, o: (math.copysign(1.0, x),),
    "exp": lambda x, o: (o,),
    "log": lambda x, o: (1.0 / x,),
    "tanh": lambda x, o: (1.0 - o * o,),
    "sigmoid": lambda x, o: (o * (1.0 - o),),
    "relu": lambda x, o: (1.0 if x > 0 else 0.0,),
    "softplus": lambda x, o: (_sigmoid(x),),
    "gelu": lambda x, o: (0.5 * math.erfc(-x / math.sqrt(2.0))
                          + x * math.exp(-x * x / 2.0) / math.sqrt(2.0 * math.pi),),
    "erf": lambda x, o: (2.0 / math.sqrt(math.pi) * math.exp(-x * x),),
    "leaky_relu": lambda x, s, o: (1.0, 0.0) if x > 0 else (s, x),
    "elu": lambda x, a, o: (1.0, 0.0) if x > 0 else (a * math.exp(x), math.expm1(x)),
    "+": lambda x, y, o: (1.0, 1.0),
    "-": lambda x, y, o: (1.0, -1.0),
    "*": lambda x, y, o: (y, x),
    "/": lambda x, y, o: (1.0 / y, -x / (y * y)),
    "**": lambda x, y, o: (y * math.pow(x, y - 1.0) if y != 0 else 0.0,
                           o * math.log(x) if x > 0 else 0.0),
}
_SYMBOL = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
           "**": operator.pow}


def apply(op, *operands):
    """Apply op `op` (a name from the op table) to Values and numbers, as a user would write it.

        >>> apply("leaky_relu", Value(-2.0), 0.1).data, apply("**", 2.0, Value(3.0)).data
        (-0.2, 8.0)
    """
    if op in _SYMBOL:
        return _SYMBOL[op](*operands)
    (x, *rest) = operands
    if op == "neg":
        return -x
    if op == "abs":
        return abs(x)
    return getattr(x, op)(*rest)


# -- programs -----------------------------------------------------------------------------
class Expression:
    """A random program: `fn(*values)` replays it on Values; `repr` shows it as text.

    `program` is a tuple of `(op, args)`; an int arg is a slot (inputs are slots
    0..n_inputs-1, instruction k writes slot n_inputs+k), a float arg is a constant.
    The last slot is the result.
    """
    __slots__ = ("n_inputs", "program")

    def __init__(self, n_inputs, program):
        self.n_inputs, self.program = n_inputs, tuple(program)

    def __call__(self, *values):
        if len(values) != self.n_inputs:
            raise TypeError(f"{self!r} takes {self.n_inputs} inputs, got {len(values)}")
        slots = [v if isinstance(v, Value) else Value(v) for v in values]
        for op, args in self.program:
            slots.append(apply(op, *(slots[a] if type(a) is int else a for a in args)))
        return slots[-1]

    def evaluate(self, xs):
        """The result on plain floats, computed without the engine."""
        return _trace(self.program, xs)[-1]

    def gradient(self, xs):
        """∂result/∂xᵢ by forward-mode differentiation on floats, without the engine."""
        n = self.n_inputs
        vals = [float(x) for x in xs]
        tangents = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
        zero = [0.0] * n
        for op, args in self.program:
            operands = [vals[a] if type(a) is int else a for a in args]
            out = _FORWARD[op](*operands)
            partials = _PARTIALS[op](*operands, out)
            t = [0.0] * n
            for a, p in zip(args, partials):
                if type(a) is int:
                    ta = tangents[a]
                    t = [ti + p * tai for ti, tai in zip(t, ta)]
            vals.append(out)
            tangents.append(t if any(type(a) is int for a in args) else zero)
        return tangents[-1]

    def source(self):
        names = [f"x{i}" for i in range(self.n_inputs)]
        lines = []
        for k, (op, args) in enumerate(self.program):
            a = [names[x] if type(x) is int else (f"({x!r})" if math.copysign(1.0, x) < 0 else repr(x)) for x in args]
            if op in _SYMBOL:
                text = f"{a[0]} {op} {a[1]}"
            elif op == "neg":
                text = f"-{a[0]}"
            else:
                text = f"{op}({', '.join(a)})"
            names.append(f"v{k}")
            lines.append(f"v{k} = {text}")
        return "; ".join(lines) + f"; return {names[-1]}"

    def __repr__(self):
        return f"Expression({self.n_inputs}, {self.source()!r})"


def _trace(program, xs):
    """Every slot's float value; raises ValueError/ArithmeticError outside a domain."""
    vals = [float(x) for x in xs]
    for op, args in program:
        vals.append(_FORWARD[op](*(vals[a] if type(a) is int else a for a in args)))
    return vals


def _sensitive(program, vals):
    """Signs of every operand near which an op has a kink, a pole or a domain edge."""
    signs = []
    for op, args in program:
        if op in KINKS or op == "log" or (op == "**" and type(args[0]) is int):
            u = vals[args[0]] if type(args[0]) is int else args[0]
            signs.append(u > 0)
        elif op == "/" and type(args[1]) is int:
            signs.append(vals[args[1]] > 0)
    return signs


class _Builder:
    def __init__(self, xs):
        self.vals = [float(x) for x in xs]
        self.program = []

    def emit(self, op, *args, bound=BOUND):
        """Append an instruction if its result is finite and within `bound`; its slot or None."""
        if None in args:  # an operand's repair was refused
            return None
        try:
            out = _FORWARD[op](*(self.vals[a] if type(a) is int else a for a in args))
        except (ValueError, ArithmeticError):
            return None
        if not abs(out) <= bound:
            return None
        self.program.append((op, args))
        self.vals.append(out)
        return len(self.vals) - 1

    def shifted(self, slot, margin, shift):
        """`slot`, or `slot ± shift` when |value| < margin (keeps it off a kink or pole)."""
        u = self.vals[slot]
        if abs(u) >= margin:
            return slot
        return self.emit("+", slot, shift if u >= 0 else -shift)

    def positive(self, slot):
        """`slot`, or `softplus(slot) + LOG_MARGIN` when it is below LOG_MARGIN."""
        if self.vals[slot] >= LOG_MARGIN:
            return slot
        return self.emit("+", self.emit("softplus", slot), LOG_MARGIN)


_constants = st.floats(-3.0, 3.0, allow_nan=False).map(lambda c: round(c, 3))
_divisors = st.floats(0.5, 4.0).map(lambda c: round(c, 3)) | st.floats(-4.0, -0.5).map(lambda c: round(c, 3))
_bases = st.floats(0.2, 4.0).map(lambda c: round(c, 3))


def _step(draw, b):
    """Draw one instruction (plus any repairs) onto builder `b`."""
    last = len(b.vals) - 1
    pick = lambda: draw(st.just(last) | st.integers(0, last))
    form = draw(st.sampled_from(("unary", "unary", "binary", "const right", "const left")))
    if form == "unary":
        op, x = draw(st.sampled_from(UNARY_OPS)), pick()
        if op in KINKS:
            x = b.shifted(x, KINK_MARGIN, 0.5)
        elif op == "log":
            x = b.positive(x)
        if op in PARAMETRIC_OPS:
            return b.emit(op, x, draw(st.sampled_from(PARAM_OPS[op])))
        return b.emit(op, x)
    op = draw(st.sampled_from(BINARY_OPS))
    x = pick()
    if form == "binary":
        y = x if draw(st.booleans()) else pick()  # a + a, b * b: one node, two edges
        if op == "/":
            y = b.shifted(y, DIV_MARGIN, 1.0)
        elif op == "**":
            x = b.positive(x)
        return b.emit(op, x, y)
    if form == "const right":
        if op == "/":
            return b.emit(op, x, draw(_divisors))
        if op == "**":
            c = draw(st.sampled_from(EXPONENTS))
            if c != int(c):
                x = b.positive(x)
            elif c < 0:
                x = b.shifted(x, DIV_MARGIN, 1.0)
            return b.emit(op, x, c)
        return b.emit(op, x, draw(_constants))
    if op == "/":
        return b.emit(op, draw(_constants), b.shifted(x, DIV_MARGIN, 1.0))
    if op == "**":
        return b.emit(op, draw(_bases), x)
    return b.emit(op, draw(_constants), x)


def _fd(f, xs, i, eps):
    up, down = list(xs), list(xs)
    up[i] += eps
    down[i] -= eps
    return (f(up) - f(down)) / (2 * eps)


def _accurate(f, xs, atol=1e-5, rtol=1e-3):
    """Central differences of `f` at steps 1e-6 and 1e-5 agree to a tenth of gradcheck's
    tolerance: step-size error and rounding noise are both small at gradcheck's step."""
    for i in range(len(xs)):
        fine, coarse = _fd(f, xs, i, 1e-6), _fd(f, xs, i, 1e-5)
        if not abs(fine - coarse) <= 0.1 * (atol + rtol * abs(fine)):
            return False
    return True


def _well_behaved(expr, xs, order):
    """No kink, pole or domain edge within PERTURB of xs, and finite differences accurate."""
    program = expr.program
    try:
        signs = _sensitive(program, _trace(program, xs))
        for i in range(len(xs)):
            for d in (PERTURB, -PERTURB):
                p = list(xs)
                p[i] += d
                if _sensitive(program, _trace(program, p)) != signs:
                    return False
        if not _accurate(expr.evaluate, xs):
            return False
        if order >= 2:
            for j in range(len(xs)):
                if not _accurate(lambda p: expr.gradient(p)[j], xs):
                    return False
    except (ValueError, ArithmeticError):
        return False
    return True


@st.composite
def expressions(draw, n_inputs=2, max_ops=12, order=1):
    """`(fn, xs)`: a random expression DAG of up to `max_ops` ops over `n_inputs` inputs, and
    a point where `gradcheck(fn, xs)` holds (and `gradgradcheck` too with `order=2`).

        >>> fn, xs = expressions(n_inputs=2).example()
        >>> fn                     # doctest: +SKIP
        Expression(2, 'v0 = x0 * x1; v1 = v0 + v0; v2 = tanh(v1); v3 = v1 * v2; return v3')
    """
    if not (isinstance(n_inputs, int) and n_inputs >= 1):
        raise ValueError(f"expressions: n_inputs must be an int >= 1, got {n_inputs!r}")
    if not (isinstance(max_ops, int) and max_ops >= 1):
        raise ValueError(f"expressions: max_ops must be an int >= 1, got {max_ops!r}")
    if order not in (1, 2):
        raise ValueError(f"expressions: order must be 1 or 2, got {order!r}")
    xs = [draw(st.floats(-3.0, 3.0, allow_nan=False)) for _ in range(n_inputs)]
    b = _Builder(xs)
    for _ in range(draw(st.integers(1, max_ops))):
        _step(draw, b)
    # Sum every result nothing else used, so each drawn op affects the output.
    used = {a for _, args in b.program for a in args if type(a) is int}
    sinks = [s for s in range(n_inputs, len(b.vals)) if s not in used]
    if not sinks:  # every op was refused: fall back to something small and nonlinear
        sinks = [b.emit("*", 0, 0)]
    out = sinks[0]
    for s in sinks[1:]:
        out = b.emit("+", out, s, bound=math.inf)
    expr = Expression(n_inputs, b.program)
    assume(_well_behaved(expr, xs, order))
    return expr, xs


# -- per-op strategies --------------------------------------------------------------------
def unary_ops():
    """One of the lecture notes' activation-style ops (including leaky_relu and elu)."""
    return st.sampled_from(UNARY_OPS)


def binary_ops():
    """One of `+ - * / **`."""
    return st.sampled_from(BINARY_OPS)


def _away(lo, hi, margin):
    """Floats in [lo, hi] with |x| >= margin."""
    return st.floats(margin, hi) | st.floats(lo, -margin)


def _log_uniform(lo, hi):
    """Positive floats spread evenly over orders of magnitude between lo and hi."""
    return st.floats(math.log10(lo), math.log10(hi)).map(lambda e: 10.0 ** e)


_INPUTS = {
    "neg": lambda: st.tuples(st.floats(-1e6, 1e6)),
    "abs": lambda: st.tuples(_away(-1e3, 1e3, 1e-3)),
    "exp": lambda: st.tuples(st.floats(-700.0, 700.0)),
    "log": lambda: st.tuples(_log_uniform(1e-3, 1e6)),
    "tanh": lambda: st.tuples(st.floats(-20.0, 20.0)),
    "sigmoid": lambda: st.tuples(st.floats(-1000.0, 1000.0)),
    "relu": lambda: st.tuples(_away(-1e3, 1e3, 1e-3)),
    "softplus": lambda: st.tuples(st.floats(-1000.0, 1000.0)),
    "gelu": lambda: st.tuples(st.floats(-30.0, 30.0)),
    "erf": lambda: st.tuples(st.floats(-10.0, 10.0)),
    "leaky_relu": lambda: st.tuples(_away(-1e3, 1e3, 1e-3), st.floats(0.0, 1.0)),
    "elu": lambda: st.tuples(_away(-50.0, 50.0, 1e-3), st.floats(0.05, 5.0)),
    "+": lambda: st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)),
    "-": lambda: st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)),
    "*": lambda: st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)),
    "/": lambda: st.tuples(st.floats(-1e3, 1e3), _away(-1e3, 1e3, 1e-2)),
    # base > 0 so both partials exist; integer powers of negative bases: `integer_powers()`
    "**": lambda: st.tuples(_log_uniform(1e-2, 1e2), st.floats(-4.0, 4.0)),
}


def inputs_for(op):
    """A list of operand floats inside `op`'s domain, away from its kinks, spread across
    the range where float64 finite differences are meaningful.

        >>> inputs_for("log").example()     # doctest: +SKIP
        [0.0371...]
    """
    if op not in _INPUTS:
        raise ValueError(f"inputs_for: unknown op {op!r}; known: {', '.join(_INPUTS)}")
    return _INPUTS[op]().map(list)


def integer_powers():
    """`(x, n)`: `x ** n` with n a small integer, x of either sign (away from 0 when n < 0)."""
    return st.integers(-4, 5).flatmap(
        lambda n: st.tuples(_away(-10.0, 10.0, 0.1) if n < 0 else st.floats(-10.0, 10.0),
                            st.just(float(n))))


# -- forward mode against reverse mode ----------------------------------------------------
def tangents(n, bound=1.0):
    """A list of `n` tangent floats in [-bound, bound] (zeros included: an input held fixed)."""
    return st.lists(st.floats(-bound, bound, allow_nan=False, allow_subnormal=False),
                    min_size=n, max_size=n)


def check_jvp(fn, xs, v, rtol=1e-12):
    """True if forward mode's `jvp(fn, xs, v)` equals the reverse gradient's dot product
    with `v`, Σᵢ ∂f/∂xᵢ·vᵢ, within `rtol` × the sum over every path from an input to the
    output of |product of its local derivatives × vᵢ|; else a GradcheckError showing both.

    The two modes add the same chain-rule products in different orders, so their rounding
    errors scale with the size of those products, not with the result: `x / x` has
    derivative 0 made of two terms ±1/x that cancel, and either mode may leave a last-bit
    remainder. (Below that, the smallest normal float, where precision runs out anyway.)

        >>> from hypothesis import given
        >>> @given(expressions(n_inputs=3), tangents(3))
        ... def test_forward_equals_reverse(case, v):
        ...     fn, xs = case
        ...     assert check_jvp(fn, xs, v)
        >>> test_forward_equals_reverse()
    """
    values = [Value(x) for x in xs]
    out = fn(*values)
    gradient = [g.data for g in grad(out, values)]
    size = {x: abs(t) for x, t in zip(values, v)}  # Σ over paths of |products|, per node
    for node in forward_order([out]):
        size[node] = math.fsum(abs(d) * size.get(c, 0.0)
                               for c, d in zip(node.children, node.local_grads))
    scale = size.get(out, 0.0)
    value, forward = jvp(fn, xs, v)
    reverse = math.fsum(g * t for g, t in zip(gradient, v))
    if abs(forward - reverse) <= rtol * scale + sys.float_info.min or forward == reverse:
        return True
    raise GradcheckError(
        f"jvp: forward mode gives {forward!r}, reverse gradient · tangent gives {reverse!r} "
        f"(difference {abs(forward - reverse):.3g}, allowed {rtol:g} × {scale:.6g})\n"
        f"  fn = {fn!r}\n  xs = {list(xs)!r}\n  v = {list(v)!r}\n  gradient = {gradient!r}")
