"""`Value`: one float, its gradient, and the edges back to the operands that made it.

    >>> a = Value(2.0); b = a * a + 1; b.backward()
    >>> b.data, a.grad
    (5.0, 4.0)

A node stores, per child, the local derivative ∂node/∂child as a float computed at forward
time from the op table (`ops.py`), so backward never calls back into op code. The edges
live in four slots instead of a tuple per node, in one of five shapes:

    shape                         _op       _a              _da            _b            _db
    leaf (input, parameter)       None      None            None           None          None
    one child: -x, x.exp()        Op        x               ∂/∂x           None          None
    one child and a number: x*3   variant   x               ∂/∂x           None          3.0
    two children: x*y             Op        x               ∂/∂x           y             ∂/∂y
    n-ary: Σ wᵢxᵢ + b             Op        children tuple  locals tuple   interior      operands

A variant (`op.const_at` 0 or 1) records where the number stood: `3 - x` and `x - 3` differ.
An n-ary node keeps in `_b` just its interior (non-leaf) children, so ordering the graph skips
a neuron's hundreds of weights. No tuple per node and no closure: a chain node costs about
130 bytes and is freed by reference counting.

This module is the one owner of that encoding. Everything else reads `children`,
`local_grads`, `operands`, `op`, `is_leaf` and `symbolic_local_grads(node)`; only the hot
loops of `backprop` (ordering the graph, applying the chain rule) read the slots directly.
"""
import threading
from numbers import Real

from . import ops
from .errors import Overflow


class _GradMode(threading.local):
    enabled = True  # this thread's grad mode: no_grad() turns it off, for this thread only
    off = None      # an _Off while it is off


_mode = _GradMode()
# Reading a threading.local costs 50 ns, a sixth of an add; so every op first reads this
# global, True while no thread at all has recording off, and asks _mode only otherwise.
_all_recording = True
_threads_off = 0
_switch = threading.RLock()


class _Off:
    """Held by a thread while its recording is off. Dropping it, when recording comes back
    on or when the thread ends with it still off, counts that thread out."""

    def __init__(self):
        global _all_recording, _threads_off
        with _switch:
            _threads_off += 1
            _all_recording = False

    def __del__(self):
        global _all_recording, _threads_off
        with _switch:
            _threads_off -= 1
            _all_recording = _threads_off == 0


def is_grad_enabled():
    """True when operations in this thread record a graph (outside no_grad)."""
    return _all_recording or _mode.enabled


def set_grad_enabled(enabled):
    """Turn recording on or off for this thread; returns the previous setting."""
    if type(enabled) is not bool:
        raise TypeError(f"set_grad_enabled: expected a bool, got {type(enabled).__name__}")
    before = _mode.enabled
    if enabled is not before:
        _mode.off = None if enabled else _Off()
        _mode.enabled = enabled
    return before


def _real(x, what):
    """`x` as a float, or a TypeError naming its type."""
    t = type(x)
    if t is float:
        return x
    if t is bool or not isinstance(x, Real):
        raise TypeError(f"{what} must be a real number (int or float), got {t.__name__}: {x!r}")
    try:
        return float(x)
    except OverflowError:
        size = f"an int of {x.bit_length()} bits" if isinstance(x, int) else \
            f"a {t.__name__} of about 10**{_digits(x)}"
        raise Overflow(f"{what}: {size} is too large for a float") from None


def _digits(x):
    # the order of magnitude of a number too large for a float, without printing its digits
    try:
        return len(str(abs(int(x)))) - 1
    except (TypeError, ValueError, OverflowError):
        return "?"


def _real_or_value(x, what):
    return x if isinstance(x, Value) else _real(x, what)


