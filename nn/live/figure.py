"""One frame of the live view as a PNG, drawn with Pillow: loss curves, accuracy, the
decision boundary of 2-D inputs and the layer-health table.

Pillow rather than matplotlib because a frame has to be cheap next to the training it
watches: Pillow imports in about 20 ms where matplotlib took 0.5-0.7 s, and a frame here
takes a few tens of milliseconds, not a tenth of a second or more. The picture is a fixed
layout made for this one figure, not a general plotting library:

- the data inside each panel (curves, markers, the boundary picture and the training
  points) are drawn at twice the size and halved with `Image.reduce(2)`, which antialiases
  them; a panel drawn on its own image also clips its lines for free;
- frames, ticks and text are drawn at the final size, so they stay sharp; text uses the
  scalable font Pillow ships (`ImageFont.load_default(size=...)`), never a system font,
  and the table's columns are aligned by measuring that text;
- the boundary is the model's prediction on the view's small grid (`grid_values()`),
  enlarged bilinearly (one output: P(class 1), white at 0.5, the class colours towards 0
  and 1) or by nearest cell (several outputs: the predicted class), with the P = 0.5 line
  traced where the enlarged picture crosses a half;
- what does not change during a run (panel titles and frames, legends, the table's header
  and note, the training points of the boundary panel) is drawn once, when the `FramePlot`
  is made; the table's columns have fixed widths, so it does not shift between frames.

On moons (2-16-16-1) a frame takes about 28 ms, 13 of them the model's predictions on the
grid; the first one in a process about 60 ms, Pillow's import included.
"""
import io
import math
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ..diagnose import log10_text

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
HEADER = ["layer", "act", "dead", "saturated", "act. mean", "act. std", "log10 grad:data",
          "log10 update:data", "flags"]
NOTE = "log10 update:data near -3 is healthy; below -5 a layer barely learns, above -1 it thrashes"
# The font Pillow ships has no dashes or minus sign: they are drawn as hyphens.
DASHES = str.maketrans("–—−‒", "----")

INK, GREY, RED, BATCH = "#222222", "#555555", "#b3261e", "#bbbbbb"
MARGIN = 12
CELL = 330                    # width of one panel, its tick labels included
LEFT, PLOT_W, PLOT_H = 44, 266, 186   # a panel's plot area, from the panel's left edge
TOP = 64                      # top of the plot areas
ROW = 19                      # line height of the table
SCALE = 2                     # panel data are drawn this many times larger, then reduced
MARKERS = 60                  # a curve with more points than this is drawn without markers


@lru_cache(maxsize=None)
def font(size):
    return ImageFont.load_default(size=size)


def _rgb(color):
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


def _pastel(color, alpha):
    """`color` at opacity `alpha` over white."""
    return tuple(round(255 + (c - 255) * alpha) for c in _rgb(color))


def _finite(v):
    return v is not None and math.isfinite(v)


def ticks(lo, hi, most=6):
    """Round tick values from lo to hi (at most `most`) and their labels."""
    raw = (hi - lo) / (most - 1) or 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    first = math.ceil(lo / step - 1e-9)
    values = [k * step for k in range(first, int(math.floor(hi / step + 1e-9)) + 1)]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9) + (1 if step / power == 2.5 else 0))
    if decimals > 4 or hi >= 1e6:
        return [(v, f"{v:.2g}") for v in values]
    return [(v, f"{v:.{decimals}f}") for v in values]


