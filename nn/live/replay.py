"""The replay page: one self-contained HTML file that plays a recorded run back offline.

The page is `replay.html` with `replay.css`, `replay.js` and the run's data (JSON) put in
place; it loads nothing (its Content-Security-Policy forbids any request). Numbers are
stored as JSON numbers, so the page shows each loss exactly as Python had it. For 2-D
inputs each frame carries the model's parameters and the page evaluates the model on a grid
(its own copy of the activations, checked against the op table's in the browser tests).
"""
import html
import json
import math

from autograd.files import write_atomic

from .assets import fill, read_asset

MAX_CURVE_POINTS = 4000  # batch losses on the page; more are averaged in buckets


def _clean(x):
    """JSON has no nan/inf: they travel as the strings JavaScript's Number() reads."""
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def _curve(losses):
    """[step, loss] pairs for the batch-loss curve: every step, or bucket means."""
    n = len(losses)
    if n <= MAX_CURVE_POINTS:
        return [[i + 1, v] for i, v in enumerate(losses)]
    size = n / MAX_CURVE_POINTS
    out = []
    for b in range(MAX_CURVE_POINTS):
        lo, hi = int(b * size), int((b + 1) * size)
        chunk = losses[lo:hi]
        out.append([hi, math.fsum(chunk) / len(chunk)])
    return out


def page_data(rec):
    """Everything the page shows, as one JSON-able dict."""
    model = rec.model
    layers = [[layer.path, layer.activation] for layer in model.layers]
    frames = rec.frames
    summary = (f"{len(frames)} frames, one every {rec.k} step{'s' if rec.k > 1 else ''} "
               f"({len(rec.losses)} steps in all); {len(rec.X)} training"
               + (f" and {len(rec.X_test)} test" if rec.X_test is not None else "")
               + " samples evaluated per frame.")
    data = {"title": rec.title, "summary": summary, "layers": layers, "frames": frames,
            "curve": _curve(rec.losses), "epochs": rec.epochs, "k": rec.k,
            "has_test": rec.X_test is not None, "grid": None}
    if rec.two_d:
        sizes = [model.layers[0].nin] + [layer.nout for layer in model.layers]
        data["grid"] = {"sizes": sizes, "bounds": list(rec.bounds), "binary": rec.outputs == 1,
                        "points": rec.scatter}
    return _clean(data)


def render_page(rec):
    data = json.dumps(page_data(rec), separators=(",", ":"), allow_nan=False)
    # Inside <script>, "</script" or "<!--" in the data would end or confuse the element;
    # written as \u003c, no "<" reaches the HTML parser and JSON.parse reads it back.
    data = data.replace("<", "\\u003c")
    return fill("replay.html", title=html.escape(rec.title), css=read_asset("replay.css"),
                js=read_asset("replay.js"), data=data)


def write_replay(path, rec):
    """Write `rec`'s page to `path` atomically; returns `path`."""
    return write_atomic(path, render_page(rec))
