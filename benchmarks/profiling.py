"""Where our engine spends its time on the benchmark workloads.

    $ python -m benchmarks.profiling moons-fused   # also: moons-unfused, fashion, chain
    $ python -m benchmarks.profiling fashion --top 25

(the short names w1-fused, w1-unfused, w2 and w3 work too)

Two views of the same training loop as the suite's: a phase breakdown with plain timers
(forward graph building, the loss, topological ordering, the backward loop, the optimizer
step; no profiler overhead), then cProfile's functions sorted by self time.
"""
import argparse
import cProfile
import gc
import pstats
import time

from autograd.backprop import topo_order

from . import chain, fashion, moons, ours, weights


def _phases_moons(fused, steps):
    X, Y = moons.data()
    model, params = ours.mlp(weights.micrograd_uniform(moons.NIN, moons.NOUTS, moons.SEED),
                                moons.NIN, moons.NOUTS, fused)
    t = dict.fromkeys(("forward (model)", "loss graph", "topo_order", "backward loop",
                       "zero_grad + step"), 0.0)
    nodes = 0
    for k in range(steps):
        t0 = time.perf_counter()
        scores = [model(x) for x in X]
        t1 = time.perf_counter()
        losses = [(1 + -yi * si).relu() for yi, si in zip(Y, scores)]
        total = sum(losses) * (1.0 / len(losses)) + moons.ALPHA * sum(p * p for p in params)
        t2 = time.perf_counter()
        nodes = len(topo_order(total))
        t3 = time.perf_counter()
        for p in params:
            p.grad = 0.0
        t4 = time.perf_counter()
        total.backward()
        t5 = time.perf_counter()
        lr = 1.0 - 0.9 * k / 100
        for p in params:
            p.data -= lr * p.grad
        t6 = time.perf_counter()
        # backward() runs topo_order itself: its loop is the rest of the time
        for key, dt in zip(t, (t1 - t0, t2 - t1, t3 - t2, (t5 - t4) - (t3 - t2), (t4 - t3) + (t6 - t5))):
            t[key] += dt
    return t, nodes, f"{steps} steps"


def _phases_fashion(n):
    images, labels = fashion.data(n)
    model, params = ours.mlp(weights.he_uniform(fashion.NIN, fashion.NOUTS, fashion.SEED),
                                fashion.NIN, fashion.NOUTS, True)
    ce = ours.cross_entropy
    t = dict.fromkeys(("forward (model)", "loss graph", "topo_order", "backward loop",
                       "zero_grad + step"), 0.0)
    nodes = 0
    for x, label in zip(images, labels):
        t0 = time.perf_counter()
        logits = model(x)
        t1 = time.perf_counter()
        loss = ce(logits, label)
        t2 = time.perf_counter()
        nodes = len(topo_order(loss))
        t3 = time.perf_counter()
        loss.backward()
        t4 = time.perf_counter()
        for p in params:
            p.data -= fashion.LR * p.grad
            p.grad = 0.0
        t5 = time.perf_counter()
        for key, dt in zip(t, (t1 - t0, t2 - t1, t3 - t2, (t4 - t3) - (t3 - t2), t5 - t4)):
            t[key] += dt
    return t, nodes, f"{n} samples"


def _workload(name, size):
    """(description, run) for cProfile: the suite's own loop for our engine."""
    if name.startswith("w1"):
        X, Y = moons.data()
        model, params = ours.mlp(weights.micrograd_uniform(moons.NIN, moons.NOUTS, moons.SEED),
                                    moons.NIN, moons.NOUTS, name == "w1-fused")
        return lambda: moons.scalar_train(model, params, X, Y, size)
    if name == "w2":
        images, labels = fashion.data(size)
        model, params = ours.mlp(weights.he_uniform(fashion.NIN, fashion.NOUTS, fashion.SEED),
                                    fashion.NIN, fashion.NOUTS, True)
        return lambda: fashion.scalar_train(model, params, images, labels, ours.cross_entropy)
    return lambda: chain.ours_build_backward(size)


NAMES = {"moons-fused": "w1-fused", "moons-unfused": "w1-unfused", "fashion": "w2", "chain": "w3"}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.profiling", description=__doc__.split("\n\n")[0])
    ap.add_argument("workload", choices=[*NAMES, *NAMES.values()], metavar="workload",
                    help=", ".join(NAMES) + " (or " + ", ".join(NAMES.values()) + ")")
    ap.add_argument("--size", type=int, help="steps (moons), images (fashion) or chain lines")
    ap.add_argument("--top", type=int, default=15, help="functions to list (default 15)")
    args = ap.parse_args(argv)
    args.workload = NAMES.get(args.workload, args.workload)
    gc.collect()
    gc.freeze()  # as the suite does: the import heap is not the engine's cost
    size = args.size or {"w1-fused": 5, "w1-unfused": 2, "w2": 50, "w3": 200_000}[args.workload]

    if args.workload != "w3":
        gc.collect()
        if args.workload == "w2":
            t, nodes, what = _phases_fashion(size)
        else:
            t, nodes, what = _phases_moons(args.workload == "w1-fused", size)
        total = sum(t.values())
        print(f"{args.workload}, {what}: {total:.3f} s; {nodes:,} interior nodes per graph")
        for key, dt in t.items():
            print(f"  {key:<18} {dt:8.3f} s  {100 * dt / total:5.1f}%")
    run = _workload(args.workload, size)
    gc.collect()
    prof = cProfile.Profile()
    prof.runcall(run)
    print(f"\ncProfile (self time; cProfile's per-call overhead inflates small functions):")
    pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
