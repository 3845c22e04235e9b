"""`python -m autograd "EXPR" name=value ...`: evaluate, differentiate, optionally draw.

Exit status: 0 on success; 2 for anything wrong with what was typed (the expression, an input,
an option, and domain errors such as log(-1) at the given inputs), always as one line on
stderr with the column; 1 when the environment fails (Graphviz missing, a file not writable).
"""
import argparse
import math
import sys

from .expr import FUNCTIONS, MAX_EXPONENT, MAX_NODES, ExprError, evaluate, first_use

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
Nothing is passed to eval. Limits: {MAX_NODES} syntax nodes, |exponent| <= {MAX_EXPONENT}.
Exit status: 0 ok; 2 bad expression, input or option (or a domain error such as log(-1));
1 Graphviz missing or an output file not writable."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, like every other error here
        fail(f"{message} (see --help)", 2)


def fail(message, status):
    print(f"{PROG}: error: {message}", file=sys.stderr)
    sys.exit(status)


def parse_inputs(pairs, used):
    """name=value arguments -> dict; `used` maps names to the column they are first used at."""
    values = {}
    for arg in pairs:
        name, eq, text = arg.partition("=")
        name = name.strip()
        where = f" (used at column {used[name]})" if name in used else ""
        if not eq or not name.isidentifier():
            raise ExprError(f"input {arg!r} is not of the form name=number, e.g. x=1.5{where}",
                            used.get(name))
        if name in values:
            raise ExprError(f"input {name!r} is given twice{where}", used.get(name))
        try:
            value = float(text)
        except ValueError:
            raise ExprError(f"input {name}={text!r} is not a number{where}", used.get(name)) from None
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
        used = first_use(args.expression)
        root, leaves = evaluate(args.expression, parse_inputs(args.inputs, used))
    except ExprError as e:
        fail(str(e), 2)
    root.backward()
    print(f"{args.expression.strip()} = {root.data!r}")
    for name, leaf in leaves.items():
        print(f"d/d{name} = {leaf.grad!r}")

    from .render import GraphvizNotInstalled, draw
    from .stepper import step_through
    try:
        if args.svg:
            svg = draw(root, rankdir=args.rankdir).pipe(format="svg")
            with open(args.svg, "wb") as f:
                f.write(svg)
            print(f"wrote {args.svg}")
        if args.html:
            try:
                stepper = step_through(root, rankdir=args.rankdir)
            except ValueError as e:
                fail(str(e), 2)
            stepper.save(args.html)
            print(f"wrote {args.html}")
    except GraphvizNotInstalled as e:
        fail(str(e), 1)
    except OSError as e:
        fail(f"cannot write {e.filename}: {e.strerror}", 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
