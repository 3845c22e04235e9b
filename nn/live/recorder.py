"""Frames of a training run: what the live view shows and the replay page plays back.

A `Recorder` is driven by four callbacks, so any loop can use it (`fit(live=...)` calls them):

    rec = Recorder("run.html")
    rec.on_start(model, X, y, X_test, y_test, total_steps=300)
    for step in range(1, 301):
        ...                                   # forward, backward, optimiser step
        rec.on_step(step, loss.data)          # after the optimiser step, grads still in place
    rec.on_epoch({"epoch": 1, "loss": ...})   # fit's history rows, as they come
    rec.on_end()                              # the last frame; writes run.html

A frame is taken every `k` steps (plus one before the first step and one after the last):
`k` is chosen from `total_steps` so a run has about `frames` of them; without
`total_steps`, every step is recorded and every other frame dropped (k doubled) whenever
there are twice too many. Each frame holds the step's training loss exactly as given, the
loss and accuracy on a fixed sample of training and test data, `diagnose`'s per-layer
figures, and for 2-D inputs the model's weights and biases (float64, base64), from which
the replay page computes the decision boundary itself, at the resolution of its canvas.
Evaluating a 32×24 grid here took 13 ms a frame on moons, as long as 3 training steps; the
page evaluates 120×90 cells in about 20 ms when a frame is shown, and the numbers cost
3.6 kB a frame.
"""
import base64
import math
import struct
import time

from autograd import Value, no_grad

from ..diagnose import diagnose, float_activation, float_forward, float_layers
from ..train import loss_for, predict_floats


def _packed(layers):
    """Every layer's weights (row by row) then biases, as little-endian float64 in base64:
    the numbers the replay page's forward pass runs on, exactly."""
    numbers = [x for W, B, _ in layers for x in [*(w for ws in W for w in ws), *B]]
    return base64.b64encode(struct.pack(f"<{len(numbers)}d", *numbers)).decode("ascii")


