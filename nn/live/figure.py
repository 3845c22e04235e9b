"""One frame of the live view as a PNG: matplotlib on its Agg canvas (no window, no pyplot
state, so drawing never disturbs the notebook's own figures)."""
import io
import math

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def frame_figure(view, frame, title):
    """PNG bytes: loss curves, accuracy, the boundary (2-D inputs) and the layer-health table."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = 3 if view.two_d else 2
    fig = Figure(figsize=(4.2 * columns, 3.2 + 0.3 * (len(view.model.layers) + 2)), dpi=72)
    FigureCanvasAgg(fig)
    rows = len(view.model.layers) + 3
    grid = fig.add_gridspec(2, columns, height_ratios=[3.2, 0.3 * rows], left=0.05, right=0.98,
                            top=0.86, bottom=0.02, wspace=0.22, hspace=0.3)
    fig.suptitle(title, fontsize=11, x=0.05, ha="left")
    steps = sorted(view.curves)
    _losses(fig.add_subplot(grid[0, 0]), view, steps)
    _accuracy(fig.add_subplot(grid[0, 1]), view, steps)
    if view.two_d:
        _boundary(fig.add_subplot(grid[0, 2]), view)
    _health(fig.add_subplot(grid[1, :]), view, frame)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _losses(ax, view, steps):
    losses = view.losses
    if losses:
        every = max(1, len(losses) // 1500)   # thin the batch curve, not the frames
        xs = list(range(1, len(losses) + 1, every))
        ax.plot(xs, [losses[i - 1] for i in xs], color="#bbb", lw=0.8, label="batch")
    ax.plot(steps, [view.curves[s][0] for s in steps], "-o", ms=2.5, color=COLORS[0], label="train sample")
    if view.X_test is not None:
        ax.plot(steps, [view.curves[s][1] for s in steps], "-o", ms=2.5, color=COLORS[4], label="test")
    finite = sorted(v for v in losses + [view.curves[s][0] for s in steps] if v is not None and math.isfinite(v))
    if finite:
        ax.set_ylim(0, finite[int(0.98 * (len(finite) - 1))] * 1.1 or 1.0)
    ax.set_xlim(0, max(view.total_steps or 0, len(losses), 1))
    ax.set_title("loss", fontsize=10)
    ax.set_xlabel("step", fontsize=9)
    ax.legend(fontsize=8, loc="upper right")
    ax.tick_params(labelsize=8)


def _accuracy(ax, view, steps):
    ax.plot(steps, [view.curves[s][2] for s in steps], "-o", ms=2.5, color=COLORS[0], label="train sample")
    if view.X_test is not None:
        ax.plot(steps, [view.curves[s][3] for s in steps], "-o", ms=2.5, color=COLORS[4], label="test")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, max(view.total_steps or 0, len(view.losses), 1))
    ax.set_title("accuracy", fontsize=10)
    ax.set_xlabel("step", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    ax.tick_params(labelsize=8)


def _boundary(ax, view):
    from matplotlib.colors import ListedColormap
    cols, rows = view.grid
    values = view.grid_values()
    image = [values[r * cols:(r + 1) * cols] for r in range(rows)]
    x0, x1, y0, y1 = view.bounds
    if view.outputs == 1:
        ax.imshow(image, extent=(x0, x1, y0, y1), cmap="RdBu_r", vmin=0, vmax=1, alpha=0.45,
                  interpolation="bilinear", aspect="auto")
        xs = [x0 + (x1 - x0) * (c + 0.5) / cols for c in range(cols)]
        ys = [y1 - (y1 - y0) * (r + 0.5) / rows for r in range(rows)]
        ax.contour(xs, ys, image, levels=[0.5], colors="k", linewidths=1.2)
    else:
        k = view.outputs
        ax.imshow(image, extent=(x0, x1, y0, y1), cmap=ListedColormap(COLORS[:k]), vmin=-0.5,
                  vmax=k - 0.5, alpha=0.35, interpolation="nearest", aspect="auto")
    pts = view.scatter
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], c=[COLORS[p[2] % 10] for p in pts],
               s=10, edgecolors="k", linewidths=0.3)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title("decision boundary (P(class 1) = 0.5)" if view.outputs == 1 else "predicted class",
                 fontsize=10)
    ax.tick_params(labelsize=8)


def _log10(r):
    if r is None:
        return "–"
    if r == 0:
        return "−inf"
    return f"{math.log10(r):.2f}" if math.isfinite(r) else "nan"


def _health(ax, view, frame):
    # One monospaced text block: a matplotlib table costs a text artist per cell, and
    # drawing them was a third of the frame's time.
    ax.axis("off")
    header = ["layer", "act", "dead", "saturated", "act. mean", "act. std", "log10 grad:data",
              "log10 update:data (≈ −3 is healthy)", "flags"]
    rows = [header]
    for layer, (dead, sat, mean, std, gd, ud, flags) in zip(view.model.layers, frame["layers"]):
        rows.append([layer.path, layer.activation or "linear",
                     "–" if dead is None else f"{dead}/{layer.nout}",
                     "–" if sat is None else f"{sat:.0%}", f"{mean:.3g}", f"{std:.3g}",
                     _log10(gd), _log10(ud), flags or "ok"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if 1 < i < 8 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    y = 1.0
    step = 1.0 / (len(lines) + 1.5)
    for i, line in enumerate(lines):
        flagged = i > 0 and frame["layers"][i - 1][6]
        ax.text(0, y, line, family="monospace", fontsize=9, transform=ax.transAxes, va="top",
                color="#b3261e" if flagged else "#222", weight="bold" if i == 0 else "normal")
        y -= step
    if frame["dead"]:
        shown = ", ".join(frame["dead"][:4]) + (f" and {len(frame['dead']) - 4} more" if len(frame["dead"]) > 4 else "")
        ax.text(0, y - step / 3, "dead: " + shown, fontsize=8, color="#b3261e", transform=ax.transAxes, va="top")
