"""The op table: each primitive's forward and its local derivatives, written once.

Every derivative formula is evaluated in two worlds. At forward time it runs on floats and
the number is stored on the node, so `backward` is only `child.grad += local * node.grad`.
When `grad(..., create_graph=True)` asks for a differentiable gradient, the same formula
runs on Values (operands, and `out`: the node itself) and builds new graph. Formulas
therefore use only arithmetic, comparisons and the generic functions defined below, which
accept a float or a Value.

Conventions at kinks, as in PyTorch: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope,
elu'(0) = alpha, and d/dx x**y at x = 0 for 0 < y < 1 is +inf.

Numbers outside the floats follow one rule, IEEE's, as PyTorch does, in every op and in every
derivative alike:
- overflow gives ±inf, never an error: exp(1000), 10.0 ** 400, 1e200 * 1e200, 1e300 / 1e-300,
  and a derivative such as d/dx x**-1.5 at x = 1e-200;
- nan in gives nan out, kinks included: relu(nan), abs(nan) and log(nan) are nan (a NaN
  feature makes the loss nan instead of training on), and a kink's derivative at nan is nan,
  not one side of the kink; infinities go where IEEE sends them (log(inf) = inf, tanh(inf) = 1);
- a domain error still raises, naming the op and the operand: log of a number ≤ 0, division
  by zero (0 ** negative included), a negative base with a non-integer (or infinite) exponent;
- `Overflow` is raised only for a number that cannot become a float at all: an int (or a
  Fraction) too large, as in Value(10**400) or x + 10**400.
"""
import math
import sys
from functools import reduce
from numbers import Real
from operator import add, mul, neg, sub

from .errors import DivisionByZero, DomainError

_EXP_MAX = math.log(1.7976931348623157e308)  # largest x with a finite exp(x)
_INF, _NAN = math.inf, math.nan
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _num(x):
    return isinstance(x, Real)


# Generic functions: a float in gives a float, a Value in gives a Value (and a graph).
def exp(x):     return _exp(x) if _num(x) else x.exp()
def log(x):     return _log(x) if _num(x) else x.log()
def erf(x):     return math.erf(x) if _num(x) else x.erf()
def sigmoid(x): return _sigmoid(x) if _num(x) else x.sigmoid()
def expm1(x):   return _expm1(x) if _num(x) else x.exp() - 1.0
def power(x, y): return _pow(x, y) if _num(x) and _num(y) else x ** y


# Forward functions on floats. Domain checks live here, so every path (operators,
# methods, the generic functions above) reports the same clear error.
def _exp(x):
    return _INF if x > _EXP_MAX else math.exp(x)  # math.exp raises where IEEE gives inf


def _expm1(x):
    return _INF if x > _EXP_MAX else math.expm1(x)


def _log(x):
    if x <= 0:  # nan passes and comes out nan
        raise DomainError(f"log: operand must be > 0, got {x!r}")
    return math.log(x)


def _sigmoid(x):
    # Two branches so that exp() only ever sees a non-positive argument.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _gelu(x):
    return 0.5 * x * (1.0 + math.erf(x * _SQRT_HALF))


def _div(x, y):
    if y == 0:
        raise DivisionByZero(f"/: division by zero, numerator {x!r} / denominator {y!r}")
    return x / y


def _pow(x, y):
    if x == 0 and y < 0:
        raise DivisionByZero(f"**: zero base {x!r} with negative exponent {y!r}")
    if x < 0 and not float(y).is_integer() and y == y:  # inf too; a nan exponent gives nan
        raise DomainError(f"**: negative base {x!r} with non-integer exponent {y!r}")
    try:
        return math.pow(x, y)
    except OverflowError:  # IEEE: ±inf, negative only for a negative base and an odd power
        return -_INF if x < 0 and y % 2 == 1 else _INF


def _number(t):
    # The guards below must test numbers: on Values, == is identity, not equality.
    return t if _num(t) else t.data


def _dpow_dx(x, y, out):
    xd, yd = _number(x), _number(y)
    # x**0 is flat. A Value exponent keeps the formula (∂²/∂x∂y = 1/x ≠ 0) unless the base
    # is 0 too, where the formula would divide by it.
    if yd == 0 and (_num(y) or xd == 0):
        return 0.0
    if xd == 0 and yd < 1:
        return math.inf  # a vertical tangent, as sqrt at 0
    return y * power(x, y - 1)


def _dpow_dy(x, y, out):
    xd = _number(x)
    if xd > 0:
        return out * log(x)
    return 0.0 if xd == 0 else math.nan  # d/dy is undefined for a negative base