class Recorder:
    """Records frames of a run; `path` (a file name for the replay page) or None.

    `frames`: about how many frames a run with known `total_steps` records (≥ 100 for
    any run of ≥ 150 steps). `every`: record every `every` steps instead. `grid`: cells of
    the live view's boundary picture (columns, rows). `sample`: at most this many training
    and test samples are evaluated per frame (the first ones, always the same): 64 keeps a
    moons frame near 3 ms, a sixth of the 7 training steps between frames.
    """

    def __init__(self, path=None, *, frames=100, every=None, grid=(32, 24), sample=64, loss=None):
        if path is not None:
            from autograd.files import check_writable
            check_writable(path)  # fail before training, not after it
        if every is not None and (type(every) is not int or every < 1):
            raise ValueError(f"live: every must be a positive int, got {every!r}")
        if type(frames) is not int or frames < 2:
            raise ValueError(f"live: frames must be an int >= 2, got {frames!r}")
        self.path, self.target, self.every, self.grid, self.sample = path, frames, every, grid, sample
        self.default_loss = loss  # one sample's loss(out, target), as fit's `loss`
        self.frames, self.losses, self.epochs = [], [], []
        self.seconds = 0.0  # time spent in the recorder itself, to report its overhead

    # -- the callbacks ----------------------------------------------------------------------
    def on_start(self, model, X, y, X_test=None, y_test=None, *, total_steps=None, loss=None,
                 title=None):
        start = time.perf_counter()
        if not hasattr(model, "layers") or not hasattr(model, "named_parameters"):
            raise TypeError(f"live: model must be an nn.MLP, got {type(model).__name__}")
        if not len(X) or len(X) != len(y):
            raise ValueError(f"live: need as many labels as samples; got {len(X)} samples, "
                             f"{len(y)} labels")
        # the training loop's default, cross-entropy or BCE, unless fit's or the caller's
        self.model, self.loss = model, loss or self.default_loss or loss_for
        self.named = model.named_parameters()
        self.X, self.y = X[:self.sample], y[:self.sample]
        has_test = X_test is not None and y_test is not None and len(X_test)
        self.X_test = X_test[:self.sample] if has_test else None
        self.y_test = y_test[:self.sample] if has_test else None
        self.total_steps = total_steps
        self.k = self.every or (max(1, total_steps // self.target) if total_steps else 1)
        self.title = title or f"{'-'.join(str(n) for n in [model.layers[0].nin] + [l.nout for l in model.layers])} " \
                              f"{model.layers[0].activation or 'linear'} MLP"
        self.frames, self.losses, self.epochs = [], [], []
        self.previous = None
        self.two_d = len(X[0]) == 2
        self.outputs = model.layers[-1].nout
        if self.two_d:
            self._grid_setup(X, y)
        self.frames.append(self.frame(0))
        self.seconds = time.perf_counter() - start

    def on_step(self, step, loss):
        """Call after each optimiser step with the step count (1, 2, ...) and the loss of
        the batch that step learned from."""
        start = time.perf_counter()
        self.losses.append(float(loss))
        recording = self.path is not None
        if recording and step % self.k == 0:
            self.frames.append(self.frame(step))
            self._thin()
        if (recording and (step + 1) % self.k == 0) or step + 1 == self.total_steps:
            self.remember()  # the next frame measures that one step's update
        self.seconds += time.perf_counter() - start

    def on_epoch(self, row):
        self.epochs.append(dict(row))

    def on_end(self):
        start = time.perf_counter()
        step = len(self.losses)
        if self.path is not None and self.frames[-1]["step"] != step:
            try:
                self.frames.append(self.frame(step))
            except ArithmeticError:  # a diverged run: its last finite frame ends the replay
                pass
        if self.frames and self.frames[-1]["step"] == step:  # the run is over: all epochs done
            self.frames[-1]["epochs_done"] = len(self.epochs)
        if self.path is not None:
            from .replay import write_replay
            write_replay(self.path, self)
        self.seconds += time.perf_counter() - start

    # -- frames -----------------------------------------------------------------------------
    def remember(self):
        """Keep the parameters' numbers now, so the next frame measures one step's update."""
        self.previous = {name: p.data for name, p in self.named}

    def _thin(self):
        if self.total_steps is None and self.every is None and len(self.frames) > 2 * self.target:
            self.k *= 2
            self.frames = [f for f in self.frames if f["step"] % self.k == 0]

    def frame(self, step):
        """Everything one frame shows, measured now (under no_grad; grads untouched)."""
        model = self.model
        layers = float_layers(model)
        report = diagnose(model, self.X, previous=self.previous)
        self.previous = None
        train_loss, train_acc = self._score(report.outputs, self.y)
        test_loss = test_acc = None
        if self.X_test is not None:
            outs = [float_forward(layers, x) for x in self.X_test]
            test_loss, test_acc = self._score([o[0] if len(o) == 1 else o for o in outs], self.y_test)
        return {
            "step": step,
            "epochs_done": len(self.epochs),
            "loss": self.losses[step - 1] if step else None,
            "train_loss": train_loss, "train_accuracy": train_acc,
            "test_loss": test_loss, "test_accuracy": test_acc,
            "layers": [[h.dead, h.saturated, h.mean, h.std, h.grad_data, h.update_data,
                        ", ".join(h.flags)] for h in report.layers],
            "dead": report.dead,
            "saturated_units": report.saturated_units,
            "weights": _packed(layers) if self.two_d else None,
        }

    def _score(self, outputs, targets):
        with no_grad():
            losses = [self.loss([Value(v) for v in o] if isinstance(o, list) else Value(o), t).data
                      for o, t in zip(outputs, targets)]
        correct = sum(predict_floats(o) == t for o, t in zip(outputs, targets))
        return math.fsum(losses) / len(losses), correct / len(targets)

    # -- the decision boundary --------------------------------------------------------------
    def _grid_setup(self, X, y):
        xs, ys = [p[0] for p in X], [p[1] for p in X]
        pad_x, pad_y = 0.1 * (max(xs) - min(xs) or 1.0), 0.1 * (max(ys) - min(ys) or 1.0)
        self.bounds = (min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y)
        cols, rows = self.grid
        x0, x1, y0, y1 = self.bounds
        # Cell centres, row 0 at the top (largest x2), as an image is stored.
        self.cells = [[x0 + (x1 - x0) * (c + 0.5) / cols, y1 - (y1 - y0) * (r + 0.5) / rows]
                      for r in range(rows) for c in range(cols)]
        step = max(1, len(X) // 500)
        self.scatter = [[round(p[0], 4), round(p[1], 4), t] for p, t in zip(X[::step], y[::step])]

    def grid_values(self):
        """The model's prediction on each grid cell: P(class 1) for one output, else the
        class index."""
        layers = float_layers(self.model)
        outs = [float_forward(layers, c) for c in self.cells]
        if self.outputs == 1:
            sigmoid = float_activation("sigmoid")
            return [sigmoid(o[0]) for o in outs]
        return [predict_floats(o) for o in outs]