class Value:
    """A scalar in a computation graph. `Value(data, label="")`."""
    __slots__ = ("data", "grad", "label", "scope", "_op", "_a", "_da", "_b", "_db")
    __array_ufunc__ = None  # numpy scalars defer to our reflected operators

    def __init__(self, data, label=""):
        self.data = _real(data, "Value data")
        self.grad = 0.0
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self.label = label
        self.scope = None
        self._op = self._a = self._da = self._b = self._db = None

    # -- structure ------------------------------------------------------------------------
    @property
    def op(self):
        return self._op.name if self._op is not None else ""

    @property
    def is_leaf(self):
        """True for a Value no op made: an input, a parameter, or a result under no_grad."""
        return self._op is None

    @property
    def children(self):
        """The Value operands, in operand order (`a * a` gives `(a, a)`)."""
        b = self._b
        if b is None:
            return () if self._a is None else (self._a,)
        return self._a if type(b) is tuple else (self._a, b)

    @property
    def local_grads(self):
        """∂self/∂child for each child, in the order of `children`."""
        b = self._b
        if b is None:
            return () if self._a is None else (self._da,)
        return self._da if type(b) is tuple else (self._da, self._db)

    @property
    def operands(self):
        """Every operand in order, plain numbers included: `(x * 3).operands == (x, 3.0)`."""
        op, b = self._op, self._b
        if op is None:
            return ()
        if b is not None:
            return self._db if type(b) is tuple else (self._a, b)
        if op.const_at == 1:
            return (self._a, self._db)
        return (self._db, self._a) if op.const_at == 0 else (self._a,)

    def __repr__(self):
        return f"Value(data={self.data!r}, grad={self.grad!r}, label={self.label!r})"

    def __float__(self):
        """`self.data`, leaving the graph: what is computed from the float records nothing,
        so `math.tanh(x) * x` keeps only the multiply's gradient and loses the tanh's.
        Use `x.tanh()` (or `autograd.ops`' generic functions) to stay differentiable."""
        return self.data

    # -- arithmetic -----------------------------------------------------------------------
    def __add__(self, other):      return _binary(_ADD, self, other)
    def __radd__(self, other):     return _binary(_ADD, other, self)
    def __sub__(self, other):      return _binary(_SUB, self, other)
    def __rsub__(self, other):     return _binary(_SUB, other, self)
    def __mul__(self, other):      return _binary(_MUL, self, other)
    def __rmul__(self, other):     return _binary(_MUL, other, self)
    def __truediv__(self, other):  return _binary(_DIV, self, other)
    def __rtruediv__(self, other): return _binary(_DIV, other, self)
    def __pow__(self, other):      return _binary(_POW, self, other)
    def __rpow__(self, other):     return _binary(_POW, other, self)
    def __neg__(self):             return _unary(_NEG, self)
    def __pos__(self):             return self
    def __abs__(self):             return _unary(_ABS, self)

    # -- functions ------------------------------------------------------------------------
    def exp(self):      return _unary(_EXP, self)
    def log(self):      return _unary(_LOG, self)
    def tanh(self):     return _unary(_TANH, self)
    def sigmoid(self):  return _unary(_SIGMOID, self)
    def relu(self):     return _unary(_RELU, self)
    def softplus(self): return _unary(_SOFTPLUS, self)
    def gelu(self):     return _unary(_GELU, self)
    def erf(self):      return _unary(_ERF, self)
    # Methods, not operators: a bad parameter must raise here, not return NotImplemented.
    def leaky_relu(self, negative_slope=0.01):
        return _binary(_LEAKY_RELU, self, _real_or_value(negative_slope, "leaky_relu negative_slope"))
    def elu(self, alpha=1.0):
        return _binary(_ELU, self, _real_or_value(alpha, "elu alpha"))

    # -- ordering compares data; == and hash stay identity, so Values go in sets ---------
    def __lt__(self, other): return self.data < _data(other)
    def __le__(self, other): return self.data <= _data(other)
    def __gt__(self, other): return self.data > _data(other)
    def __ge__(self, other): return self.data >= _data(other)
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    # -- gradients ------------------------------------------------------------------------
    def backward(self, gradient=1.0):
        """Add ∂self/∂v × gradient into `v.grad` for every Value v this one depends on."""
        from .backprop import backward
        backward(self, gradient)