class Op:
    """One primitive: its name, forward on floats, and one partial per operand.

    A partial is a function of (operands..., out), or a plain float when it is a constant
    (`+`, `-`, `neg`): then no call is made at all, which is a third of an add's cost.
    `const_at` marks a variant where operand 0 or 1 is a plain number (not a child).
    """
    __slots__ = ("name", "forward", "partials", "const_at", "variants", "fixed")

    def __init__(self, name, forward, partials, const_at=None):
        self.name, self.forward, self.partials, self.const_at = name, forward, partials, const_at
        self.fixed = isinstance(partials, tuple) and all(type(p) is float for p in partials)
        self.variants = None
        if isinstance(partials, tuple) and len(partials) == 2 and const_at is None:
            self.variants = (Op(name, forward, partials, 0), Op(name, forward, partials, 1))

    def local(self, i, *args):
        """∂out/∂operand i at `args` = (operands..., out), floats or Values."""
        p = self.partials[i]
        return p if type(p) is float else p(*args)

    def __repr__(self):
        return f"Op({self.name!r})"


# ┌─────────────┬──────────────────────────┬──────────────────────────────────────────────────────────┐
#   name          forward on floats          ∂out/∂x (and ∂out/∂y): a float, or a formula in the
#                                            operands and `out` (the op's result)
UNARY = {
    "neg":        (neg,                      -1.0),
    "abs":        (abs,                      lambda x, out: 1.0 if x > 0 else -1.0 if x < 0 else 0.0 if x == 0 else _NAN),
    "exp":        (_exp,                     lambda x, out: out),
    "log":        (_log,                     lambda x, out: 1.0 / x),
    "tanh":       (math.tanh,                lambda x, out: 1.0 - out * out),
    "sigmoid":    (_sigmoid,                 lambda x, out: out * (1.0 - out)),
    "relu":       (lambda x: 0.0 if x <= 0 else x,
                                             lambda x, out: 0.0 if x <= 0 else 1.0 if x > 0 else _NAN),
    "softplus":   (_softplus,                lambda x, out: sigmoid(x)),
    "erf":        (math.erf,                 lambda x, out: _TWO_OVER_SQRT_PI * exp(-x * x)),
    "gelu":       (_gelu,                    lambda x, out: 0.5 * (1.0 + erf(x * _SQRT_HALF))
                                                            + x * exp(-0.5 * x * x) * _INV_SQRT_2PI),
}
BINARY = {
    "+":          (add,                      1.0,                       1.0),
    "-":          (sub,                      1.0,                       -1.0),
    "*":          (mul,                      lambda x, y, out: y,       lambda x, y, out: x),
    "/":          (_div,                     lambda x, y, out: 1.0 / y, lambda x, y, out: -out / y),
    "**":         (_pow,                     _dpow_dx,                  _dpow_dy),
    "leaky_relu": (lambda x, s: x if x > 0 else s * x,
                                             lambda x, s, out: 1.0 if x > 0 else s if x <= 0 else _NAN,
                                                                        lambda x, s, out: 0.0 if x > 0 else x),
    "elu":        (lambda x, a: x if x > 0 else a * _expm1(x),
                                             lambda x, a, out: 1.0 if x > 0 else a * exp(x),
                                                                        lambda x, a, out: 0.0 if x > 0 else expm1(x)),
}
# └────────────────────────────────────────────────────────────────────────────────────────────────────┘


def dot(ws, xs, b):
    """b + w1*x1 + w2*x2 + ... on floats, added left to right from b, exactly as micrograd's
    sum((wi*xi for ...), b) does on Values, so fused and unfused neurons agree to the bit."""
    return _sequential_sum(map(mul, ws, xs), b)


# sum() adds floats in C, 2-3x faster than reduce(add, ...), but from Python 3.12 on it
# compensates rounding, which would break bit-equality with the unfused graph.
_sequential_sum = sum if sys.version_info < (3, 12) else (lambda it, start: reduce(add, it, start))


def _linear(*args):
    # args = w1..wn, x1..xn, b
    n = (len(args) - 1) // 2
    return dot(args[:n], args[n:2 * n], args[-1])


def linear_partials(ws, xs):
    """(∂/∂w, ∂/∂x, ∂/∂b) of Σ wᵢxᵢ + b: each weight's partial is its input and vice versa."""
    return xs, ws, 1.0


def _linear_partials(*args):
    # args = w1..wn, x1..xn, b, out
    n = (len(args) - 2) // 2
    dw, dx, db = linear_partials(args[:n], args[n:2 * n])
    return (*dw, *dx, db)


# Ops written between their operands (`a - b`), in the table's order: the one list that
# renderers, the stepper and the expression parser read their operator symbols from.
INFIX = ("+", "-", "*", "/", "**")
# The infix ops whose operands can be swapped and regrouped (commutative and associative):
# drawings name no operands for them and fold a run of them into one sum or product.
COMMUTATIVE = ("+", "*")

OPS = {name: Op(name, f, (d,)) for name, (f, d) in UNARY.items()}
OPS.update({name: Op(name, f, (dx, dy)) for name, (f, dx, dy) in BINARY.items()})
# n-ary: a whole neuron's Σ wᵢxᵢ + b as one node; `partials` is one function for all operands.
OPS["linear"] = LINEAR = Op("linear", _linear, _linear_partials)
