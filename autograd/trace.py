"""Trace a step once, then replay it as straight-line Python.

A training step records the same graph every time. `trace(fn, params, example_inputs)` records
it once, writes it out as a Python function (the forward Wengert list, then the adjoint program
in `backward()`'s order) and compiles it; calling the result runs that function on floats, with
no Value built at all.

    >>> from autograd import Value
    >>> w, b = Value(0.5, label="w"), Value(-1.0, label="b")
    >>> step = trace(lambda x: (w * x + b).tanh(), [w, b], (2.0,))
    >>> loss = step(3.0)                     # forward and backward at x = 3, on the floats
    >>> y = (w * 3.0 + b).tanh(); g = [w.grad, b.grad]; w.grad = b.grad = 0.0
    >>> y.backward(); (loss, g) == (y.data, [w.grad, b.grad])
    True
    >>> print(step.source)                   # doctest: +ELLIPSIS
    def step(_P, _G, _A, _seed):
    ...

Replays equal `backward()` bit for bit: every forward is the op table's own forward (called, or
inlined where the op table's formula is plain arithmetic: the same IEEE operations in the same
order), every local derivative the op table's partial, and the adjoint adds `local * grad`
edge by edge in `topo_order`'s order, skipping nodes whose gradient is exactly 0 as
`backward()` does.

A trace is never silently wrong:
- reading a Value's number while tracing (`.data`, `float(v)`) is refused with the line that
  did it: the number would be baked in. A number that needs no gradient, such as the max a
  stable softmax subtracts, goes through `stop_gradient(f, values)`, which the replay recomputes;
- comparisons of Values (`a < b`, `max(values)`) are recorded and checked at replay: when one
  goes the other way, fn is traced again for that branch (up to 32 branches per shape);
- a leaf Value that is neither a parameter nor an input is refused;
- the shape of the arguments (list lengths) and any int argument (a class index) pick the
  trace: each new one is traced once and cached.
"""
import builtins
import dis
import keyword
import linecache
import math
import os
import re
import sys
import threading
import weakref
from numbers import Integral, Real

from . import ops as _ops
from .backprop import topo_order
from .value import Value

__all__ = ["trace", "Trace", "TraceError", "stop_gradient"]

_HERE = os.path.dirname(os.path.abspath(__file__)) + os.sep
MAX_BRANCHES = 32   # traces per argument shape before a data-dependent fn is refused
WIDE = 32           # a linear node with more inputs than this works on list slices
_local = threading.local()


class TraceError(ValueError):
    """fn cannot be traced as it is: the message names the line and what to change."""


class _Miss(Exception):
    """A recorded comparison went the other way at replay."""


def stop_gradient(f, values):
    """`f([v.data for v in values])` as a leaf Value: a number computed from Values that the
    graph treats as a constant (no gradient flows through it). A trace recomputes it at
    replay instead of baking in the number it had while tracing.

        >>> zs = [Value(1.0), Value(3.0)]
        >>> m = stop_gradient(max, zs); (zs[0] - m).data
        -2.0
    """
    values = list(values)
    data = [v.data if isinstance(v, Value) else float(v) for v in values]
    leaf = Value(f(data))
    recording = getattr(_local, "detached", None)
    if recording is not None:
        recording[leaf] = (f, values)
    return leaf


# -- watching fn while it runs ----------------------------------------------------------------
_COMPARISONS = {Value.__lt__.__code__: "<", Value.__le__.__code__: "<=",
                Value.__gt__.__code__: ">", Value.__ge__.__code__: ">="}
_FLOAT = Value.__float__.__code__
_ATTR_OPS = {"LOAD_ATTR", "LOAD_METHOD", "STORE_ATTR", "DELETE_ATTR"}
_data_lines_cache = {}


def _data_lines(code):
    """{line: attribute} for the lines of `code` that touch an attribute called `data` or
    `grad` (a Value's numbers)."""
    lines = _data_lines_cache.get(code)
    if lines is None:
        lines, line = {}, None
        for ins in dis.get_instructions(code):
            pos = getattr(ins, "positions", None)
            line = pos.lineno if pos is not None and pos.lineno else (ins.starts_line or line)
            if ins.opname in _ATTR_OPS and ins.argval in ("data", "grad"):
                lines.setdefault(line, ins.argval)
        _data_lines_cache[code] = lines
    return lines


