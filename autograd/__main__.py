"""`python -m autograd "EXPR" name=value ...`: evaluate, differentiate, optionally draw.

Exit status: 0 on success; 2 for anything wrong with what was typed (the expression, an input,
an option, and domain errors such as log(-1) at the given inputs), always as one line on
stderr with the column; 1 when the environment fails (Graphviz missing or too slow, an output
file not writable); 141 (128 + SIGPIPE, as a shell reports a process killed by it) when
whoever reads the output stops reading, as `| head -0` does; 130 on Ctrl-C.
"""
import argparse
import math
import os
import signal
import sys
import unicodedata

from .expr import FUNCTIONS, MAX_EXPONENT, MAX_NODES, ExprError, evaluate, first_use
from .files import UnwritablePath, check_writable, write_atomic

DRAW_SECONDS = 20  # Graphviz gets this long to lay out a graph (draw()'s and the stepper's limit)

PROG = "python -m autograd"
EXAMPLES = f"""\
examples:
  {PROG} "tanh(w*x + b)" x=1.0 w=-2 b=0.5
  {PROG} "a*a + log(a)" a=2 --svg graph.svg --html steps.html
  {PROG} "leaky_relu(x, 0.1) * elu(y, 1.5)" x=-2 y=-1 --svg g.svg --rankdir TB
  {PROG} -- "-x**2" x=3          (use -- when the expression starts with -)

The expression may use numbers, input names, + - * / **, unary - and +, parentheses
and the functions
  {", ".join(FUNCTIONS)}
(leaky_relu and elu take an optional second argument: the slope / alpha).
Input names are read as Python reads identifiers (NFKC: ｘ is x).
Nothing is passed to eval. Limits: {MAX_NODES} syntax nodes, |exponent| <= {MAX_EXPONENT}.
Exit status: 0 ok; 2 bad expression, input or option (or a domain error such as log(-1));
1 Graphviz missing or too slow, or an output file not writable; 141 output pipe closed."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, like every other error here
        fail(f"{message} (see --help)", 2)


def fail(message, status):
    print(f"{PROG}: error: {shown(message)}", file=sys.stderr)
    sys.exit(status)


def shown(text):
    """`text` printable on one line of any terminal: bytes of the command line that are not
    UTF-8 (kept by Python as lone surrogates) and control characters appear escaped (\\xff,
    \\n) instead of crashing the print or breaking the line."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def parse_inputs(pairs, used):
    """name=value arguments -> dict; `used` maps names to the column they are first used at.
    Names are NFKC-normalised, as Python normalises the identifiers of the expression."""
    values = {}
    for arg in pairs:
        name, eq, text = arg.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())
        where = f" (used at column {used[name]})" if name in used else ""
        if not eq or not name.isidentifier():
            raise ExprError(f"input '{shown(arg)}' is not of the form name=number, e.g. x=1.5{where}",
                            used.get(name))
        if name in values:
            raise ExprError(f"input {name!r} is given twice{where}", used.get(name))
        try:
            value = float(text)
        except ValueError:
            raise ExprError(f"input {name}='{shown(text)}' is not a number{where}",
                            used.get(name)) from None
        if not math.isfinite(value):
            raise ExprError(f"input {name}={text} is not a finite number{where}", used.get(name))
        values[name] = value
    return values


def main(argv=None):
    parser = _Parser(
        prog=PROG, description="Evaluate an expression on Values, print its value and the "
        "gradient with respect to every input, and optionally draw its graph.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("expression", help='e.g. "tanh(w*x + b)"')
    parser.add_argument("inputs", nargs="*", metavar="name=value", help="a value for each name used")
    parser.add_argument("--svg", metavar="FILE", help="write the computation graph as SVG")
    parser.add_argument("--html", metavar="FILE", help="write a page stepping through forward and backward")
    parser.add_argument("--rankdir", default="LR", choices=["LR", "TB", "BT", "RL"],
                        help="graph direction (default LR: inputs left, output right)")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:
        # The reader left (`| head -0`): nothing more can be said on stdout, and Python must
        # not try again when it flushes at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt:
        return 128 + signal.SIGINT


def _run(args):
    outputs = [(flag, path) for flag, path in (("--svg", args.svg), ("--html", args.html))
               if path is not None]
    for flag, path in outputs:  # before any work: a long draw must not end in a refusal
        if not path:
            fail(f"{flag}: the file name is empty", 2)
        try:
            check_writable(path)
        except (UnwritablePath, TypeError) as e:
            fail(f"{flag}: {e}", 1)
    try:
        used = first_use(args.expression)
        root, leaves = evaluate(args.expression, parse_inputs(args.inputs, used))
    except ExprError as e:
        fail(str(e), 2)
    root.backward()
    print(f"{args.expression.strip()} = {root.data!r}")
    for name, leaf in leaves.items():
        print(f"d/d{name} = {leaf.grad!r}")
    sys.stdout.flush()  # a closed pipe shows here, inside main's handler
    if outputs:
        _draw(root, args)
    return 0


def _draw(root, args):
    from .render import GraphvizNotInstalled, LayoutError, LayoutTimeout, draw
    from .stepper import step_through
    try:
        if args.svg is not None:
            svg = draw(root, rankdir=args.rankdir, timeout=DRAW_SECONDS).pipe(format="svg")
            write_atomic(args.svg, svg)
            print(f"wrote {shown(args.svg)}", flush=True)
        if args.html is not None:
            try:
                stepper = step_through(root, rankdir=args.rankdir)
            except ValueError as e:
                fail(str(e), 2)
            stepper.save(args.html)
            print(f"wrote {shown(args.html)}", flush=True)
    except GraphvizNotInstalled as e:
        fail(str(e), 1)
    except LayoutTimeout:  # dot was stopped (killed) by the renderer's time limit
        fail(f"Graphviz took longer than {DRAW_SECONDS} s to draw the graph", 1)
    except LayoutError as e:
        fail(f"Graphviz failed: {' '.join(str(e).split())}", 1)
    except UnwritablePath as e:
        fail(str(e), 1)
    except OSError as e:
        if isinstance(e, BrokenPipeError):
            raise
        fail(f"cannot draw: {e.strerror or e}", 1)


if __name__ == "__main__":
    sys.exit(main())
