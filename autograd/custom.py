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
import inspect
from numbers import Real

from . import ops, value
from .errors import DomainError
from .value import Value, _real, nary


def define_op(name, forward, *partials):
    """A new primitive from its name, its forward on floats and one local derivative per
    operand, each a function of (operands..., out). Returns a function that applies the op
    to Values (recording a node) or to plain numbers (returning a float).

        >>> cube = define_op("cube", lambda x: x ** 3, lambda x, out: 3 * x ** 2)
        >>> x = Value(2.0); y = cube(x); y.backward(); (y.data, x.grad)
        (8.0, 12.0)

    Derivatives must also work on Values (see the module docstring) so that
    `grad(..., create_graph=True)` and `gradgradcheck` can differentiate them again.
    The number of operands is the number of partials: a forward or a partial whose
    signature cannot take that many arguments is refused here, and a partial that returns
    anything but a real number on floats is refused when it is first used, naming the op.
    """
    if not isinstance(name, str) or not name:
        raise TypeError("define_op: name must be a non-empty str")
    if not callable(forward) or not partials or not all(callable(p) for p in partials):
        raise TypeError(f"define_op({name!r}): forward and each partial must be callable")
    arity = len(partials)
    names = _operand_names(arity)
    _check_signature(name, "forward", forward, arity, f"({', '.join(names)})")
    for i, p in enumerate(partials):
        _check_signature(name, f"partial {i} (∂out/∂{names[i]})", p, arity + 1,
                         f"({', '.join(names)}, out)")

    def checked_forward(*xs):
        try:
            out = forward(*xs)
        except (ValueError, ArithmeticError) as e:
            raise DomainError(f"{name}: {e} (operands {', '.join(map(repr, xs))})") from None
        return _number(out, f"{name}: forward")

    checked = tuple(_checked_partial(name, i, names[i], p) for i, p in enumerate(partials))
    if arity <= 2:
        op = ops.Op(name, checked_forward, checked)
    else:
        op = ops.Op(name, checked_forward, lambda *a: tuple(p(*a) for p in checked))

    def apply(*args):
        if len(args) != arity:
            raise TypeError(f"{name}() takes {arity} operand(s), got {len(args)}")
        if not any(isinstance(a, Value) for a in args):
            return checked_forward(*(_real(a, f"{name} operand") for a in args))
        if arity == 1:
            return value._unary(op, args[0])  # looked up per call, as Value's methods do
        if arity == 2:
            for a in args:
                if not isinstance(a, Value):
                    _real(a, f"{name} operand")
            return value._binary(op, *args)
        return nary(op, args)

    apply.__name__ = apply.__qualname__ = name
    apply.op = op
    apply.__doc__ = f"Custom op {name!r} with {arity} operand(s); see autograd.define_op."
    return apply


def _operand_names(arity):
    return ("x", "y")[:arity] if arity <= 2 else tuple(f"x{i}" for i in range(arity))


def _check_signature(op_name, what, fn, n_args, shape):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: checked when called
        return
    try:
        sig.bind(*range(n_args))
    except TypeError as e:
        raise TypeError(f"define_op({op_name!r}): {what} must take {n_args} argument(s) "
                        f"{shape}, but {e}") from None


def _number(r, what):
    # Value and ndarray results would slip through float() (x.grad would become one), so
    # only real numbers are accepted.
    if type(r) is float:
        return r
    if type(r) is bool or not isinstance(r, Real):
        raise TypeError(f"{what} must return a real number, got {type(r).__name__}: {r!r:.80}")
    return _real(r, what)


def _checked_partial(op_name, i, operand, p):
    what = f"{op_name}: partial {i} (∂out/∂{operand})"

    def partial(*args):
        r = p(*args)
        # On floats (the forward pass) the result is stored on the node, so it must be a
        # number; on Values (create_graph) it may be a Value too.
        if isinstance(args[-1], Value) and isinstance(r, Value):
            return r
        return _number(r, what)
    return partial