def _where(frame):
    name = frame.f_code.co_filename
    text = linecache.getline(name, frame.f_lineno).strip()
    return f"{name}:{frame.f_lineno}" + (f" ({text})" if text else "")


class _Watch:
    """A sys.settrace hook: records comparisons of Values, and reads of a Value's number
    outside the engine (the engine's own reads are the ops being recorded)."""

    def __init__(self):
        self.comparisons = []  # [symbol, left, right, result, where]
        self.reads = []        # where

    def __call__(self, frame, event, arg):
        code = frame.f_code
        symbol = _COMPARISONS.get(code)
        if symbol is not None:
            f = frame.f_locals
            rec = [symbol, f["self"], f["other"], None, _where(frame.f_back)]
            self.comparisons.append(rec)

            def on_return(frame, event, arg):
                if event == "return":
                    rec[3] = arg
                return on_return
            return on_return
        if code is _FLOAT:
            self.reads.append(f"float() of a Value at {_where(frame.f_back)}")
            return None
        if code.co_filename.startswith(_HERE):
            return None
        lines = _data_lines(code)
        if not lines:
            return None

        def on_line(frame, event, arg):
            if event == "line" and frame.f_lineno in lines:
                self.reads.append(f".{lines[frame.f_lineno]} at {_where(frame)}")
            return on_line
        return on_line


# -- arguments: floats become inputs, ints pick the trace ------------------------------------
_FLOATS = {float}


def _normalize(x, path, top):
    """(key, x with every input a float). The key holds list lengths and int arguments."""
    t = type(x)
    if t is float:
        return "f", x
    if t is list or t is tuple:
        if x and type(x[0]) in (list, tuple):
            parts = [_normalize(e, path + (i,), False) for i, e in enumerate(x)]
            return ("L",) + tuple(k for k, _ in parts), [v for _, v in parts]
        if set(map(type, x)) <= _FLOATS:
            return ("l", len(x)), x
        return ("l", len(x)), [_number(e, path + (i,)) for i, e in enumerate(x)]
    if top and isinstance(x, Integral):
        return ("=", x), x
    return "f", _number(x, path)


def _number(x, path):
    if type(x) is float:
        return x
    if type(x) is bool or not isinstance(x, Real) or isinstance(x, Value):
        where = "argument " + "".join(f"[{i}]" for i in path[1:]) if len(path) > 1 else "argument"
        raise TypeError(f"trace: {where} {path[0]} must be a float or a (nested) list of floats "
                        f"(an int argument picks a trace), got {type(x).__name__}: {x!r:.60}")
    return float(x)


def _leaves(key, x, path, out):
    """fn's arguments: each float a new leaf Value, recorded in `out` with its path."""
    if key == "f":
        v = Value(x, label="x" + "_".join(map(str, path)))
        out.append((path, v))
        return v
    if key[0] == "=":
        return x
    if key[0] == "l":
        return [_leaves("f", e, path + (i,), out) for i, e in enumerate(x)]
    return [_leaves(k, e, path + (i,), out) for i, (k, e) in enumerate(zip(key[1:], x))]


# -- symbolic evaluation of the op table ------------------------------------------------------
class _Opaque(BaseException):
    """A formula that is not plain arithmetic (it branches, or calls math): call it instead.
    A BaseException, so an `except Exception` inside the formula cannot swallow it."""


def _code(x):
    if isinstance(x, _Sym):
        return x.text
    if type(x) is bool or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise _Opaque
    if type(x) is not int:
        x = float(x)  # a float subclass (numpy's) would print as a call
    return f"({x!r})" if x < 0 or (x == 0 and math.copysign(1.0, x) < 0) else repr(x)


def _infix(symbol):
    def op(self, other):
        return _Sym(f"({self.text} {symbol} {_code(other)})")

    def rop(self, other):
        return _Sym(f"({_code(other)} {symbol} {self.text})")
    return op, rop


def _opaque(*_):
    raise _Opaque


