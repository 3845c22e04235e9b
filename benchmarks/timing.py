"""Interleaved, repeated timing: every repeat runs each contender once, in rotating order, so
drift on a shared machine (other processes, CPU frequency) hits all of them alike."""
import gc
import statistics
import time


def interleaved(contenders, repeats, max_seconds=None):
    """Run `contenders` ({name: setup}) `repeats` times each, interleaved.

    `setup()` builds the contender's state (untimed) and returns `run`; `run()` is timed and
    its result kept. A contender that raises is recorded with its error and not repeated; one
    whose runs already took `max_seconds` in all is not repeated either (micrograd needs tens
    of seconds a run, and its ratios are far beyond timing noise), so the run count says how
    many times each was measured.
    Returns {name: {"times": [...], "median": s, "results": [...], "error": str|None}}.
    """
    names = list(contenders)
    out = {n: {"times": [], "median": None, "results": [], "error": None} for n in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            rec = out[name]
            if rec["error"] or (max_seconds is not None and sum(rec["times"]) >= max_seconds):
                continue
            try:
                run = contenders[name]()
                gc.collect()  # garbage of the previous contender is not this one's cost
                t0 = time.perf_counter()
                result = run()
                dt = time.perf_counter() - t0
            except Exception as e:  # a peer's failure (RecursionError...) is a result
                rec["error"] = f"{type(e).__name__}: {e}"
                continue
            rec["times"].append(dt)
            rec["results"].append(result)
    for rec in out.values():
        if rec["times"]:
            rec["median"] = statistics.median(rec["times"])
    return out