class FramePlot:
    """Loss curves, accuracy, the boundary (2-D inputs) and the layer-health table of a view.
    `png(frame, title)` draws one frame."""

    def __init__(self, view):
        self.view = view
        self.test = view.X_test is not None
        panels = 3 if view.two_d else 2
        layers = view.model.layers
        self.table_top = TOP + PLOT_H + 46
        text = font(12)
        # Fixed columns, wide enough for their header and any number they show, so the table
        # does not shift from frame to frame; only the last (flags) has no width.
        samples = [[l.path for l in layers], [l.activation or "linear" for l in layers],
                   [f"{l.nout}/{l.nout}" for l in layers], ["100%"], ["-8.88e-88"], ["8.88e+88"],
                   ["-88.88"], ["-88.88"], []]
        self.columns = [max(text.getlength(c) for c in [h, *cells])
                        for h, cells in zip(HEADER, samples)]
        table = sum(self.columns) + 16 * len(HEADER) + text.getlength("dead, saturated")
        width = max(MARGIN + panels * CELL, 2 * MARGIN + table, 2 * MARGIN + text.getlength(NOTE), 720)
        self.size = (int(width), self.table_top + ROW * (len(layers) + 1) + 8 + 2 * 17 + MARGIN)
        self.boxes = [(MARGIN + i * CELL + LEFT, TOP) for i in range(panels)]
        self.base = self._base()
        self.legends = [self._legend(0), self._legend(1)]
        if view.two_d:
            self._boundary_setup()

    def _base(self):
        """What every frame shows the same: panel titles and frames, the table's header
        and the note."""
        image = Image.new("RGB", self.size, "white")
        draw = ImageDraw.Draw(image)
        titles = ["loss", "accuracy"]
        if self.view.two_d:
            titles.append("decision boundary (P(class 1) = 0.5)" if self.view.outputs == 1
                          else "predicted class")
        for i, ((left, top), title) in enumerate(zip(self.boxes, titles)):
            middle = left + PLOT_W / 2
            draw.rectangle((left - 1, top - 1, left + PLOT_W, top + PLOT_H), outline=INK)
            draw.text((middle, top - 7), title, fill=INK, font=font(13), anchor="md")
            if i < 2:
                draw.text((middle, top + PLOT_H + 20), "step", fill=INK, font=font(11), anchor="ma")
        self._row(draw, self.table_top, HEADER, INK, bold=True)
        y = self.table_top + ROW * (len(self.view.model.layers) + 1) + 8
        draw.text((MARGIN, y), NOTE, fill=GREY, font=font(12))
        return image

    # -- one frame --------------------------------------------------------------------------
    def png(self, frame, title):
        """The figure for `frame`, as PNG bytes."""
        view = self.view
        image = self.base.copy()
        draw = ImageDraw.Draw(image)
        self._title(draw, title)
        steps = sorted(view.curves)
        curves = [view.curves[s] for s in steps]
        losses = view.losses
        last = max(view.total_steps or 0, len(losses), 1)
        finite = sorted(v for v in losses + [c[0] for c in curves] if _finite(v))
        top = finite[int(0.98 * (len(finite) - 1))] * 1.1 if finite else 1.0
        if not 0 < top < 1e300:  # losses all 0, a negative custom loss, or an overflow
            top = 1e300 if top > 0 else 1.0

        every = max(1, len(losses) // 1500)   # thin the batch curve, not the frames
        xs = range(1, len(losses) + 1, every)
        loss_lines = [(list(zip(xs, losses[::every])), BATCH, False)]
        if self.test:
            loss_lines.append((list(zip(steps, [c[1] for c in curves])), COLORS[4], True))
        loss_lines.append((list(zip(steps, [c[0] for c in curves])), COLORS[0], True))
        self._panel(image, draw, 0, (0, last, 0, top), loss_lines)
        acc_lines = [(list(zip(steps, [c[3] for c in curves])), COLORS[4], True)] if self.test else []
        acc_lines.append((list(zip(steps, [c[2] for c in curves])), COLORS[0], True))
        self._panel(image, draw, 1, (0, last, 0, 1.02), acc_lines)
        if view.two_d:
            self._boundary(image)
        self._health(draw, frame)
        out = io.BytesIO()
        # level 1: half the time of zlib's default for a fifth more bytes
        image.save(out, format="PNG", compress_level=1)
        return out.getvalue()

    def _title(self, draw, title):
        title = str(title).translate(DASHES)
        width = self.size[0] - 2 * MARGIN
        size = next((s for s in (13, 12, 11) if font(s).getlength(title) <= width), 11)
        draw.text((MARGIN, 12), title, fill=INK, font=font(size))

    # -- the loss and accuracy panels -------------------------------------------------------
    def _panel(self, image, draw, i, limits, lines):
        x0, x1, y0, y1 = limits
        left, top = self.boxes[i]
        w, h = PLOT_W * SCALE, PLOT_H * SCALE
        sx, sy = (w - 1) / (x1 - x0), (h - 1) / (y1 - y0)

        def at(x, y):  # clamped far outside the panel, where Pillow's coordinates overflow
            return (x - x0) * sx, min(max((y1 - y) * sy, -8 * h), 8 * h)

        plot = Image.new("RGB", (w, h), "white")
        pen = ImageDraw.Draw(plot)
        for points, color, markers in lines:
            runs, run = [], []
            for x, y in points:  # nan, inf and None break a line
                if _finite(y):
                    run.append(at(x, y))
                elif run:
                    runs.append(run)
                    run = []
            runs.append(run)
            for run in runs:
                if len(run) > 1:
                    pen.line(run, fill=color, width=3 if markers else 2, joint="curve")
            if markers and sum(map(len, runs)) <= MARKERS:
                r = 2.6 * SCALE
                for run in runs:
                    for x, y in run:
                        pen.ellipse((x - r, y - r, x + r, y + r), fill=color)
        image.paste(plot.reduce(SCALE), (left, top))
        legend = self.legends[i]
        image.paste(legend, (left + PLOT_W - 6 - legend.width,
                             top + 6 if i == 0 else top + PLOT_H - 6 - legend.height))
        self._ticks(draw, left, top, limits)

    @staticmethod
    def _ticks(draw, left, top, limits):
        x0, x1, y0, y1 = limits
        bottom = top + PLOT_H - 1
        small = font(11)
        for v, text in ticks(x0, x1):
            x = round(left + (v - x0) / (x1 - x0) * (PLOT_W - 1))
            draw.line((x, bottom + 1, x, bottom + 4), fill=INK)
            draw.text((x, bottom + 4), text, fill=INK, font=small, anchor="ma")
        for v, text in ticks(y0, y1):
            y = round(bottom - (v - y0) / (y1 - y0) * (PLOT_H - 1))
            draw.line((left - 4, y, left - 1, y), fill=INK)
            draw.text((left - 6, y), text, fill=INK, font=small, anchor="rm")

    def _legend(self, i):
        """The legend of panel i (0: loss, 1: accuracy), as a small picture."""
        entries = [("batch", BATCH, False)] if i == 0 else []
        entries.append(("train sample", COLORS[0], True))
        if self.test:
            entries.append(("test", COLORS[4], True))
        small = font(11)
        size = (int(42 + max(small.getlength(e[0]) for e in entries)), 16 * len(entries) + 7)
        image = Image.new("RGB", size, "white")
        draw = ImageDraw.Draw(image)
        draw.rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), 3, outline="#cccccc")
        for k, (text, color, marker) in enumerate(entries):
            y = 11 + 16 * k
            draw.line((6, y, 28, y), fill=color, width=2 if marker else 1)
            if marker:
                draw.ellipse((14, y - 3, 20, y + 3), fill=color)
            draw.text((34, y), text, fill=INK, font=small, anchor="lm")
        return image
    # -- the decision boundary --------------------------------------------------------------
    def _boundary_setup(self):
        view = self.view
        w, h = PLOT_W * SCALE, PLOT_H * SCALE
        x0, x1, y0, y1 = view.bounds
        # the training points, drawn once: a coloured dot with a dark edge
        self.dots = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        pen = ImageDraw.Draw(self.dots)
        r = 2.1 * SCALE
        for x, y, label in view.scatter:
            px, py = (x - x0) / (x1 - x0) * w, (y1 - y) / (y1 - y0) * h
            pen.ellipse((px - r, py - r, px + r, py + r), fill=COLORS[label % 10], outline="#111111",
                        width=1)
        if view.outputs == 1:
            # P in 0..255 -> white at a half, deepening to the class colours at 0 and 1
            shades = [_pastel(COLORS[0] if v < 128 else COLORS[1], 0.5 * abs(v - 127.5) / 127.5)
                      for v in range(256)]
            self.lut = [s[c] for c in range(3) for s in shades]
        else:
            self.palette = [c for k in range(256) for c in _pastel(COLORS[k % 10], 0.35)]

    def _boundary(self, image):
        view = self.view
        cols, rows = view.grid
        w, h = PLOT_W * SCALE, PLOT_H * SCALE
        values = view.grid_values()
        if view.outputs == 1:
            cells = bytes(min(255, max(0, round(p * 255))) if p == p else 128 for p in values)
            p = Image.frombytes("L", (cols, rows), cells).resize((w, h), Image.BILINEAR)
            plot = p.convert("RGB").point(self.lut)
            # P = 0.5: the pixels on either side of where the enlarged P crosses a half, a
            # line of 2 px here and 1 px in the picture (a max filter to widen one side's
            # edge instead took five times as long)
            for side in (p.point([0] * 128 + [255] * 128), p.point([255] * 128 + [0] * 128)):
                edge = side.filter(ImageFilter.FIND_EDGES)
                ImageDraw.Draw(edge).rectangle((0, 0, w - 1, h - 1), outline=0)  # not the border
                plot.paste((17, 17, 17), mask=edge)
        else:
            cells = Image.frombytes("P", (cols, rows), bytes(min(c, 255) for c in values))
            cells.putpalette(self.palette)
            plot = cells.resize((w, h), Image.NEAREST).convert("RGB")
        plot.paste(self.dots, mask=self.dots)
        left, top = self.boxes[2]
        image.paste(plot.reduce(SCALE), (left, top))

    # -- the layer-health table -------------------------------------------------------------
    def _health(self, draw, frame):
        y = self.table_top
        for layer, (dead, sat, mean, std, gd, ud, flags) in zip(self.view.model.layers, frame["layers"]):
            y += ROW
            row = [layer.path, layer.activation or "linear",
                   "-" if dead is None else f"{dead}/{layer.nout}",
                   "-" if sat is None else f"{sat:.0%}", f"{mean:.3g}", f"{std:.3g}",
                   log10_text(gd), log10_text(ud), flags or "ok"]
            self._row(draw, y, row, RED if flags else INK)
        dead = frame["dead"]
        if dead:
            more = f" and {len(dead) - 4} more" if len(dead) > 4 else ""
            draw.text((MARGIN, y + ROW + 8 + 17), "dead: " + ", ".join(dead[:4]) + more, fill=RED,
                      font=font(12))

    def _row(self, draw, y, cells, color, bold=False):
        x = MARGIN
        for j, (cell, width) in enumerate(zip(cells, self.columns + [0])):
            right = 1 < j < 8  # numbers are right-aligned
            at, anchor = ((x + width, y), "ra") if right else ((x, y), "la")
            cell = str(cell).translate(DASHES)
            draw.text(at, cell, fill=color, font=font(12), anchor=anchor)
            if bold:  # the font has no bold face: the same text again, a pixel to the right
                draw.text((at[0] + 1, y), cell, fill=color, font=font(12), anchor=anchor)
            x += width + 16
