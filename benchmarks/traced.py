"""Traced contenders: W1 and W2 trained through `autograd.trace` instead of one Value per op.

    .venv/bin/python -m benchmarks.traced            # W1, W2 and the digits fit, ~2 minutes
    .venv/bin/python -m benchmarks.traced --quick    # a smoke run

A trace records the training step once, emits it as straight-line Python and compiles it; each
step then runs that code on lists of floats. The report gives the traced runs next to the
hand-written floor and PyTorch eager, the one-time trace + compile cost, the size of the
generated code, and checks that the traced numbers equal the engine's (`==`, every parameter).
"""
import argparse
import datetime
import gc
import json
import os
import platform
import sys
import time

from autograd.trace import trace

from . import fashion, moons, ours, peers, timing, weights
from .targets import check

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


# -- W1: micrograd's moons demo ---------------------------------------------------------------
def w1_traced(flat, X, Y, steps):
    """(run, (wall, CPU) seconds to trace + compile, source lines). The labels ±1 are ints:
    part of the trace, as the demo's constants are."""
    model, params = ours.mlp(flat, moons.NIN, moons.NOUTS, fused=True)
    t0, c0 = time.perf_counter(), time.process_time()
    step = trace(lambda X, Y: moons.demo_loss(model, params, X, Y), params, (X, Y))
    seconds = (time.perf_counter() - t0, time.process_time() - c0)

    def run():
        history = []
        for k in range(steps):
            for p in params:
                p.grad = 0.0
            history.append(step(X, Y))
            lr = 1.0 - 0.9 * k / 100
            for p in params:
                p.data -= lr * p.grad
        return history, [p.data for p in params]
    return run, seconds, step.source.count("\n")


def w1_engine(flat, X, Y, steps):
    model, params = ours.mlp(flat, moons.NIN, moons.NOUTS, fused=True)
    return lambda: (moons.scalar_train(model, params, X, Y, steps), [p.data for p in params])


def w1_contenders(X, Y, steps):
    """{"traced": setup} for benchmarks/__main__'s W1: each run returns the loss of every step,
    as the other contenders' do. Setting up includes tracing (untimed, reported apart here)."""
    flat = weights.micrograd_uniform(moons.NIN, moons.NOUTS, moons.SEED)

    def setup():
        run = w1_traced(flat, X, Y, steps)[0]
        return lambda: run()[0]
    return {"traced": setup}


# -- W2: Fashion-MNIST, per-sample SGD --------------------------------------------------------
def w2_traced(flat, images, labels):
    """(run, (wall, CPU) seconds to trace + compile all classes, source lines of one trace).
    Per-sample SGD on lists of floats through the functional form; one trace per class."""
    model, params = ours.mlp(flat, fashion.NIN, fashion.NOUTS, fused=True)
    loss = lambda x, t: ours.cross_entropy(model(x), t)
    t0, c0 = time.perf_counter(), time.process_time()
    step = trace(loss, params, (images[0], labels[0]))
    for t in sorted(set(labels)):  # every class's trace now, so the timed run only replays
        step.functional([p.data for p in params], images[0], t)
    seconds = (time.perf_counter() - t0, time.process_time() - c0)
    start = [p.data for p in params]
    lr = fashion.LR
    rows, at = [], 0  # each neuron's weights and bias: a run of P
    for fan_in, fan_out in zip([fashion.NIN] + fashion.NOUTS, fashion.NOUTS):
        for _ in range(fan_out):
            rows.append((at, at + fan_in + 1))
            at += fan_in + 1

    def run():
        P, history = list(start), []
        for x, t in zip(images, labels):
            value, G = step.functional(P, x, t)
            history.append(value)
            # fashion.scalar_train's `p.data -= LR * p.grad` for every p. A row of zero grads
            # (a dead unit) is skipped: p - LR * 0.0 is p, and these grads start at +0.0 and
            # only have products added, so none is -0.0 (where p - LR * g could differ).
            for a, b in rows:
                g = G[a:b]
                if any(g):
                    P[a:b] = [p - lr * gi for p, gi in zip(P[a:b], g)]
        return history, P
    return run, seconds, step.source.count("\n")


def w2_engine(flat, images, labels):
    model, params = ours.mlp(flat, fashion.NIN, fashion.NOUTS, fused=True)
    return lambda: (fashion.scalar_train(model, params, images, labels, ours.cross_entropy),
                    [p.data for p in params])


def w2_contenders(images, labels):
    """{"traced": setup} for benchmarks/__main__'s W2: each run returns the per-sample losses."""
    flat = weights.he_uniform(fashion.NIN, fashion.NOUTS, fashion.SEED)

    def setup():
        run = w2_traced(flat, images, labels)[0]
        return lambda: run()[0]
    return {"traced": setup}


# -- the report -------------------------------------------------------------------------------
def _equal(a, b):
    return len(a) == len(b) and all(x == y or (x != x and y != y) for x, y in zip(a, b))


