"""`python -m benchmarks [--quick] [--only moons,chain] [--repeats N] [--json PATH]`

Runs the workloads, prints one table per workload and the table of targets, checks that
every contender computed the same numbers, and writes everything as JSON to
benchmarks/results/. Exit status 1 when numbers disagree, our engine failed, or a workload
could not run (its data missing); a missing peer (torch, micrograd) only turns its rows into
"missing".
"""
import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import time

from autograd.files import write_atomic

from . import chain, fashion, moons, peers, targets, timing, traced

FULL = {"w1_steps": 20, "w2_n": 200, "w2_micrograd_n": 20, "w3_lines": 500_000,
        "w4_lines": 100_000, "repeats": 3}
QUICK = {"w1_steps": 2, "w2_n": 10, "w2_micrograd_n": 2, "w3_lines": 25_000,
         "w4_lines": 10_000, "repeats": 1}
AGREE = 1e-9  # losses must match micrograd's (W1) / the floor's (W2) this closely
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
# workload name -> the short code its tables, checks and targets are labelled with
WORKLOADS = {"moons": "W1", "fashion": "W2", "chain": "W3", "memory": "W4"}


def w1(cfg, max_seconds):
    X, Y = moons.data()
    contenders, notes = moons.contenders(X, Y, cfg["w1_steps"])
    contenders.update(traced.w1_contenders(X, Y, cfg["w1_steps"]))
    runs = timing.interleaved(contenders, cfg["repeats"], max_seconds)
    ref = "micrograd" if runs.get("micrograd", {}).get("results") else "floor"
    ref_loss = runs[ref]["results"][-1][-1] if runs[ref]["results"] else None
    rows, agree = {}, []
    for name, rec in runs.items():
        loss = rec["results"][-1][-1] if rec["results"] else None
        rows[name] = _row(rec, final_loss=loss)
        if loss is not None and ref_loss is not None and name != ref:
            agree.append(_agreement(f"W1 {name} vs {ref}", abs(loss - ref_loss)))
    return {"title": f"W1 moons: 100 samples, 2-16-16-1 ReLU, {cfg['w1_steps']} full-batch "
                     f"SGD steps (time per run)",
            "rows": rows, "agreement": agree, "notes": notes, "reference": ref}


def w2(cfg, max_seconds):
    images, labels = fashion.data(cfg["w2_n"])
    contenders, notes = fashion.contenders(images, labels, cfg["w2_micrograd_n"])
    contenders.update(traced.w2_contenders(images, labels))
    runs = timing.interleaved(contenders, cfg["repeats"], max_seconds)
    ref = runs["floor"]["results"][-1] if runs["floor"]["results"] else None
    rows, agree = {}, []
    for name, rec in runs.items():
        losses = rec["results"][-1] if rec["results"] else None
        row = _row(rec, mean_loss=sum(losses) / len(losses) if losses else None)
        if rec["median"]:
            row["samples"] = len(losses)
            row["samples_per_s"] = len(losses) / rec["median"]
        rows[name] = row
        if losses and ref and name != "floor":
            diff = max(abs(a - b) for a, b in zip(losses, ref))
            agree.append(_agreement(f"W2 {name} vs floor ({len(losses)} per-sample losses)", diff))
    return {"title": f"W2 Fashion-MNIST: 784-16-16-10 ReLU, per-sample SGD + cross-entropy, "
                     f"{cfg['w2_n']} images (micrograd {cfg['w2_micrograd_n']})",
            "rows": rows, "agreement": agree, "notes": notes}


def w3(cfg, max_seconds):
    lines = cfg["w3_lines"]
    runs = timing.interleaved({"ours": lambda: lambda: chain.ours_build_backward(lines)},
                              cfg["repeats"], max_seconds)
    rec = runs["ours"]
    row = _row(rec)
    if rec["results"]:
        for part in ("build", "backward", "total"):
            row[part] = statistics.median(r[part] for r in rec["results"])
        row["median"] = row["total"]  # without freeing the chain, which `times` includes
    row["ops"] = 2 * lines
    rows = {"ours": row}
    if peers.micrograd:
        rows["micrograd"] = {"median": None, "runs": 0, "error": chain.micrograd_recursion()}
    return {"title": f"W3 chain: y = y*{chain.SCALE} + {chain.SHIFT} x {lines:,} "
                     f"({2 * lines:,} ops), default recursion limit",
            "rows": rows, "agreement": [], "notes": {}}


def w4(cfg, max_seconds):
    lines = cfg["w4_lines"]
    from autograd import Value
    rows = {"ours": {"bytes_per_op": chain.bytes_per_op(Value, lines), "median": None}}
    if peers.micrograd:
        mg_value = peers.micrograd.engine.Value
        rows["micrograd"] = {"bytes_per_op": chain.bytes_per_op(mg_value, lines), "median": None}
    return {"title": f"W4 memory: bytes per recorded op, {2 * lines:,}-op chain (tracemalloc)",
            "rows": rows, "agreement": [], "notes": {}}


def _row(rec, **metrics):
    return {"median": rec["median"], "runs": len(rec["times"]), "times": rec["times"],
            "error": rec["error"], **metrics}


def _agreement(what, diff):
    return {"check": what, "diff": diff, "ok": diff <= AGREE}