class _Sym:
    """A placeholder that turns the arithmetic done on it into source text."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    __add__, __radd__ = _infix("+")
    __sub__, __rsub__ = _infix("-")
    __mul__, __rmul__ = _infix("*")
    __truediv__, __rtruediv__ = _infix("/")
    __pow__, __rpow__ = _infix("**")

    def __neg__(self):
        return _Sym(f"(-{self.text})")

    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = __bool__ = __float__ = _opaque
    __int__ = __index__ = __abs__ = __pos__ = __round__ = __getattr__ = _opaque
    __hash__ = object.__hash__


def _as_text(r):
    """Source for a formula's result, or None when it is not arithmetic on the placeholders."""
    if isinstance(r, _Sym):
        return r.text
    try:
        return _code(r)
    except _Opaque:
        return None


_templates = {}


def _template(op, n):
    """(forward, [partial per operand]) as source templates over `{0}`..`{n-1}` and `{o}`
    (the result), each None where the op table's formula must be called instead."""
    key = (id(op), n)
    t = _templates.get(key)
    if t is not None and t[0] is op:
        return t[1], t[2]
    syms = [_Sym("{%d}" % i) for i in range(n)]
    out = _Sym("{o}")
    try:
        fwd = _as_text(op.forward(*syms))
    except (Exception, _Opaque):
        fwd = None
    if isinstance(op.partials, tuple):
        parts = []
        for p in op.partials:
            try:
                parts.append(_as_text(p) if type(p) is float else _as_text(p(*syms, out)))
            except (Exception, _Opaque):
                parts.append(None)
    else:
        try:
            parts = [_as_text(p) for p in op.partials(*syms, out)]
        except (Exception, _Opaque):
            parts = [None] * n
    _templates[key] = (op, fwd, parts)
    return fwd, parts


class _Marker:
    """Stands for a whole list (the weights, the inputs) in `linear_partials`."""


def _linear_slices():
    # The op table says which list is each weight's derivative; ask it rather than assume.
    w, x = _Marker(), _Marker()
    dw, dx, db = _ops.linear_partials(w, x)
    return dw is x and dx is w and db == 1.0


# -- names ------------------------------------------------------------------------------------
_IDENT = re.compile(r"[^0-9A-Za-z_]")
_BUILTINS = frozenset(dir(builtins))
_SPELLED = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}


class _Names:
    """Identifiers for the generated source. Labels are user text: they are sanitised here
    to [A-Za-z0-9_] (never starting with `_`, which is reserved for the namespace, nor with
    a digit, never a keyword), so nothing the user wrote reaches compile() but identifiers."""

    def __init__(self):
        self.used = set()

    def new(self, label, default):
        base = re.sub("_+", "_", _IDENT.sub("_", label)).strip("_") if label else ""
        if not base or base[0].isdigit():
            base = default if not base else "n" + base
        if keyword.iskeyword(base) or base in _BUILTINS:
            base += "_"
        name, k = base, 2
        while name in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.add(name)
        return name


def _same(a, b):
    return a == b or (a != a and b != b)


# -- building one trace -----------------------------------------------------------------------
class _Variant:
    __slots__ = ("run", "source", "guards", "__weakref__")


def _fn_name(fn):
    return getattr(fn, "__qualname__", None) or type(fn).__name__


def _record(fn, params, extra_ops, P, key, A):
    """Run fn once on leaf Values, at the parameter numbers P, and compile what it did."""
    saved = [p.data for p in params]
    inputs = []
    vargs = [_leaves(k, a, (i,), inputs) for i, (k, a) in enumerate(zip(key, A))]
    watch, detached = _Watch(), {}
    before_trace, before_detached = sys.gettrace(), getattr(_local, "detached", None)
    try:
        for p, d in zip(params, P):
            p.data = d
        _local.detached = detached
        sys.settrace(watch)
        try:
            result = fn(*vargs)
        finally:
            sys.settrace(before_trace)
            _local.detached = before_detached
        if watch.reads:
            raise TraceError(
                f"trace: {_fn_name(fn)} reads a Value's number while tracing ({watch.reads[0]}); "
                "the trace would replay that number as a constant. Compute it with Value ops, or "
                "with autograd.trace.stop_gradient(f, values) for a number that needs no gradient "
                "(as nn.losses does for the max a softmax subtracts)")
        aux = None
        if isinstance(result, tuple) and len(result) == 2:
            result, aux = result
        if not isinstance(result, Value):
            raise TraceError(f"trace: {_fn_name(fn)} must return a Value (the loss), or a pair "
                             f"(loss, outputs); got {type(result).__name__}")
        variant = _Emitter(fn, params, extra_ops, inputs, detached, key).build(
            result, aux, watch.comparisons)
        _check_against_backward(variant, result, params, P, A)
        return variant
    finally:
        for p, d in zip(params, saved):
            p.data = d


