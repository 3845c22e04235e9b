"""W3 and W4: one long chain `y = y * 1.0000001 + 1e-9` (two recorded ops per line).

W3 times building and back-propagating 500,000 lines (1,000,000 ops) under the default
recursion limit. W4 measures with tracemalloc what each recorded op costs in memory while the
graph is alive.
"""
import gc
import sys
import time
import tracemalloc

from autograd import Value

from . import peers

SCALE, SHIFT = 1.0000001, 1e-9


def ours_build_backward(lines):
    """Seconds to build and to back-propagate the chain; checks dy/dx = SCALE**lines."""
    x = Value(1.0)
    t0 = time.perf_counter()
    y = x
    for _ in range(lines):
        y = y * SCALE + SHIFT
    t1 = time.perf_counter()
    y.backward()
    t2 = time.perf_counter()
    expected = SCALE ** lines
    if abs(x.grad - expected) > 1e-9 * expected:
        raise AssertionError(f"chain gradient {x.grad!r}, expected {expected!r}")
    return {"build": t1 - t0, "backward": t2 - t1, "total": t2 - t0}


def micrograd_recursion(lines=1500):
    """micrograd's backward is recursive: show where a chain breaks it, instead of asserting.
    Returns a sentence saying what happened."""
    Value = peers.micrograd.engine.Value
    x = Value(1.0)
    y = x
    for _ in range(lines):
        y = y * SCALE + SHIFT
    try:
        y.backward()
    except RecursionError:
        return (f"micrograd cannot: RecursionError in its recursive topological sort at "
                f"{2 * lines:,} ops (recursion limit {sys.getrecursionlimit()})")
    return f"micrograd back-propagated a {2 * lines:,}-op chain without RecursionError"


def bytes_per_op(make_leaf, lines):
    """Bytes held by the live graph per recorded op (2 per line), per tracemalloc."""
    gc.collect()
    tracemalloc.start()
    try:
        x = make_leaf(1.0)
        before = tracemalloc.get_traced_memory()[0]
        y = x
        for _ in range(lines):
            y = y * SCALE + SHIFT
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del x, y
    return (after - before) / (2 * lines)
