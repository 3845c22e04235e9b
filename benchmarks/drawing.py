"""`python -m benchmarks.drawing [--png DIR]`: how long `draw` + SVG takes, and how big the
picture is, for the graphs people draw.

Rows: sums of 50 to 500 terms (one input repeated, and distinct inputs), every graph the
lessons draw (their sources in notebooks/src/ are run up to their last `draw`, with `draw`
recording its arguments), micrograd's 2-16-16-1 moons network (one sample's hinge loss, and
the demo's batch loss with L2), and a 784-16-16-10 network's cross-entropy. Times are one
run each (draw + pipe to SVG, wall clock); sizes are the SVG's, in CSS pixels (4/3 per pt);
"in .ipynb" is what a notebook stores for the drawing's display (base64 PNG + SVG).
`--png DIR` also writes each picture as a PNG there, to look at.
"""
import argparse
import contextlib
import io
import os
import re
import sys
import time

NOTEBOOKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks", "src")
DRAW_CALL = re.compile(r"^\s*draw\(", re.M)


def lessons():
    """The lesson sources that draw a graph, in order."""
    names = sorted(f[:-3] for f in os.listdir(NOTEBOOKS) if f.endswith(".py"))
    return [n for n in names if DRAW_CALL.search(open(os.path.join(NOTEBOOKS, n + ".py"), encoding="utf-8").read())]


def sum_of(n, distinct):
    from autograd import Value
    xs = [Value(float(i % 7), label=f"x{i}") for i in range(n)] if distinct else [Value(1.0, label="x")] * n
    y = xs[0]
    for x in xs[1:]:
        y = y + x
    y.backward()
    return y


def moons_loss(batch):
    """micrograd's demo loss: max-margin on `batch` points (+ 1e-4·L2 when batch > 1)."""
    from nn import MLP
    from nn.data import make_moons
    X, y = make_moons(max(batch, 2), 0.1, 1337)
    model = MLP(2, [16, 16, 1], init="uniform", seed=1337)
    losses = [(1 + -(2 * t - 1) * model(x)).relu() for x, t in zip(X[:batch], y)]
    loss = sum(losses) * (1.0 / len(losses))
    if batch > 1:
        loss = loss + 1e-4 * sum(p * p for p in model.parameters())
    loss.backward()
    return loss


def mnist_loss():
    from nn import MLP, cross_entropy
    model = MLP(784, [16, 16, 10], seed=0)
    loss = cross_entropy(model([(i % 7) / 7 for i in range(784)]), 3)
    loss.backward()
    return loss


def lesson_graphs():
    """(name, root, kwargs) for every `draw(...)` call in the lesson sources, in order."""
    import autograd.render as render
    import matplotlib
    matplotlib.use("Agg")
    calls, real = [], render.draw

    def recording(root, **kwargs):
        calls.append((root, kwargs))
        return real(root, **kwargs)

    render.draw = recording
    try:
        for lesson in lessons():
            with open(os.path.join(NOTEBOOKS, lesson + ".py"), encoding="utf-8") as f:
                lines = f.read().splitlines()
            last = max(i for i, line in enumerate(lines) if DRAW_CALL.match(line))
            cut = next((i for i in range(last + 1, len(lines)) if lines[i].startswith("# %%")), len(lines))
            before = len(calls)
            with contextlib.redirect_stdout(io.StringIO()):  # the lessons' own prints
                exec(compile("\n".join(lines[:cut]), f"{lesson}.py", "exec"), {"__name__": "__lesson__"})
            for k, (root, kwargs) in enumerate(calls[before:]):
                yield f"{lesson[:2]} draw #{k + 1}", root, kwargs
    finally:
        render.draw = real


def _short(x):
    """An argument as the table shows it: a Value or a collection by what it is."""
    from autograd import Value
    if isinstance(x, Value):
        return "a Value"
    if isinstance(x, (set, frozenset, list, tuple)):
        return f"{len(x)} items"
    return repr(x)


def measure(root, kwargs, png_path=None):
    from autograd import draw
    start = time.perf_counter()
    g = draw(root, **kwargs)
    svg = g.pipe(format="svg")
    seconds = time.perf_counter() - start
    w, h = (float(x) for x in re.search(rb'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())
    data, _ = g._repr_mimebundle_()  # what a notebook stores: base64 PNG, SVG text
    stored = len(data["image/png"]) + len(data["image/svg+xml"].encode())
    if png_path:
        from autograd.files import write_atomic
        write_atomic(png_path, g.pipe(format="png"))
    return seconds, round(w * 4 / 3), round(h * 4 / 3), g.summary, stored


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.drawing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--png", metavar="DIR", help="also write every picture as a PNG into DIR")
    args = parser.parse_args(argv)
    rows = []
    for n in (50, 100, 250, 500):
        for distinct in (False, True):
            rows.append((f"sum of {n} {'distinct inputs' if distinct else 'copies of x'}",
                         lambda n=n, d=distinct: (sum_of(n, d), {})))
    rows.append(("2-16-16-1 one sample's hinge loss", lambda: (moons_loss(1), {})))
    rows.append(("2-16-16-1 batch of 100 loss + L2", lambda: (moons_loss(100), {})))
    rows.append(("784-16-16-10 cross-entropy", lambda: (mnist_loss(), {})))
    print(f"{'graph':<40} {'values as boxes':<28} {'draw+svg s':>10} {'width px':>9} {'height px':>9}"
          f" {'in .ipynb KB':>12}")
    worst = 0.0

    def report(name, root, kwargs, short=None):
        nonlocal worst
        path = os.path.join(args.png, re.sub(r"\W+", "_", short or name).strip("_") + ".png") if args.png else None
        seconds, w, h, summary, stored = measure(root, kwargs, path)
        worst = max(worst, seconds)
        print(f"{name:<40} {summary:<28} {seconds:>10.2f} {w:>9} {h:>9} {stored / 1000:>12.1f}", flush=True)

    for name, make in rows:
        root, kwargs = make()
        report(name, root, kwargs)
    for name, root, kwargs in lesson_graphs():
        report(name + (" " + ", ".join(f"{k}={_short(v)}" for k, v in kwargs.items()) if kwargs else ""),
               root, kwargs, name)
    print(f"slowest: {worst:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