def _check_against_backward(variant, root, params, P, A):
    """The compiled step must give what backward() gives on the recorded graph."""
    grads = [p.grad for p in params]
    try:
        for p in params:
            p.grad = 0.0
        root.backward()
        want = [p.grad for p in params]
    finally:
        for p, g in zip(params, grads):
            p.grad = g
    G = [0.0] * len(params)
    loss, _ = variant.run(P, G, A, 1.0)
    bad = [i for i, (a, b) in enumerate(zip(G, want)) if not _same(a, b)]
    if not _same(loss, root.data) or bad:
        i = bad[0] if bad else None
        what = (f"loss {loss!r} vs {root.data!r}" if i is None else
                f"grad of {params[i].label or f'params[{i}]'}: {G[i]!r} vs {want[i]!r}")
        raise TraceError(f"trace: the compiled step disagrees with backward() ({what})")


class _Emitter:
    def __init__(self, fn, params, extra_ops, inputs, detached, key):
        self.fn, self.params, self.extra_ops = fn, params, extra_ops
        self.key = key
        self.names = _Names()
        self.param_index = {p: i for i, p in enumerate(params)}
        self.inputs = {v: path for path, v in inputs}
        self.detached = detached
        self.name = {}            # Value -> identifier of its number
        self.grad = {}            # Value -> identifier (or `_G[i]`) of its gradient
        self.codes = {}           # node -> source of each operand
        self.used_params, self.used_inputs = [], []
        self.namespace = {"_Miss": _Miss, "_dot": _ops.dot, "_add_products": _add_products}
        self.bound = {}           # id(function) -> name in namespace

    # references
    def ref(self, x):
        """Source for an operand: a Value's identifier, or a number's literal."""
        if not isinstance(x, Value):
            try:
                return _code(x)
            except _Opaque:
                return self.bind(float(x), "_const")
        name = self.name.get(x)
        if name is not None:
            return name
        if x in self.param_index:
            name = self.name[x] = self.names.new(x.label, f"p{self.param_index[x]}")
            self.used_params.append(x)
            return name
        if x in self.inputs:
            name = self.name[x] = self.names.new(x.label, "x")
            self.used_inputs.append(x)
            return name
        raise TraceError(f"trace: {_fn_name(self.fn)} uses {x!r}, which is neither one of "
                         "params nor an input: pass it in params (a Value the step should "
                         "update), or use a plain number for a constant")

    def bind(self, obj, base):
        """A name in the compiled namespace for a function (or a number) of ours."""
        name = self.bound.get(id(obj))
        if name is None:
            name, k = base, 2
            while name in self.namespace:
                name, k = f"{base}{k}", k + 1
            self.bound[id(obj)] = name
            self.namespace[name] = obj
        return name

    def op_base(self, op):
        return "_" + (_SPELLED.get(op.name) or _IDENT.sub("_", op.name).strip("_") or "op")

    def op_of(self, node):
        name = node.op
        op = self.extra_ops.get(name) or _ops.OPS.get(name)
        if op is None:
            raise TraceError(f"trace: node {node!r} uses op {name!r}, which is not in the op "
                             f"table: pass the function define_op made for it, "
                             f"trace(..., ops=[{name}])")
        return op

    def input_list(self, xs):
        """`_A[...]` source for a run of inputs that is a whole list or a slice of one."""
        paths = [self.inputs.get(x) for x in xs]
        if not xs or None in paths or len(paths[0]) < 2:
            return None
        parent = paths[0][:-1]
        first = paths[0][-1]
        if any(p[:-1] != parent or p[-1] != first + i for i, p in enumerate(paths)):
            return None
        src = "_A" + "".join(f"[{i}]" for i in parent)
        key = self.key[parent[0]]
        for i in parent[1:]:
            key = key[1 + i]
        length = key[1]
        return src if first == 0 and len(xs) == length else f"{src}[{first}:{first + len(xs)}]"

    def param_run(self, ws):
        idx = [self.param_index.get(w) for w in ws]
        if not ws or None in idx or any(i != idx[0] + k for k, i in enumerate(idx)):
            return None
        return idx[0], idx[0] + len(ws)

    # the program
    def build(self, root, aux, comparisons):
        order = topo_order(root)          # backward()'s order: root first
        for symbol, left, right, result, where in comparisons:
            for x in (left, right):
                if isinstance(x, Value) and x.is_leaf and x not in self.param_index and \
                        x not in self.inputs and x not in self.detached:
                    raise TraceError(f"trace: a comparison at {where} reads {x!r}, which the "
                                     "trace cannot compute (not a node, a parameter or an input)")
        forward = self.forward_order(root, aux, comparisons)
        # A wide linear node reads its weights and inputs as lists, and when its weights are a
        # run of params, adds into their gradients as one slice of _G. Narrow ones stay a line
        # per edge: a slice costs more than 16 plain lines at replay (W1: 1.3x the floor's
        # time instead of 0.8x), though each line costs about 20 µs to compile.
        wide = {}
        if _linear_slices():
            for node in forward:
                if node.op == "linear":
                    n = (len(node.operands) - 1) // 2
                    if n > WIDE:
                        operands = node.operands
                        wide[node] = (self.param_run(operands[:n]), operands[n:2 * n])
        list_grads = set()
        for run, _ in wide.values():
            if run is not None:
                list_grads.update(self.params[run[0]:run[1]])

        lines, defined = [], {}
        for node in forward:
            if node in self.detached:
                f, values = self.detached[node]
                name = self.name[node] = self.names.new(node.label, "c")
                args = ", ".join(self.ref(v) for v in values)
                base = _IDENT.sub("_", getattr(f, "__name__", "")).strip("_") or "f"
                lines.append(f"{name} = {self.bind(f, '_' + base)}([{args}])"
                             "   # stop_gradient: recomputed, no gradient")
            else:
                name = self.name[node] = self.names.new(node.label, f"v{len(defined)}")
                expr = self.forward_expr(node, wide.get(node))
                lines.append(f"{name} = {expr}")
            defined[node] = len(lines)
        guards = self.guards(comparisons, lines, defined)

        adjoint, interior = [], []
        for node in order:
            g = self.grad[node] = self.names.new("d_" + self.name[node], "d")
            interior.append(g)
        for p in self.params:
            if p in list_grads:
                self.grad[p] = f"_G[{self.param_index[p]}]"
        loaded = []
        for node in order:
            body = self.adjoint(node, wide.get(node), loaded)
            if body:
                adjoint.append(f"if {self.grad[node]}:")
                adjoint.extend("    " + b for b in body)
        if root.is_leaf:
            if root in self.param_index:
                adjoint.append(f"{self.param_grad(root, loaded)} += _seed")
            loss = self.ref(root)
        else:
            loss = self.name[root]
        aux_src = "None" if aux is None else self.aux_source(aux)

        head = [f"{self.name[v]} = _A" + "".join(f"[{i}]" for i in self.inputs[v])
                for v in self.used_inputs]
        head += [f"{self.name[p]} = _P[{self.param_index[p]}]" for p in self.used_params]
        src = [f"def step(_P, _G, _A, _seed):"]
        src += ["    # inputs and parameters"] + ["    " + h for h in head]
        src += ["    # forward: one line per node"] + ["    " + l for l in lines]
        src += ["    # adjoint: backward()'s order, one += per edge, and a node whose gradient "
                "is 0 passes nothing on"]
        src += [f"    {self.grad[p]} = _G[{self.param_index[p]}]" for p in loaded]
        rest = interior[1:] if order else []
        for i in range(0, len(rest), 12):
            src.append("    " + " = ".join(rest[i:i + 12]) + " = 0.0")
        if order:
            src.append(f"    {interior[0]} = _seed")
        src += ["    " + a for a in adjoint]
        src += [f"    _G[{self.param_index[p]}] = {self.grad[p]}" for p in loaded]
        src.append(f"    return {loss}, {aux_src}")
        source = "\n".join(src) + "\n"

        filename = f"<trace of {_fn_name(self.fn)} #{next(_serial)}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace = dict(self.namespace)
        # The source is ours alone: identifiers from _Names (labels sanitised there), numbers
        # from repr(), formulas from the op table; functions are bound by name, never inlined.
        exec(compile(source, filename, "exec"), namespace)
        v = _Variant()
        v.run, v.source, v.guards = namespace["step"], source, guards
        # linecache lets a traceback show the generated line; the entry goes with the trace
        weakref.finalize(v, linecache.cache.pop, filename, None)
        return v

    def forward_order(self, root, aux, comparisons):
        """Every node to compute, each after what it reads (a post-order walk)."""
        starts = [root] + _flat_values(aux)
        for rec in comparisons:
            starts += [x for x in rec[1:3] if isinstance(x, Value)]
        seen, post = set(), []
        for start in starts:
            stack = [(start, False)]
            while stack:
                node, done = stack.pop()
                if done:
                    post.append(node)
                    continue
                if node in seen:
                    continue
                seen.add(node)
                if node.is_leaf:
                    if node in self.detached:
                        stack.append((node, True))
                        stack.extend((v, False) for v in reversed(self.detached[node][1])
                                     if isinstance(v, Value))
                    elif node not in self.param_index and node not in self.inputs:
                        self.ref(node)  # refused with a clear error
                    continue
                stack.append((node, True))
                stack.extend((c, False) for c in reversed(node.children))
        return post

    def forward_expr(self, node, wide):
        op, operands = self.op_of(node), node.operands
        self.verify(node, op, operands)
        if wide is not None:
            run, xs = wide
            n = len(xs)
            ws = f"_P[{run[0]}:{run[1]}]" if run else \
                "[" + ", ".join(self.ref(w) for w in operands[:n]) + "]"
            xsrc = self.input_list(xs) or "[" + ", ".join(self.ref(x) for x in xs) + "]"
            return f"_dot({ws}, {xsrc}, {self.ref(operands[-1])})"
        codes = self.codes[node] = [self.ref(x) for x in operands]
        fwd, _ = _template(op, len(operands))
        if fwd is not None:
            text = fwd.format(*codes)
            return text[1:-1] if text.startswith("(") and text.endswith(")") else text
        return f"{self.bind(op.forward, self.op_base(op))}({', '.join(codes)})"

    def verify(self, node, op, operands):
        """The op found by name must reproduce the recorded node (a custom op could share a
        built-in's name): its value, and its local derivatives (an n-ary built-in's, the
        inputs and weights themselves, are not recomputed)."""
        vals = [x.data if isinstance(x, Value) else x for x in operands]
        try:
            out = op.forward(*vals)
            if isinstance(op.partials, tuple):
                parts = [op.local(i, *vals, out) for i in range(len(vals))]
            elif op is _ops.LINEAR and node.op not in self.extra_ops:
                parts = None
            else:
                parts = list(op.partials(*vals, out))
        except Exception as e:
            raise TraceError(f"trace: op {node.op!r} does not reproduce node {node!r}: "
                             f"{e}") from None
        if parts is not None:
            parts = [d for d, x in zip(parts, operands) if isinstance(x, Value)]
        if not _same(out, node.data) or parts is not None and (
                len(parts) != len(node.local_grads) or
                not all(_same(a, b) for a, b in zip(parts, node.local_grads))):
            raise TraceError(f"trace: op {node.op!r} found by name does not reproduce node "
                             f"{node!r}; pass the define_op function that made it in ops=")

    def param_grad(self, p, loaded):
        if p not in self.grad:
            self.grad[p] = self.names.new("d_" + self.ref(p), "d")
            loaded.append(p)
        return self.grad[p]

    def target(self, c, loaded):
        """Where an edge into `c` adds, or None for an input (its gradient is not kept)."""
        if c in self.param_index:
            return self.param_grad(c, loaded)
        if c.is_leaf:
            return None
        return self.grad[c]

    def adjoint(self, node, wide, loaded):
        g = self.grad[node]
        op, operands = self.op_of(node), node.operands
        out = self.name[node]
        body = []
        if wide is not None:  # Σ wᵢxᵢ + b: ∂/∂wᵢ = xᵢ, ∂/∂xᵢ = wᵢ, ∂/∂b = 1 (linear_partials)
            run, xs = wide
            n = len(xs)
            if run is not None:
                s = f"_G[{run[0]}:{run[1]}]"
                xsrc = self.input_list(xs) or "(" + ", ".join(map(self.ref, xs)) + ",)"
                body.append(f"{s} = _add_products({s}, {xsrc}, {g})")
            else:
                for w, x in zip(operands[:n], xs):
                    t = self.target(w, loaded) if isinstance(w, Value) else None
                    if t:
                        body.append(f"{t} += {self.ref(x)} * {g}")
            for x, w in zip(xs, operands[:n]):
                t = self.target(x, loaded) if isinstance(x, Value) else None
                if t:
                    body.append(f"{t} += {self.ref(w)} * {g}")
            b = operands[-1]
            t = self.target(b, loaded) if isinstance(b, Value) else None
            if t:
                body.append(f"{t} += {g}")
            return body
        codes = self.codes.get(node) or [self.ref(x) for x in operands]
        _, parts = _template(op, len(operands))
        nary = not isinstance(op.partials, tuple)
        if nary and None in parts:
            body.append(f"_d = {self.bind(op.partials, self.op_base(op) + '_partials')}"
                        f"({', '.join(codes)}, {out})")
        for i, x in enumerate(operands):
            if not isinstance(x, Value):
                continue
            t = self.target(x, loaded)
            if t is None:
                continue
            p = parts[i]
            if p is None:
                if nary:
                    local = f"_d[{i}]"
                else:
                    f = self.bind(op.partials[i], f"{self.op_base(op)}_d{i}")
                    local = f"{f}({', '.join(codes)}, {out})"
            elif p == "1.0":
                body.append(f"{t} += {g}")
                continue
            else:
                local = p.format(*codes, o=out)
            body.append(f"{t} += {local} * {g}")
        return body

    def guards(self, comparisons, lines, defined):
        """Insert, right after its operands are computed, a check per recorded comparison."""
        inserts = []
        for k, (symbol, left, right, result, where) in enumerate(comparisons):
            if type(result) is not bool:
                continue
            text = f"{self.ref(left)} {symbol} {self.ref(right)}"
            check = f"if not ({text}):" if result else f"if {text}:"
            at = max([defined.get(x, 0) for x in (left, right) if isinstance(x, Value)] + [0])
            inserts.append((at, k, f"{check} raise _Miss({k})   # {where}"))
        for at, k, line in sorted(inserts, reverse=True):
            lines.insert(at, line)
        return len(inserts)

    def aux_source(self, aux):
        if isinstance(aux, Value):
            return self.name.get(aux) or self.ref(aux)
        if isinstance(aux, (list, tuple)):
            return "[" + ", ".join(self.aux_source(a) for a in aux) + "]"
        raise TraceError(f"trace: outputs must be Values or lists of Values, got "
                         f"{type(aux).__name__}")