def print_workload(w):
    print(f"\n{w['title']}")
    rows = w["rows"]
    base = rows.get("ours fused") or rows.get("ours") or {}
    for name, r in rows.items():
        cells = [f"  {name:<18}"]
        if r.get("bytes_per_op") is not None:
            cells.append(f"{r['bytes_per_op']:9.0f} bytes/op")
        elif r.get("median"):
            cells.append(f"{r['median']:9.3f} s  (n={r['runs']})")
            if base.get("median") and r is not base:
                ratio = r["median"] / base["median"]
                cells.append(f"{ratio:8.2f}× ours' time" if ratio >= 1
                             else f"{1 / ratio:8.2f}× faster than ours")
            for key, fmt in (("samples_per_s", "{:.3g} samples/s"), ("final_loss", "loss {:.12f}"),
                             ("mean_loss", "mean loss {:.12f}"), ("build", "build {:.2f} s"),
                             ("backward", "backward {:.2f} s")):
                if r.get(key) is not None:
                    cells.append(fmt.format(r[key]))
        if r.get("error"):
            cells.append(r["error"])
        print("  ".join(cells))
    if "ours" in rows and "micrograd" in rows and rows["micrograd"].get("bytes_per_op"):
        times = rows["micrograd"]["bytes_per_op"] / rows["ours"]["bytes_per_op"]
        print(f"  micrograd uses {times:.1f}× our memory per op")
    for k, v in w["notes"].items():
        print(f"  note: {k}: {v}")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[1])
    ap.add_argument("--quick", action="store_true", help="reduced sizes, one repeat: a smoke run")
    ap.add_argument("--only", default=",".join(WORKLOADS),
                    help="comma-separated workloads: " + ", ".join(f"{n} ({c})" for n, c in WORKLOADS.items())
                    + "; the short codes work too (default all)")
    ap.add_argument("--repeats", type=int, help="runs per contender (default 3, quick 1)")
    ap.add_argument("--max-seconds", type=float, default=30.0,
                    help="stop repeating a contender once its runs took this long (default 30)")
    ap.add_argument("--json", help="where to write the results (default benchmarks/results/)")
    ap.add_argument("--no-gc-freeze", action="store_true",
                    help="leave the imported libraries' objects in the collector's generations")
    args = ap.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    if args.repeats is not None:
        if args.repeats < 1:
            ap.error("--repeats must be at least 1")
        cfg["repeats"] = args.repeats
    names = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in names if w.lower() not in WORKLOADS and w.upper() not in WORKLOADS.values()]
    if unknown:
        ap.error(f"unknown workload(s) {', '.join(unknown)}; choose from "
                 + ", ".join(f"{n} ({c})" for n, c in WORKLOADS.items()))
    # results stay keyed by the short code, which the tables and targets are labelled with
    chosen = [WORKLOADS.get(w.lower(), w.upper()) for w in names]
    runners = {"W1": w1, "W2": w2, "W3": w3, "W4": w4}

    quick = " (quick: reduced sizes, verdicts indicative only)" if args.quick else ""
    print(f"chainrule benchmarks{quick}"
          f" — Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpu(s)")
    for peer, how in peers.missing().items():
        print(f"  {peer} is not installed: its rows are missing ({how})")
    if not args.no_gc_freeze:
        # torch, numpy and sklearn leave ~220,000 tracked objects behind; every full
        # collection walks them all, and graph-building contenders trigger many, so without
        # this the scalar engines' times depend on which libraries happen to be imported
        # (ours: up to 2.6x slower on W1). Applies to every contender alike.
        gc.collect()
        gc.freeze()
        print("  gc.freeze() after imports (see --no-gc-freeze)")
    started = time.perf_counter()
    summary = {}
    for name in chosen:
        try:
            summary[name] = runners[name](cfg, args.max_seconds)
        except (OSError, ValueError) as e:  # e.g. the Fashion-MNIST files are not installed
            summary[name] = {"title": name, "rows": {}, "agreement": [], "notes": {},
                             "error": f"{type(e).__name__}: {e}"}
            print(f"\n{name}: could not run: {e}")
            continue
        print_workload(summary[name])

    print("\nSame numbers (|Δ loss| ≤ 1e-9):")
    checks = [a for w in summary.values() for a in w["agreement"]]
    for a in checks:
        print(f"  {'PASS' if a['ok'] else 'FAIL'}  {a['check']}: |Δ| = {a['diff']:.3g}")
    if not checks:
        print("  nothing to compare")

    verdicts = targets.check(summary)
    print("\nTargets:")
    width = max(len(v["target"]) for v in verdicts)
    for v in verdicts:
        print(f"  {v['verdict']:<7}  {v['target']:<{width}}  {v['shown']:<22}  target {v['goal']}")
    elapsed = time.perf_counter() - started
    print(f"\nTotal {elapsed:.0f} s")

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = args.json or os.path.join(RESULTS, f"bench-{stamp}{'-quick' if args.quick else ''}.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    record = {"config": cfg, "quick": args.quick, "gc_freeze": not args.no_gc_freeze,
              "seconds": elapsed,
              "python": platform.python_version(), "platform": platform.platform(),
              "cpus": os.cpu_count(), "peers": peers.versions(), "workloads": summary,
              "targets": verdicts}
    write_atomic(path, json.dumps(record, indent=1, default=str))
    print(f"Results written to {os.path.relpath(path)}")

    ours_failed = any(r.get("error") for w in summary.values()
                      for n, r in w["rows"].items() if n.startswith("ours"))
    not_run = any(w.get("error") for w in summary.values())
    return 1 if ours_failed or not_run or not all(a["ok"] for a in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