def _race(contenders, repeats, max_seconds):
    runs = timing.interleaved(contenders, repeats, max_seconds)
    return {name: {"median": r["median"], "runs": len(r["times"]), "times": r["times"],
                   "error": r["error"], "result": r["results"][-1] if r["results"] else None}
            for name, r in runs.items()}


def _peer(run):
    """A peer's run shaped like ours: (its result, no parameters to compare)."""
    return lambda: (run(), None)


def w1(steps, repeats, max_seconds):
    X, Y = moons.data()
    flat = weights.micrograd_uniform(moons.NIN, moons.NOUTS, moons.SEED)
    _, trace_seconds, lines = w1_traced(flat, X, Y, steps)

    def floor_setup():
        net = weights.layers(flat, moons.NIN, moons.NOUTS)
        return _peer(lambda: moons.floor.train_moons(net, X, Y, steps, moons.ALPHA))
    contenders = {"traced": lambda: w1_traced(flat, X, Y, steps)[0],
                  "ours fused": lambda: w1_engine(flat, X, Y, steps), "floor": floor_setup}
    if peers.torch:
        contenders["torch per-sample"] = lambda: _peer(moons._torch(flat, X, Y, steps, False))
    rows = _race(contenders, repeats, max_seconds)
    traced, same = rows["traced"]["result"], _same_as_engine(rows)
    return {"title": f"W1 moons: 2-16-16-1 ReLU, 100 samples, {steps} full-batch SGD steps",
            "rows": rows, "trace_seconds": trace_seconds, "source_lines": lines,
            "same_as_engine": same,
            "same_what": f"{len(traced[0]) if traced else 0} losses and all "
                         f"{len(traced[1]) if traced else 0} parameters after the run, =="}


def _same_as_engine(rows):
    """Whether the traced run's losses and final parameters equal the engine's, with ==."""
    traced, engine = rows["traced"]["result"], rows["ours fused"]["result"]
    return traced is not None and engine is not None and _equal(traced[0], engine[0]) \
        and _equal(traced[1], engine[1])


def w2(n, repeats, max_seconds):
    images, labels = fashion.data(n)
    flat = weights.he_uniform(fashion.NIN, fashion.NOUTS, fashion.SEED)
    _, trace_seconds, lines = w2_traced(flat, images, labels)

    def floor_setup():
        net = weights.layers(flat, fashion.NIN, fashion.NOUTS)
        return _peer(lambda: moons.floor.train_fashion(net, images, labels, fashion.LR))
    contenders = {"traced": lambda: w2_traced(flat, images, labels)[0],
                  "ours fused": lambda: w2_engine(flat, images, labels), "floor": floor_setup}
    if peers.torch:
        contenders["torch batch-1"] = lambda: _peer(fashion._torch(flat, images, labels))
    rows = _race(contenders, repeats, max_seconds)
    same = _same_as_engine(rows)
    return {"title": f"W2 Fashion-MNIST: 784-16-16-10 ReLU, per-sample SGD, {n} images",
            "rows": rows, "trace_seconds": trace_seconds, "source_lines": lines,
            "same_as_engine": same,
            "same_what": f"{n} per-sample losses and all {len(flat)} parameters after the run, =="}


def train_digits(model, X, y, X_test, y_test, epochs, batch_size, traced):
    """nn.train.fit (SGD with momentum, shuffled minibatches), through the engine or through
    traces, without its progress bar; fit's history without its timings."""
    from nn.train import fit
    history = fit(model, X, y, X_test, y_test, epochs=epochs, batch_size=batch_size, lr=0.05,
                  momentum=0.9, progress=False, log=None, traced=traced)
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def digits(epochs, batch_size):
    """The 8x8 digits, 64-16-16-10, trained with and without traces."""
    from nn import MLP
    from nn.data import load_digits, train_test_split

    (Xtr, ytr), (Xte, yte) = train_test_split(*load_digits(), test_fraction=0.2, seed=0)
    out = {}
    for traced in (False, True):
        model = MLP(64, [16, 16, 10], seed=0)
        t0 = time.perf_counter()
        history = train_digits(model, Xtr, ytr, Xte, yte, epochs, batch_size, traced)
        out["traced" if traced else "engine"] = {
            "seconds": time.perf_counter() - t0, "history": history,
            "params": [p.data for p in model.parameters()]}
    e, t = out["engine"], out["traced"]
    same = _equal(e["params"], t["params"]) and e["history"] == t["history"]
    return {"title": f"digits: 64-16-16-10, SGD lr 0.05 momentum 0.9, batch {batch_size}, "
                     f"{epochs} epoch(s), {len(Xtr)} train / {len(Xte)} test (fit's loop)",
            "engine": e, "traced": t, "same": same}