def symbolic_local_grads(node):
    """`node.local_grads` evaluated again by the op table's formulas on the operands, so that
    Values give Values (a graph that can be differentiated again): `grad(create_graph=True)`."""
    op, operands = node._op, node.operands
    if op is None:
        return ()
    if type(node._b) is tuple:
        every = op.partials(*operands, node)
        return tuple(d for a, d in zip(operands, every) if isinstance(a, Value))
    return tuple(op.local(i, *operands, node) for i, a in enumerate(operands) if isinstance(a, Value))


def _data(x):
    return x.data if isinstance(x, Value) else _real(x, "comparison operand")


_new = object.__new__


def _node(data, op, a, da, b, db):
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v.scope = None
    v._op = op
    v._a = a
    v._da = da
    v._b = b
    v._db = db
    return v


def _leaf(data):
    return _node(data, None, None, None, None, None)


# The three appliers below build nodes inline rather than through _node(): one Python call
# less per op is about 15% of a node's cost (measured on `a * b`).
def _unary(op, x):
    xd = x.data
    out = op.forward(xd)
    v = _new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    v.scope = None
    if _all_recording or _mode.enabled:
        d = op.partials[0]
        v._op, v._a, v._da = op, x, d if op.fixed else d(xd, out)
    else:
        v._op = v._a = v._da = None
    v._b = v._db = None
    return v


def _binary(op, x, y):
    """Apply a two-operand op; at least one of x, y is a Value, the other may be a number."""
    if isinstance(x, Value):
        xd = x.data
        if isinstance(y, Value):
            yd = y.data
            out = op.forward(xd, yd)
            v = _new(Value)
            v.data = out
            v.grad = 0.0
            v.label = ""
            v.scope = None
            if not (_all_recording or _mode.enabled):
                v._op = v._a = v._da = v._b = v._db = None
            elif op.fixed:
                v._op, v._a, v._b = op, x, y
                v._da, v._db = op.partials
            else:
                dx, dy = op.partials
                v._op, v._a, v._da, v._b, v._db = op, x, dx(xd, yd, out), y, dy(xd, yd, out)
            return v
        if type(y) is float:
            yd = y
        elif type(y) is bool or not isinstance(y, Real):
            return NotImplemented
        else:
            try:
                yd = float(y)
            except OverflowError:  # an int too large: _real names it
                yd = _real(y, f"{op.name} operand")
        child, side, d = x, 1, op.partials[0]    # `x * 3`: one child, the 3 kept in _db
    else:
        if type(x) is float:
            xd = x
        elif type(x) is bool or not isinstance(x, Real):
            return NotImplemented
        else:
            try:
                xd = float(x)
            except OverflowError:
                xd = _real(x, f"{op.name} operand")
        yd = y.data
        child, side, d = y, 0, op.partials[1]    # `3 - y`
    out = op.forward(xd, yd)
    v = _new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    v.scope = None
    if _all_recording or _mode.enabled:
        v._op, v._a, v._da = op.variants[side], child, d if op.fixed else d(xd, yd, out)
        v._db = yd if side else xd
    else:
        v._op = v._a = v._da = v._db = None
    v._b = None
    return v


def _nary_node(out, op, args, is_value, locals_):
    children = args if all(is_value) else tuple(a for a, v in zip(args, is_value) if v)
    if len(children) != len(locals_):
        locals_ = tuple(d for d, v in zip(locals_, is_value) if v)
    return _node(out, op, children, locals_, _interior(children), args)


def nary(op, args):
    """Apply an n-ary op (`op.partials` is one function giving every partial) as one node."""
    args = tuple(args)
    is_value = [isinstance(a, Value) for a in args]
    vals = [a.data if v else _real(a, f"{op.name} operand") for a, v in zip(args, is_value)]
    out = op.forward(*vals)
    if not (_all_recording or _mode.enabled):
        return _leaf(out)
    return _nary_node(out, op, args, is_value, tuple(op.partials(*vals, out)))


