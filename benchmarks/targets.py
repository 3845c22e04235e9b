"""The speed and memory targets, checked against one run's measurements.

Each target reads the run's summary (see `__main__`) and gives (measured, verdict): PASS, MISS,
or MISSING when a contender it compares against did not run (not installed, or failed).
"""


def _median(summary, workload, name):
    row = summary.get(workload, {}).get("rows", {}).get(name)
    return row["median"] if row and row["median"] else None


def _ratio(summary, workload, a, b):
    """time(a) / time(b), or None when either is missing."""
    ta, tb = _median(summary, workload, a), _median(summary, workload, b)
    return ta / tb if ta and tb else None


def _per_million(summary):
    """W3 seconds scaled to 1,000,000 ops (exact in a full run; --quick builds fewer)."""
    row = summary.get("W3", {}).get("rows", {}).get("ours")
    return row["median"] * 1e6 / row["ops"] if row and row["median"] else None


TARGETS = [
    # (label, measure(summary) -> number or None, goal text, passes(number) -> bool, format)
    ("W1 fused vs micrograd", lambda s: _ratio(s, "W1", "micrograd", "ours fused"),
     "≥ 50× faster", lambda v: v >= 50, "{:.1f}× faster"),
    ("W1 unfused vs micrograd", lambda s: _ratio(s, "W1", "micrograd", "ours unfused"),
     "≥ 5× faster", lambda v: v >= 5, "{:.1f}× faster"),
    ("W1 fused vs PyTorch eager per-sample", lambda s: _ratio(s, "W1", "ours fused", "torch per-sample"),
     "ratio ≤ 1.0", lambda v: v <= 1.0, "{:.2f}"),
    ("W1 fused vs hand-written floor", lambda s: _ratio(s, "W1", "ours fused", "floor"),
     "≤ 2.0× the floor's time", lambda v: v <= 2.0, "{:.2f}×"),
    ("W2 fused vs hand-written floor", lambda s: _ratio(s, "W2", "ours fused", "floor"),
     "≤ 2.0×", lambda v: v <= 2.0, "{:.2f}×"),
    ("W2 absolute, one core", lambda s: s.get("W2", {}).get("rows", {}).get("ours fused", {}).get("samples_per_s"),
     "≥ 300 samples/s", lambda v: v >= 300, "{:.0f} samples/s"),
    ("W1 traced vs hand-written floor", lambda s: _ratio(s, "W1", "traced", "floor"),
     "≤ 1.0× the floor's time", lambda v: v <= 1.0, "{:.2f}×"),
    ("W1 traced vs PyTorch eager per-sample", lambda s: _ratio(s, "W1", "torch per-sample", "traced"),
     "≥ 5× faster", lambda v: v >= 5, "{:.1f}× faster"),
    ("W2 traced vs hand-written floor", lambda s: _ratio(s, "W2", "traced", "floor"),
     "≤ 1.1×", lambda v: v <= 1.1, "{:.2f}×"),
    ("W3 build + backward, 1,000,000 ops", lambda s: _per_million(s),
     "≤ 3 s, no recursion error", lambda v: v <= 3.0, "{:.2f} s"),
    ("W4 bytes per recorded op", lambda s: s.get("W4", {}).get("rows", {}).get("ours", {}).get("bytes_per_op"),
     "≤ 150 bytes", lambda v: v <= 150, "{:.0f} bytes"),
]


def check(summary):
    """[{"target", "goal", "measured", "verdict"}] for every target."""
    out = []
    for label, measure, goal, passes, fmt in TARGETS:
        workload = label.split()[0]
        if workload not in summary:
            out.append({"target": label, "goal": goal, "measured": None, "shown": "not run",
                        "verdict": "NOT RUN"})
            continue
        v = measure(summary)
        broken = [f"{n}: {r['error']}" for n, r in summary[workload]["rows"].items()
                  if n.startswith("ours") and r.get("error")]
        if v is None and broken:
            out.append({"target": label, "goal": goal, "measured": None, "shown": broken[0],
                        "verdict": "MISS"})
        elif v is None:
            out.append({"target": label, "goal": goal, "measured": None, "shown": "—",
                        "verdict": "MISSING"})
        else:
            out.append({"target": label, "goal": goal, "measured": v, "shown": fmt.format(v),
                        "verdict": "PASS" if passes(v) else "MISS"})
    return out
