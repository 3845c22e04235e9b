"""The live training view: one Jupyter output, redrawn in place while a model trains.

    view = LiveView()                   # or LiveView("run.html") to also write a replay page
    view.on_start(model, X, y, X_test, y_test, total_steps=...)
    ... view.on_step(step, loss) after each optimiser step ...
    view.on_end()

Why IPython display handles (`display(..., display_id=True)` then `handle.update(...)`)
rather than widgets: they need no front-end extension, so the same view updates in place in
JupyterLab, the classic Notebook and VS Code alike; and every update replaces the output
stored in the notebook, so a notebook saved after training keeps the last frame, which a
reopened (even untrusted) notebook still shows. Each frame is a PNG drawn with Pillow, with the status line as text beside it: loss curves, accuracy, the
decision boundary for 2-D inputs, a table of each layer's health (`nn.diagnose`), and the
graph of one sample's loss with its current data and grads (`autograd.draw`).

Drawing a frame takes a while (about 0.08 s, figure and graph), so frames are rate-limited: at
most `rate` per second (2), and only while the view's drawing time, counting the next frame
and the final one, stays within `budget` (20 %) of the time spent training so far. A short
run may so get only a few frames; the last one, after training, is always drawn.
"""
import base64
import html
import sys
import time

from .assets import fill
from .recorder import Recorder


