"""Custom primitives: a name, a forward on floats, one local derivative per operand.

    >>> import math
    >>> hypot = define_op("hypot", math.hypot,
    ...                   lambda x, y, out: x / out,       # ∂out/∂x
    ...                   lambda x, y, out: y / out)       # ∂out/∂y
    >>> x = Value(3.0); h = hypot(x, 4.0); h.backward()
    >>> h.data, x.grad
    (5.0, 0.6)

Each derivative receives the operands and `out` and must work on floats and on Values (use
arithmetic and the generic functions of `autograd.ops`: exp, log, erf, sigmoid, or other
custom ops), because it also runs on Values for `grad(..., create_graph=True)`.
"""
from . import ops
from .errors import DomainError
from .value import Value, _binary, _real, _unary, nary


def define_op(name, forward, *partials):
    """A new primitive from its name, its forward on floats and one local derivative per
    operand, each a function of (operands..., out). Returns a function that applies the op
    to Values (recording a node) or to plain numbers (returning a float).

        >>> cube = define_op("cube", lambda x: x ** 3, lambda x, out: 3 * x ** 2)
        >>> x = Value(2.0); y = cube(x); y.backward(); (y.data, x.grad)
        (8.0, 12.0)

    Derivatives must also work on Values (see the module docstring) so that
    `grad(..., create_graph=True)` and `gradgradcheck` can differentiate them again.
    """
    if not isinstance(name, str) or not name:
        raise TypeError("define_op: name must be a non-empty str")
    if not callable(forward) or not partials or not all(callable(p) for p in partials):
        raise TypeError(f"define_op({name!r}): forward and each partial must be callable")
    arity = len(partials)

    def checked_forward(*xs):
        try:
            return float(forward(*xs))
        except (ValueError, ArithmeticError) as e:
            raise DomainError(f"{name}: {e} (operands {', '.join(map(repr, xs))})") from None

    if arity <= 2:
        op = ops.Op(name, checked_forward, tuple(partials))
    else:
        op = ops.Op(name, checked_forward, lambda *a: tuple(p(*a) for p in partials))

    def apply(*args):
        if len(args) != arity:
            raise TypeError(f"{name}() takes {arity} operand(s), got {len(args)}")
        if not any(isinstance(a, Value) for a in args):
            return checked_forward(*(_real(a, f"{name} operand") for a in args))
        if arity == 1:
            return _unary(op, args[0])
        if arity == 2:
            for a in args:
                if not isinstance(a, Value):
                    _real(a, f"{name} operand")
            return _binary(op, *args)
        return nary(op, args)

    apply.__name__ = apply.__qualname__ = name
    apply.op = op
    apply.__doc__ = f"Custom op {name!r} with {arity} operand(s); see autograd.define_op."
    return apply
