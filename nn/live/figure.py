"""One frame of the live view as a PNG: matplotlib on its Agg canvas (no window, no pyplot
state, so drawing never disturbs the notebook's own figures).

The figure and its artists are made once per run and only their data change from frame to
frame: building axes and ticks anew was about a third of a frame's drawing time.
"""
import io
import math

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
HEADER = ["layer", "act", "dead", "saturated", "act. mean", "act. std", "log10 grad:data",
          "log10 update:data", "flags"]
NOTE = "log10 update:data near −3 is healthy; below −5 a layer barely learns, above −1 it thrashes"


def _log10(r):
    if r is None:
        return "–"
    if r == 0:
        return "−inf"
    return f"{math.log10(r):.2f}" if math.isfinite(r) else "nan"


class FramePlot:
    """Loss curves, accuracy, the boundary (2-D inputs) and the layer-health table of a view."""

    def __init__(self, view):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.view = view
        columns = 3 if view.two_d else 2
        layers = len(view.model.layers)
        fig = self.fig = Figure(figsize=(4.2 * columns, 3.2 + 0.3 * (layers + 4)), dpi=72)
        FigureCanvasAgg(fig)
        grid = fig.add_gridspec(2, columns, height_ratios=[3.2, 0.3 * (layers + 4)], left=0.05,
                                right=0.98, top=0.86, bottom=0.02, wspace=0.22, hspace=0.3)
        self.title = fig.suptitle("", fontsize=10, x=0.05, ha="left")
        test = view.X_test is not None
        last = max(view.total_steps or 0, 1)

        self.loss_ax = ax = fig.add_subplot(grid[0, 0])
        self.batch, = ax.plot([], [], color="#bbb", lw=0.8, label="batch")
        self.train_loss, = ax.plot([], [], "-o", ms=2.5, color=COLORS[0], label="train sample")
        # a label starting with "_" keeps a line out of the legend
        self.test_loss, = ax.plot([], [], "-o", ms=2.5, color=COLORS[4], label="test" if test else "_test",
                                  visible=test)
        self._style(ax, "loss", last, "upper right")

        self.acc_ax = ax = fig.add_subplot(grid[0, 1])
        self.train_acc, = ax.plot([], [], "-o", ms=2.5, color=COLORS[0], label="train sample")
        self.test_acc, = ax.plot([], [], "-o", ms=2.5, color=COLORS[4], label="test" if test else "_test",
                                 visible=test)
        ax.set_ylim(0, 1.02)
        self._style(ax, "accuracy", last, "lower right")

        self.contour = None
        if view.two_d:
            self._boundary_setup(fig.add_subplot(grid[0, 2]))
        ax = fig.add_subplot(grid[1, :])
        ax.axis("off")
        step = 1.0 / (layers + 3)
        self.rows = [ax.text(0, 1.0 - i * step, "", family="monospace", fontsize=9, va="top",
                             transform=ax.transAxes, weight="bold" if i == 0 else "normal")
                     for i in range(layers + 1)]
        ax.text(0, 1.0 - (layers + 1.2) * step, NOTE, fontsize=8, color="#555", va="top",
                transform=ax.transAxes)
        self.dead = ax.text(0, 1.0 - (layers + 1.9) * step, "", fontsize=8, color="#b3261e",
                            va="top", transform=ax.transAxes)

    @staticmethod
    def _style(ax, title, last, where):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step", fontsize=9)
        ax.set_xlim(0, last)
        ax.locator_params(nbins=5)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=8, loc=where)

    def _boundary_setup(self, ax):
        from matplotlib.colors import ListedColormap
        view = self.view
        self.boundary_ax = ax
        x0, x1, y0, y1 = view.bounds
        cols, rows = view.grid
        blank = [[0.5] * cols for _ in range(rows)]
        if view.outputs == 1:
            self.image = ax.imshow(blank, extent=(x0, x1, y0, y1), cmap="RdBu_r", vmin=0, vmax=1,
                                   alpha=0.45, interpolation="bilinear", aspect="auto")
        else:
            k = view.outputs
            self.image = ax.imshow(blank, extent=(x0, x1, y0, y1), cmap=ListedColormap(COLORS[:k]),
                                   vmin=-0.5, vmax=k - 0.5, alpha=0.35, interpolation="nearest",
                                   aspect="auto")
        pts = view.scatter
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], c=[COLORS[p[2] % 10] for p in pts],
                   s=10, edgecolors="k", linewidths=0.3)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("decision boundary (P(class 1) = 0.5)" if view.outputs == 1 else
                     "predicted class", fontsize=10)
        self.xs = [x0 + (x1 - x0) * (c + 0.5) / cols for c in range(cols)]
        self.ys = [y1 - (y1 - y0) * (r + 0.5) / rows for r in range(rows)]

    def png(self, frame, title):
        """The figure for `frame`, as PNG bytes."""
        view = self.view
        self.title.set_text(title)
        steps = sorted(view.curves)
        curves = [view.curves[s] for s in steps]
        losses = view.losses
        every = max(1, len(losses) // 1500)   # thin the batch curve, not the frames
        xs = list(range(1, len(losses) + 1, every))
        self.batch.set_data(xs, [losses[i - 1] for i in xs])
        self.train_loss.set_data(steps, [c[0] for c in curves])
        self.test_loss.set_data(steps, [c[1] if c[1] is not None else math.nan for c in curves])
        self.train_acc.set_data(steps, [c[2] for c in curves])
        self.test_acc.set_data(steps, [c[3] if c[3] is not None else math.nan for c in curves])
        last = max(view.total_steps or 0, len(losses), 1)
        finite = sorted(v for v in losses + [c[0] for c in curves] if v is not None and math.isfinite(v))
        top = finite[int(0.98 * (len(finite) - 1))] * 1.1 if finite else 1.0
        self.loss_ax.set_xlim(0, last)
        self.loss_ax.set_ylim(0, top or 1.0)
        self.acc_ax.set_xlim(0, last)
        if view.two_d:
            self._boundary()
        self._health(frame)
        out = io.BytesIO()
        # fast compression: a tenth of the encoding time for a third more bytes
        self.fig.savefig(out, format="png", pil_kwargs={"compress_level": 1})
        return out.getvalue()

    def _boundary(self):
        view = self.view
        cols, rows = view.grid
        values = view.grid_values()
        image = [values[r * cols:(r + 1) * cols] for r in range(rows)]
        self.image.set_data(image)
        if view.outputs == 1:
            if self.contour is not None:
                self.contour.remove()
            self.contour = None
            if min(values) < 0.5 < max(values):
                self.contour = self.boundary_ax.contour(self.xs, self.ys, image, levels=[0.5],
                                                        colors="k", linewidths=1.2)

    def _health(self, frame):
        rows = [HEADER]
        for layer, (dead, sat, mean, std, gd, ud, flags) in zip(self.view.model.layers, frame["layers"]):
            rows.append([layer.path, layer.activation or "linear",
                         "–" if dead is None else f"{dead}/{layer.nout}",
                         "–" if sat is None else f"{sat:.0%}", f"{mean:.3g}", f"{std:.3g}",
                         _log10(gd), _log10(ud), flags or "ok"])
        widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
        for i, (text, row) in enumerate(zip(self.rows, rows)):
            text.set_text("  ".join(c.rjust(w) if 1 < j < 8 else c.ljust(w)
                                    for j, (c, w) in enumerate(zip(row, widths))))
            text.set_color("#b3261e" if i and frame["layers"][i - 1][6] else "#222")
        dead = frame["dead"]
        self.dead.set_text("dead: " + ", ".join(dead[:4]) + (f" and {len(dead) - 4} more" if len(dead) > 4 else "")
                           if dead else "")
