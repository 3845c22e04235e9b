"""Arithmetic expressions over Values, parsed by whitelist: the CLI's `"tanh(w*x + b)"`.

    >>> root, inputs = evaluate("tanh(w*x + b)", {"x": 1.0, "w": -2.0, "b": 0.5})
    >>> round(root.data, 4), sorted(inputs)
    (-0.9051, ['b', 'w', 'x'])

The text is parsed by Python's `ast` and every node is checked against a whitelist (numbers,
names bound to inputs, + - * / **, unary - and +, parentheses, calls of the op table's
functions) before anything is computed. Nothing is ever passed to eval, exec or compile: the
tree is walked and each node is applied to Values by hand. Every problem is an `ExprError`
carrying the 1-based column it refers to.
"""
import ast
import math

from . import ops
from .backprop import no_grad
from .value import Value

MAX_LENGTH = 20_000      # characters; checked before parsing
MAX_NODES = 10_000       # syntax nodes; the graph built has at most this many Values
MAX_EXPONENT = 1024      # |exponent| in a ** b; beyond it any base but ±1 over/underflows

# From the op table: name -> (fewest, most) arguments. A two-operand op that is not written
# between its operands (leaky_relu, elu) takes its parameter (slope, alpha) as an optional
# second argument; `neg` is written as unary minus.
FUNCTIONS = {**{name: (1, 1) for name in ops.UNARY if name != "neg"},
             **{name: (1, 2) for name in ops.BINARY if name not in ops.INFIX}}
# Python's syntax node for each operator symbol of the table
_SYNTAX = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "**": ast.Pow}
_BINOPS = {_SYNTAX[symbol]: symbol for symbol in ops.INFIX}
_REFUSED = {  # what to call a construct we do not accept
    ast.Attribute: "attribute access (a.b)", ast.Subscript: "subscripts (a[i])",
    ast.Lambda: "lambda", ast.Compare: "comparisons", ast.BoolOp: "and/or",
    ast.IfExp: "if/else expressions", ast.NamedExpr: "assignment (:=)",
    ast.List: "lists", ast.Tuple: "tuples (a, b)", ast.Dict: "dicts", ast.Set: "sets",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "generator expressions",
    ast.JoinedStr: "f-strings", ast.Starred: "starred arguments (*a)",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slices",
}


class ExprError(ValueError):
    """A refused or failing expression; `.col` is the 1-based column (None: not in the text)."""

    def __init__(self, problem, col=None):
        self.problem, self.col = problem, col
        super().__init__(f"column {col}: {problem}" if col else problem)


def parse(text):
    """The checked syntax tree of `text`; any refused construct raises ExprError."""
    if not isinstance(text, str):
        raise TypeError(f"expression must be a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression too large: {len(text)} characters (limit {MAX_LENGTH})", 1)
    if "\n" in text or "\r" in text:
        raise ExprError("the expression must be on one line", min(
            i for i in (text.find("\n"), text.find("\r")) if i >= 0) + 1)
    if not text.strip():
        raise ExprError("the expression is empty", 1)
    for i, c in enumerate(text):
        if "\ud800" <= c <= "\udfff":  # a command-line byte that is not UTF-8 (surrogateescape)
            what = f"byte 0x{ord(c) - 0xdc00:02x}" if c >= "\udc80" else f"character U+{ord(c):04X}"
            raise ExprError(f"{what} is not valid UTF-8 text", i + 1)
        if c == "\0":
            raise ExprError("a NUL character is not allowed", i + 1)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        col = (e.offset or 1) + len(text) - len(text.lstrip())
        raise ExprError(f"syntax error: {e.msg}", col) from None
    except (RecursionError, MemoryError):
        raise ExprError("expression too large: nested too deeply for the parser", 1) from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ExprError(f"expression too large: {len(nodes)} syntax nodes (limit {MAX_NODES})", 1)
    problems = []
    _check(tree.body, _Columns(text), problems)
    if problems:
        col, problem = min(problems, key=lambda p: p[0])
        raise ExprError(problem, col)
    return tree


class _Columns:
    """Turns ast's 0-based UTF-8 byte offsets into 1-based character columns of `text`."""

    def __init__(self, text):
        self.text, self.pad = text.strip(), len(text) - len(text.lstrip())
        self.raw = self.text.encode("utf-8")

    def at(self, byte_offset):
        return len(self.raw[:byte_offset].decode("utf-8", "ignore")) + 1 + self.pad

    def of(self, node):
        return self.at(node.col_offset)

    def operator(self, node):
        """Column of a BinOp's operator: the first non-space, non-')' after its left side."""
        i = node.left.end_col_offset
        while i < len(self.raw) and self.raw[i:i + 1] in (b" ", b")", b"\t"):
            i += 1
        return self.at(i)