def in_notebook():
    """True inside a Jupyter kernel (JupyterLab, Notebook, VS Code), not a terminal."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _fmt(x, spec=".4g"):
    return "–" if x is None else format(x, spec)


class LiveView(Recorder):
    """A Recorder that also shows itself in Jupyter. `path`: also write a replay page.
    `rate`: at most this many frames per second; `budget`: the most drawing may take, as a
    share of the training time; `show`: display (default: only inside a
    Jupyter kernel); `graph`: draw the loss graph of training sample `sample_index`."""

    def __init__(self, path=None, *, rate=2.0, budget=0.2, show=None, graph=True,
                 sample_index=0, **kw):
        super().__init__(path, **kw)
        if not rate > 0 or not budget > 0:
            raise ValueError(f"live: rate and budget must be > 0, got {rate!r}, {budget!r}")
        self.rate, self.budget, self.graph, self.sample_index = rate, budget, graph, sample_index
        self.show = in_notebook() if show is None else bool(show)
        self.shown = 0          # frames displayed so far: the counter in the status line
        self.handle = None
        self.curves = {}        # step -> (train loss, test loss, train acc, test acc)
        self.draw_seconds = 0.0
        self.frame_cost = None  # seconds the last frame took to draw

    def on_start(self, model, X, y, X_test=None, y_test=None, **kw):
        self.started = time.perf_counter()
        self.draw_seconds = 0.0
        super().on_start(model, X, y, X_test, y_test, **kw)
        self.graph_sample = (X[self.sample_index], y[self.sample_index])
        self.pending = False
        self.plot = None        # the figure, made at the first frame, reused after
        self.curves = {}
        self.shown = 0
        self.handle = None
        if self.show:  # at once, so the view is there; its first picture comes within 1 / rate s
            from IPython.display import display
            text = f"live view: frame 0 · starting: {self.title}, {len(X)} samples"
            self.handle = display({"text/plain": text, "text/html": html.escape(text)},
                                  raw=True, display_id=True)
            self.next_time = time.perf_counter() + 1.0 / self.rate

    def on_step(self, step, loss):
        super().on_step(step, loss)
        if not self.show:
            return
        if self.pending:               # parameters were kept one step ago: draw this step
            self.pending = False
            self._display(step)
        elif self.due():
            self.pending = True
            self.remember()

    def on_end(self):
        super().on_end()
        if self.show:
            self._display(len(self.losses), final=True)

    # -- drawing ----------------------------------------------------------------------------
    def status(self, frame, final=False):
        total = f"/{self.total_steps}" if self.total_steps else ""
        parts = [f"live view: frame {self.shown}", f"step {frame['step']}{total}"]
        if self.epochs:  # a loop that reports epochs (fit does)
            parts.append(f"epoch {min(frame['epochs_done'] + (0 if final else 1), len(self.epochs) + 1)}")
        if frame["loss"] is not None:
            parts.append(f"loss {frame['loss']:.4g}")
        parts.append(f"train acc {_fmt(frame['train_accuracy'], '.1%')}")
        if frame["test_accuracy"] is not None:
            parts.append(f"test acc {frame['test_accuracy']:.1%}")
        if frame["dead"]:
            parts.append(f"{len(frame['dead'])} dead")
        if final:
            parts.append("done")
        return " · ".join(parts)

    def bundle(self, frame, final=False):
        """The display data of a frame: the figure as PNG; HTML with the status line, the
        figure and the sample's graph (a second PNG, at a size where its numbers can be
        read); and the status line as plain text."""
        from .figure import FramePlot
        text = self.status(frame, final)
        if self.plot is None:
            self.plot = FramePlot(self)
        png = base64.b64encode(self.plot.png(frame, text)).decode("ascii")
        data = {"text/plain": text, "image/png": png}
        graph = base64.b64encode(self.sample_graph(frame)).decode("ascii") if self.graph else ""
        data["text/html"] = fill("live.html", status=html.escape(text), png=png, graph=graph,
                                 step=f"step {frame['step']}", open="open" if graph else "hidden")
        return data

    def _display(self, step, final=False):
        """Show the frame of `step` (the recorded one, if there is one); its measuring,
        drawing and sending all count as the view's time."""
        start = time.perf_counter()
        from IPython.display import display
        recorded = self.frames and self.frames[-1]["step"] == step
        frame = self.frames[-1] if recorded else self.frame(step)
        for f in self.frames + [frame]:  # recorded frames too, when there is a replay page
            self.curves[f["step"]] = (f["train_loss"], f["test_loss"], f["train_accuracy"],
                                      f["test_accuracy"])
        self.shown += 1
        data = self.bundle(frame, final)
        if self.handle is None:
            self.handle = display(data, raw=True, display_id=True)
        else:
            self.handle.update(data, raw=True)
        cost = time.perf_counter() - start
        self.draw_seconds += cost
        self.seconds += cost
        self.frame_cost = cost
        self.next_time = time.perf_counter() + 1.0 / self.rate

    def due(self):
        """Time for a frame: not sooner than 1 / rate after the last, and only if this one
        and the final one keep drawing within the budget of the training time so far."""
        now = time.perf_counter()
        if now < self.next_time:
            return False
        training = now - self.started - self.seconds
        # Before any frame is timed: a frame takes about 0.1 s (figure and graph), and the
        # first one in a process also imports Pillow's drawing and PNG parts (0.05 s more).
        cold = 0.05 if "PIL.ImageDraw" not in sys.modules else 0.0
        this, last = (self.frame_cost, self.frame_cost) if self.frame_cost else (0.1 + cold, 0.1)
        return self.draw_seconds + this + last <= self.budget * training

    def sample_graph(self, frame):
        """PNG bytes of the graph of one training sample's loss, with its data and grads now.
        The parameters' grads are put back afterwards: the training loop's are untouched."""
        from autograd import draw
        params = self.model.parameters()
        kept = [p.grad for p in params]
        try:
            for p in params:
                p.grad = 0.0
            x, t = self.graph_sample
            loss = self.loss(self.model(x), t)
            loss.label = "loss"
            loss.backward()
            graph = draw(loss, max_nodes=60, dead=set(frame["dead"]),
                         saturated=set(frame["saturated_units"]))
            graph.graph_attr["dpi"] = "60"  # small, but every number stays legible
            return graph.pipe(format="png")
        finally:
            for p, g in zip(params, kept):
                p.grad = g