def linear(ws, xs, b):
    """Σ wᵢxᵢ + b as one node; any operand may be a Value or a plain number.

        >>> out = linear([Value(1.0), Value(2.0)], [3.0, 4.0], Value(0.5))
        >>> out.data, len(out.children)  # plain-number xs are not children
        (11.5, 3)
    """
    return linear_layer((ws,), xs, (b,))[0]


def linear_layer(W, xs, bs):
    """`[linear(ws, xs, b) for ws, b in zip(W, bs)]`: a layer's neurons, one node each, all
    reading `xs`. The same nodes; reading `xs` once per layer instead of once per neuron
    makes micrograd's moons demo (W1) 13 % faster.

        >>> x = [Value(1.0), Value(2.0)]
        >>> W = [[Value(1.0), Value(1.0)], [Value(2.0), Value(0.0)]]
        >>> [o.data for o in linear_layer(W, x, [Value(0.0), Value(1.0)])]
        [3.0, 3.0]
    """
    n = len(xs)
    # A network's neurons take the fast path: Value weights and bias, and inputs that are all
    # Values (hidden layers) or all floats (first layer). Per-operand type checks would cost
    # more than the dot product (W2: 222 µs of a 784-input neuron's node against 41 µs for
    # the arithmetic), so only the first entries are checked: a stray operand of another
    # type makes `.data` or ops.dot fail or yield a non-float, and nary() handles it then.
    values_in = n and type(xs[0]) is Value
    xd = None
    if values_in:
        try:
            xd = [x.data for x in xs]
        except AttributeError:
            pass
        x_interior = _interior(xs) if xd is not None else None
    elif n and type(xs[0]) is float:
        xd = xs
    recording = _all_recording or _mode.enabled
    outs = []
    for ws, b in zip(W, bs):
        if len(ws) != n:
            raise ValueError(f"linear: {len(ws)} weights but {n} inputs")
        out = None
        if xd is not None and type(b) is Value and type(ws[0]) is Value:
            try:
                wd = [w.data for w in ws]
                out = ops.dot(wd, xd, b.data)
            except (AttributeError, TypeError):
                pass
        if type(out) is not float:
            outs.append(nary(_LINEAR, (*ws, *xs, b)))
        elif not recording:
            outs.append(_leaf(out))
        else:
            dw, dx, db = ops.linear_partials(wd, xd)
            if values_in:
                args = (*ws, *xs, b)
                # parameters are leaves, and then the interior children are the inputs'
                interior = x_interior if b._op is None and not _interior(ws) else _interior(args)
                outs.append(_node(out, _LINEAR, args, (*dw, *dx, db), interior, args))
            else:
                children = (*ws, b)
                outs.append(_node(out, _LINEAR, children, (*dw, db), _interior(children),
                                  (*ws, *xs, b)))
    return outs


def _interior(nodes):
    # The children topo_order must visit. A list comprehension, because on CPython 3.11 it
    # is 1.6x faster than filter(attrgetter("_op"), ...) on slots (0.75 vs 1.22 µs for a
    # 16-input neuron's 33 operands).
    return tuple([c for c in nodes if c._op is not None])


_LINEAR = ops.LINEAR
_o = ops.OPS
_ADD, _SUB, _MUL, _DIV, _POW = _o["+"], _o["-"], _o["*"], _o["/"], _o["**"]
_NEG, _ABS, _EXP, _LOG, _TANH = _o["neg"], _o["abs"], _o["exp"], _o["log"], _o["tanh"]
_SIGMOID, _RELU, _SOFTPLUS, _GELU, _ERF = _o["sigmoid"], _o["relu"], _o["softplus"], _o["gelu"], _o["erf"]
_LEAKY_RELU, _ELU = _o["leaky_relu"], _o["elu"]
del _o