def _check(root, cols, problems):
    stack = [root]
    while stack:
        node = stack.pop()
        t = type(node)
        if t is ast.BinOp:
            if type(node.op) not in _BINOPS:
                problems.append((cols.operator(node), f"operator not supported (use {' '.join(ops.INFIX)})"))
            stack += [node.left, node.right]
        elif t is ast.UnaryOp:
            if type(node.op) not in (ast.USub, ast.UAdd):
                problems.append((cols.of(node), "only unary - and + are supported"))
            stack.append(node.operand)
        elif t is ast.Constant:
            v = node.value
            if type(v) not in (int, float):
                kind = {bool: "booleans", str: "strings", bytes: "bytes", complex: "complex numbers"}.get(
                    type(v), type(v).__name__)
                problems.append((cols.of(node), f"{kind} are not allowed, only real numbers"))
            else:
                try:
                    finite = math.isfinite(float(v))
                except OverflowError:
                    finite = False
                if not finite:
                    problems.append((cols.of(node), "number too large"))
        elif t is ast.Name:
            pass  # bound to an input at evaluation time, where a missing one is reported
        elif t is ast.Call:
            f = node.func
            if type(f) is not ast.Name:
                if type(f) not in _REFUSED:  # else the callee's own refusal is the clearer one
                    problems.append((cols.of(node), "only calls of named functions such as tanh(x) are allowed"))
                stack.append(f)
            elif f.id not in FUNCTIONS:
                problems.append((cols.of(f), f"unknown function {f.id!r} (known: {', '.join(FUNCTIONS)})"))
            else:
                lo, hi = FUNCTIONS[f.id]
                if not lo <= len(node.args) <= hi:
                    want = str(lo) if lo == hi else f"{lo} or {hi}"
                    problems.append((cols.of(f), f"{f.id}() takes {want} argument(s), got {len(node.args)}"))
            if node.keywords:
                problems.append((cols.at(node.keywords[0].value.col_offset) if node.keywords[0].arg is None
                                 else cols.of(node.keywords[0]),
                                 "keyword arguments are not allowed (write leaky_relu(x, 0.1))"))
            stack += node.args
        else:
            what = _REFUSED.get(t, f"{t.__name__} expressions")
            problems.append((cols.of(node), f"{what} not allowed"))


def first_use(text):
    """name -> 1-based column where `text` first reads it (not counting called functions)."""
    tree, cols = parse(text), _Columns(text)
    callees = {id(n.func) for n in ast.walk(tree) if type(n) is ast.Call}
    found = {}
    for node in ast.walk(tree):
        if type(node) is ast.Name and id(node) not in callees:
            col = cols.of(node)
            found[node.id] = min(col, found.get(node.id, col))
    return found


def evaluate(text, inputs):
    """Build the graph of `text` with `inputs` (name -> number) as labelled leaf Values.

    Returns (root, leaves): the output Value and a dict name -> leaf, in the order of `inputs`.
    Raises ExprError for a refused construct, an unbound name, an exponent beyond
    ±MAX_EXPONENT (checked before computing) or an engine domain error such as log(-1).
    """
    tree = parse(text)
    cols = _Columns(text)
    leaves = {name: Value(float(v), label=name) for name, v in inputs.items()}
    results, stack = [], [(tree.body, False)]
    while stack:
        node, ready = stack.pop()
        t = type(node)
        if not ready:
            kids = [node.left, node.right] if t is ast.BinOp else [node.operand] if t is ast.UnaryOp \
                else node.args if t is ast.Call else []
            stack.append((node, True))
            stack += [(k, False) for k in reversed(kids)]
            continue
        if t is ast.Constant:
            results.append(float(node.value))
        elif t is ast.Name:
            if node.id not in leaves:
                raise ExprError(f"unknown name {node.id!r}: give its value as {node.id}=NUMBER",
                                cols.of(node))
            results.append(leaves[node.id])
        elif t is ast.UnaryOp:
            x = results.pop()
            results.append(-x if type(node.op) is ast.USub else x)
        elif t is ast.BinOp:
            y, x = results.pop(), results.pop()
            op = _BINOPS[type(node.op)]
            if op == "**":
                e = y.data if isinstance(y, Value) else y
                if abs(e) > MAX_EXPONENT:
                    raise ExprError(f"exponent {e:.10g} too large (|exponent| must be <= {MAX_EXPONENT})",
                                    cols.of(node.right))
            results.append(_guard(lambda: _binary(op, x, y), cols.operator(node)))
        else:  # ast.Call, checked by parse
            n = len(node.args)
            args = results[len(results) - n:]
            del results[len(results) - n:]
            results.append(_guard(lambda: _call(node.func.id, args), cols.of(node.func)))
    root, = results
    if not isinstance(root, Value):
        root = Value(root)
    return root, leaves


def _guard(compute, col):
    """Run one op; an engine error (log(-1), 1/0, overflow) becomes an ExprError at `col`."""
    try:
        out = compute()
    except (ArithmeticError, ValueError) as e:
        raise ExprError(str(e), col) from None
    # The engine follows IEEE: an overflow is inf (1e200 * 1e200, exp(1000)). The calculator
    # refuses it here instead, naming the op where it happened.
    data = out.data if isinstance(out, Value) else out
    if not math.isfinite(data):
        raise ExprError(f"overflow: this operation gives {data!r}", col)
    return out


def _binary(op, x, y):
    if not isinstance(x, Value) and not isinstance(y, Value):
        with no_grad():  # a constant sub-expression: the engine's checks, no graph
            return _binary(op, Value(x), y).data
    if op == "+": return x + y
    if op == "-": return x - y
    if op == "*": return x * y
    if op == "/": return x / y
    return x ** y


def _call(name, args):
    if not any(isinstance(a, Value) for a in args):
        with no_grad():
            return _call(name, [Value(args[0]), *args[1:]]).data
    x, *rest = args
    if not isinstance(x, Value):  # elu(2, alpha) with alpha an input: 2 becomes a leaf
        x = Value(x, label=f"{x:g}")
    return abs(x) if name == "abs" else getattr(x, name)(*rest)
