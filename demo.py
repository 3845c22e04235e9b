"""`make demo`: the engine on micrograd's classic example, one neuron drawn and stepped
through, and the lecture notes' digit network (64-16-16-10 on the bundled 8x8 digits).
Files go to out/."""
import sys
from pathlib import Path

from autograd import Value, draw, step_through
from autograd.files import write_atomic

OUT = Path("out")


def engine():
    print("== micrograd's example, a = -4, b = 2")
    a, b = Value(-4.0, label="a"), Value(2.0, label="b")
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.label = "g"
    g.backward()
    print(f"g = {g.data:.4f}, dg/da = {a.grad:.4f}, dg/db = {b.grad:.4f}")
    path = OUT / "micrograd_example.svg"
    write_atomic(path, draw(g).pipe(format="svg"))
    print(f"graph: {path}")


def neuron():
    print("== one neuron: o = tanh(x1*w1 + x2*w2 + b)")
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    print(f"o = {o.data:.4f}; do/dw1 = {w1.grad:.4f}, do/dx1 = {x1.grad:.4f}")
    svg, html = OUT / "neuron.svg", OUT / "neuron_steps.html"
    write_atomic(svg, draw(o, show_edges=True).pipe(format="svg"))
    step_through(o).save(html)
    print(f"graph: {svg}\nstep-through page (open in a browser): {html}")


def digits(extra=()):
    print("== the digit network, 64-16-16-10, on scikit-learn's bundled 8x8 digits")
    from nn.cli import main
    return main(["train", "--dataset", "digits", "--layers", "16,16", *extra])


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    engine()
    neuron()
    sys.exit(digits())