def print_workload(w):
    print(f"\n{w['title']}")
    rows = w["rows"]
    base = rows["traced"]["median"]
    for name, r in rows.items():
        cells = [f"  {name:<18}"]
        if r["median"]:
            cells.append(f"{r['median']:9.4f} s  (n={r['runs']})")
            if base and name != "traced":
                cells.append(f"traced is {r['median'] / base:5.2f}× faster" if r["median"] >= base
                             else f"traced takes {base / r['median']:5.2f}× its time")
        if r["error"]:
            cells.append(r["error"])
        print("  ".join(cells))
    wall, cpu = w["trace_seconds"]
    print(f"  trace + compile once: {cpu:.3f} s of CPU ({wall:.3f} s wall clock); generated "
          f"code: {w['source_lines']:,} lines")
    print(f"  traced == engine ({w['same_what']}): {'yes' if w['same_as_engine'] else 'NO'}")


def targets(summary):
    """The traced rows of `benchmarks.targets` (speed), then what only this run measures:
    trace + compile time and whether the traced numbers equal the engine's."""
    out = [row for row in check(summary)
           if " traced " in row["target"] and row["target"].split()[0] in summary]

    def add(label, value, goal, ok, fmt):
        out.append({"target": label, "goal": goal, "measured": value,
                    "verdict": "MISSING" if value is None else ("PASS" if ok(value) else "MISS"),
                    "shown": "missing" if value is None else fmt.format(value)})
    if "W1" in summary:
        w = summary["W1"]
        # CPU time: on a shared machine the wall clock also counts the wait for a core
        add("W1 trace + compile (CPU time)", w["trace_seconds"][1], "≤ 1.5 s",
            lambda v: v <= 1.5, "{:.3f} s")
        add("W1 traced numbers == engine's", 1.0 if w["same_as_engine"] else 0.0, "equal",
            lambda v: v == 1.0, "{:.0f}")
    if "W2" in summary:
        add("W2 traced numbers == engine's", 1.0 if summary["W2"]["same_as_engine"] else 0.0,
            "equal", lambda v: v == 1.0, "{:.0f}")
    if "digits" in summary:
        d = summary["digits"]
        add("digits traced == engine (accuracy, loss, weights)", 1.0 if d["same"] else 0.0,
            "equal", lambda v: v == 1.0, "{:.0f}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.traced",
                                 description="W1, W2 and a digits fit through autograd.trace")
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    ap.add_argument("--only", default="W1,W2,digits", help="comma-separated: W1, W2, digits")
    ap.add_argument("--repeats", type=int, help="runs per contender (default 5, quick 1)")
    ap.add_argument("--max-seconds", type=float, default=20.0,
                    help="stop repeating a contender once its runs took this long")
    ap.add_argument("--json", help="where to write the results (default benchmarks/results/)")
    args = ap.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 5)
    if repeats < 1:
        ap.error("--repeats must be at least 1")
    chosen = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in chosen if w not in ("W1", "W2", "digits")]
    if unknown:
        ap.error(f"unknown workload(s) {', '.join(unknown)}; choose from W1, W2, digits")
    print(f"traced contenders — Python {platform.python_version()}, {platform.machine()}")
    gc.collect()
    gc.freeze()  # as benchmarks/__main__ does: imported libraries' objects leave the GC's scans
    summary = {}
    if "W1" in chosen:
        summary["W1"] = w1(2 if args.quick else 20, repeats, args.max_seconds)
        print_workload(summary["W1"])
    if "W2" in chosen:
        try:
            summary["W2"] = w2(20 if args.quick else 200, repeats, args.max_seconds)
            print_workload(summary["W2"])
        except (OSError, ValueError) as e:
            print(f"\nW2: could not run: {e}")
            summary["W2"] = {"error": str(e)}
    if "digits" in chosen:
        d = summary["digits"] = digits(1 if args.quick else 3, 32)
        print(f"\n{d['title']}")
        for name in ("engine", "traced"):
            r = d[name]
            last = r["history"][-1]
            print(f"  {name:<8} {r['seconds']:7.2f} s  loss {last['loss']:.12f}  train acc "
                  f"{last['train_accuracy']:.6f}  test acc {last['test_accuracy']:.6f}")
        same = "yes" if d["same"] else "NO"
        print(f"  same accuracy, losses and weights to the last digit: {same}")
    verdicts = targets({k: v for k, v in summary.items() if "error" not in v})
    print("\nTargets:")
    for v in verdicts:
        print(f"  {v['verdict']:<7}  {v['target']:<50}  {v['shown']:<14}  target {v['goal']}")

    from autograd.files import write_atomic
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    quick = "-quick" if args.quick else ""
    path = args.json or os.path.join(RESULTS, f"traced-{stamp}{quick}.json")
    for w in summary.values():
        for r in w.get("rows", {}).values():
            r.pop("result", None)
        for name in ("engine", "traced"):
            if isinstance(w.get(name), dict):
                w[name].pop("params", None)
    record = {"quick": args.quick, "repeats": repeats, "python": platform.python_version(),
              "platform": platform.platform(), "peers": peers.versions(),
              "workloads": summary, "targets": verdicts}
    write_atomic(path, json.dumps(record, indent=1, default=str))
    print(f"Results written to {os.path.relpath(path)}")
    failed = any(v["verdict"] != "PASS" and "==" in v["target"] for v in verdicts)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