def _add_products(grads, locals_, g):
    """`grad += local * g` for a run of edges, as backward() adds each one. A function, not
    a comprehension in the generated code: on Python 3.11 each comprehension there would be
    a nested scope, and compiling thousands of them next to thousands of locals is slow."""
    return [c + d * g for c, d in zip(grads, locals_)]


def _flat_values(aux):
    if isinstance(aux, Value):
        return [aux]
    if isinstance(aux, (list, tuple)):
        return [v for a in aux for v in _flat_values(a)]
    return []


def _counter():
    n = 0
    while True:
        n += 1
        yield n


_serial = _counter()


# -- the traced step --------------------------------------------------------------------------
class Trace:
    """What `trace()` returns: call it as fn would be called, minus the Values."""

    def __init__(self, fn, params, example_inputs, ops=()):
        if not callable(fn):
            raise TypeError(f"trace: fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.params = list(params)
        seen = set()
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"trace: params[{i}] must be a Value, got {type(p).__name__}")
            if not p.is_leaf:
                raise TraceError(f"trace: params[{i}] ({p!r}) is the result of an op; "
                                 "params are the leaves the step updates")
            if p in seen:
                raise TraceError(f"trace: params[{i}] ({p!r}) is listed twice")
            seen.add(p)
        self.ops = {}
        for f in ops:
            op = getattr(f, "op", None)
            if not isinstance(op, _ops.Op):
                raise TypeError(f"trace: ops must be functions made by define_op, got {f!r}")
            self.ops[op.name] = op
        if not isinstance(example_inputs, tuple):
            raise TypeError("trace: example_inputs must be a tuple of fn's arguments, got "
                            f"{type(example_inputs).__name__}")
        self.arity = len(example_inputs)
        self._variants = {}
        key, A = self._key(example_inputs)
        self._variants[key] = [_record(fn, self.params, self.ops,
                                       [p.data for p in self.params], key, A)]
        self._first = key

    @property
    def source(self):
        """The step traced at the example inputs, as Python source."""
        return self._variants[self._first][0].source

    @property
    def traces(self):
        """How many traces are compiled (one per argument shape and branch outcome)."""
        return sum(len(v) for v in self._variants.values())

    def _key(self, args):
        if len(args) != self.arity:
            raise TypeError(f"trace: the step takes {self.arity} argument(s) like fn's example "
                            f"inputs, got {len(args)}")
        parts = [_normalize(a, (i,), True) for i, a in enumerate(args)]
        return tuple(k for k, _ in parts), tuple(a for _, a in parts)

    def _run(self, P, G, args, gradient):
        if type(gradient) is not float:
            if type(gradient) is bool or not isinstance(gradient, Real):
                raise TypeError(f"trace: gradient must be a real number, got {gradient!r}")
            gradient = float(gradient)
        key, A = self._key(args)
        variants = self._variants.get(key)
        if variants is None:
            variants = self._variants[key] = [_record(self.fn, self.params, self.ops, P, key, A)]
        for i, v in enumerate(variants):
            try:
                result = v.run(P, G, A, gradient)
            except _Miss:
                continue
            except (ArithmeticError, ValueError):
                if not v.guards:
                    raise
                continue  # maybe a branch not taken here guards it: trace it again
            if i:
                variants.insert(0, variants.pop(i))
            return result
        if len(variants) >= MAX_BRANCHES:
            raise TraceError(f"trace: {_fn_name(self.fn)} took {MAX_BRANCHES} different "
                             "branches on data for one argument shape; it is not a fixed "
                             "program, so it cannot be traced")
        v = _record(self.fn, self.params, self.ops, P, key, A)
        variants.insert(0, v)
        return v.run(P, G, A, gradient)

    def __call__(self, *args, gradient=1.0):
        """Forward and backward on the params' numbers: adds into every param's `.grad` what
        `backward(gradient)` would, and returns the loss (with fn's outputs, if it had any)."""
        params = self.params
        P = [p.data for p in params]
        G = [p.grad for p in params]
        loss, aux = self._run(P, G, args, gradient)
        for p, g in zip(params, G):
            p.grad = g
        return loss if aux is None else (loss, aux)

    def accumulate(self, data, grads, *args, gradient=1.0):
        """The step on lists, in place: adds into the list `grads` (one float per param) and
        returns the loss (with fn's outputs, if it had any). For loops that keep their own
        lists, as training through traces does."""
        if len(data) != len(self.params) or len(grads) != len(self.params):
            raise ValueError(f"trace: data and grads need {len(self.params)} numbers each, got "
                             f"{len(data)} and {len(grads)}")
        loss, aux = self._run(data, grads, args, gradient)
        return loss if aux is None else (loss, aux)

    def functional(self, data, *args, grads=None, gradient=1.0):
        """The step on lists of floats: `data` holds the params' numbers (in params' order),
        `grads` the gradients to add to (zeros if None; the list is not changed). Returns
        (loss, grads) or, when fn returns outputs too, (loss, grads, outputs)."""
        P = list(data) if type(data) is not list else data
        if len(P) != len(self.params):
            raise ValueError(f"trace: data has {len(P)} numbers for {len(self.params)} params")
        G = [0.0] * len(P) if grads is None else [float(g) for g in grads]
        if len(G) != len(P):
            raise ValueError(f"trace: grads has {len(G)} numbers for {len(P)} params")
        loss, aux = self._run(P, G, args, gradient)
        return (loss, G) if aux is None else (loss, G, aux)


def trace(fn, params, example_inputs, *, ops=()):
    """Record `fn(*example_inputs)` once and return the step as compiled straight-line Python.

    `params` are the Values fn reads by closure (a model's parameters); `example_inputs` is a
    tuple of fn's other arguments, each a float or a (nested) list of floats, which fn receives
    as leaf Values in the same structure (an int argument, such as a class index, is passed as
    it is and picks a trace). fn returns the loss, or a pair (loss, outputs). `ops` lists the
    define_op functions fn uses. See the module docstring for the guards.

        >>> w = Value(2.0, label="w")
        >>> step = trace(lambda x: (w * x) ** 2, [w], (3.0,))
        >>> step(1.5), w.grad                  # (w·x)², and 2·w·x² into w.grad
        (9.0, 9.0)
    """
    return Trace(fn, params, example_inputs, ops=ops)
