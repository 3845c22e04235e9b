"""The training loop: minibatches, a loss, backward, an optimiser step, and a progress bar.

    >>> from nn import MLP; from nn.data import load_digits, train_test_split
    >>> (Xtr, ytr), (Xte, yte) = train_test_split(*load_digits(), seed=0)
    >>> model = MLP(64, [16, 16, 10], seed=0)
    >>> history = fit(model, Xtr, ytr, Xte, yte, epochs=2, optimizer="adam", lr=0.01,
    ...               progress=False, log=None)
    >>> history[-1]["test_accuracy"] > 0.8
    True

A model with one output is a binary classifier: binary cross-entropy on its logit, class 1
when the logit is > 0, labels 0/1. A model with k > 1 outputs is a k-class classifier:
cross-entropy on its logits, the class is the argmax, labels 0..k-1.

Each minibatch is one graph: the mean of its per-sample losses, one `backward()`, one step
(per-sample SGD is `batch_size=1`). The train accuracy reported per epoch counts the
predictions made by those training forward passes, as the model learns during the epoch
(the figure Keras and most PyTorch loops print); test accuracy is measured after the
epoch under `no_grad`.
"""
import math
import random
import sys
import time

from autograd import no_grad

from .data import minibatches
from .losses import binary_cross_entropy, cross_entropy, sum_and_mean
from .optim import Optimizer, hyper_parameter, make_optimizer

CALLBACKS = ("on_start", "on_step", "on_epoch", "on_end")


class Diverged(ArithmeticError):
    """Training made the loss or the parameters nan or infinite; `.epoch` and `.step` (the
    step within the epoch, from 1) say where."""

    def __init__(self, epoch, step, steps, what, lr):
        self.epoch, self.step = epoch, step
        super().__init__(f"training diverged in epoch {epoch}, step {step} of {steps}: {what}; "
                         f"try a smaller learning rate than {lr:g}")


def predict(out):
    """The class a model output stands for: argmax of a list of logits, or logit > 0."""
    if isinstance(out, list):
        best = 0
        for i in range(1, len(out)):
            if out[i].data > out[best].data:
                best = i
        return best
    return 1 if out.data > 0 else 0


def predict_floats(out):
    """`predict` for an output given as floats (a list of them, or one): the first largest."""
    if isinstance(out, list):
        return max(range(len(out)), key=out.__getitem__)
    return 1 if out > 0 else 0


def progress_bar():
    """tqdm's notebook bar where ipywidgets can draw it, else its text bar. (`tqdm.auto` in a
    notebook without ipywidgets warns, in the cell's output, and then falls back to the text
    bar anyway.)"""
    import importlib.util
    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm


def epoch_line(record, epochs):
    """The line a training loop logs after an epoch, from its history record."""
    test = f"  test acc {record['test_accuracy']:.4f}" if record["test_accuracy"] is not None else ""
    return (f"epoch {record['epoch']}/{epochs}  loss {record['loss']:.4f}  "
            f"train acc {record['train_accuracy']:.4f}{test}  ({record['seconds']:.1f}s)")


def loss_for(out, target):
    """The default loss for one sample: cross-entropy for a list of logits, binary
    cross-entropy for a single logit."""
    if isinstance(out, list):
        return cross_entropy(out, target)
    return binary_cross_entropy(out, target)


def accuracy(model, X, y):
    """Fraction of samples classified correctly, computed without recording a graph."""
    _check_pairs("accuracy", X, y, "samples", "labels")
    if not len(X):
        return float("nan")
    with no_grad():
        return sum(predict(model(x)) == t for x, t in zip(X, y)) / len(X)


def fit(model, X, y, X_test=None, y_test=None, *, epochs=10, batch_size=32, lr=0.01,
        optimizer="sgd", momentum=0.0, weight_decay=0.0, lr_decay=None, loss=loss_for,
        seed=0, progress=True, log=print, callbacks=(), live=False, traced=False):
    """Train `model` on (X, y); return a history, one dict per epoch with keys
    epoch, loss (mean training loss), train_accuracy, test_accuracy (None without a test
    set) and seconds.

    `optimizer` is a name in `nn.optim.OPTIMIZERS` ("sgd", "adam") or an `Optimizer`;
    `lr_decay="linear"` lowers the learning rate linearly from lr to 0 over the run (per
    batch), which settles the final weights; `loss(out, target)` is one sample's loss; `log`
    gets one summary line per epoch (None for silence).

    `callbacks`: objects with any of the methods `on_start(model, X, y, X_test, y_test,
    total_steps=...)`, `on_step(step, loss)` (after each optimiser step; `step` counts from
    1 over the whole run, `loss` is the batch's mean loss), `on_epoch(record)` (each history
    row as it is made) and `on_end()` (after the last epoch).

    `live=True` shows a view of the training in Jupyter, updated in place (loss and
    accuracy curves, the decision boundary of 2-D data, layer health, one sample's graph);
    `live="run.html"` also writes a standalone page replaying the run (`nn.live`).
    `traced=True` replays each minibatch's forward and backward from compiled traces of the
    step (`autograd.trace`, one per class index): the same numbers, faster.

    Every argument is checked before training starts (counts are positive ints,
    hyper-parameters finite, test set and labels of equal length). A loss or parameter
    that becomes nan or infinite raises `Diverged`, naming the epoch and step; Ctrl-C
    (KeyboardInterrupt) leaves the model as the last step made it.
    """
    _check_count("epochs", epochs)
    _check_count("batch_size", batch_size)
    if lr_decay not in (None, "linear"):
        raise ValueError(f"fit: lr_decay must be None or 'linear', got {lr_decay!r}")
    _check_pairs("fit", X, y, "samples", "labels")
    if not len(X):
        raise ValueError("fit: the training set is empty")
    if (X_test is None) != (y_test is None):
        raise ValueError("fit: give both X_test and y_test, or neither")
    if X_test is not None:
        _check_pairs("fit", X_test, y_test, "test samples", "test labels")
    if not callable(loss):
        raise TypeError(f"fit: loss must be a function (out, target) -> Value, got {loss!r}")
    if log is not None and not callable(log):
        raise TypeError(f"fit: log must be a function of one line, or None; got {log!r}")
    if isinstance(optimizer, Optimizer):
        opt = optimizer
    else:
        for name, v in [("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)]:
            hyper_parameter("fit", name, v)
        opt = make_optimizer(optimizer, model.parameters(), lr, momentum, weight_decay)
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"fit: callbacks must be a list of objects with any of "
                        f"{', '.join(CALLBACKS)}; got {type(callbacks).__name__}")
    if traced not in (True, False):
        raise TypeError(f"fit: traced must be True or False, got {traced!r}")
    from .live import for_fit
    view = for_fit(live, loss)
    if view is not None:
        callbacks = [*callbacks, view]
    hooks = {name: [getattr(c, name) for c in callbacks if callable(getattr(c, name, None))]
             for name in CALLBACKS}
    batches = None
    if traced:
        from .traced import TracedBatches  # imports this module: imported here, not at the top
        batches = TracedBatches(model, loss)
    tqdm = progress_bar()

    rng = random.Random(seed) if not isinstance(seed, random.Random) else seed
    history = []
    n_batches = -(-len(X) // batch_size)
    base_lr, steps, step = opt.lr, epochs * n_batches, 0
    for hook in hooks["on_start"]:
        hook(model, X, y, X_test, y_test, total_steps=steps)
    # on_end also runs when training stops early (diverged, Ctrl-C), so a live view still
    # writes its replay page: that is the run most worth replaying. The error that stopped
    # training stays the one reported.
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            total_loss, correct = 0.0, 0
            bar = tqdm(minibatches(X, y, batch_size, seed=rng), total=n_batches,
                       desc=f"epoch {epoch}/{epochs}", unit="batch", disable=not progress,
                       leave=False, dynamic_ncols=True)
            try:
                for i, (xb, yb) in enumerate(bar):
                    try:
                        if batches is not None:  # grads set by the traces, as backward() sets them
                            batch_loss, mean_loss, right = batches(xb, yb, opt)
                            correct += right
                        else:
                            losses = []
                            for x, t in zip(xb, yb):
                                out = model(x)
                                correct += predict(out) == t
                                losses.append(loss(out, t))
                            batch, mean = sum_and_mean(losses)
                            batch_loss, mean_loss = batch.data, mean.data
                    except ArithmeticError as e:
                        # nan/inf weights make the loss's log or exp fail; anything else is a bug
                        # to report as it is
                        if all(map(math.isfinite, model.state_dict().values())):
                            raise
                        raise Diverged(epoch, i + 1, n_batches, "the parameters are no longer finite",
                                       base_lr) from e
                    if not math.isfinite(batch_loss):
                        raise Diverged(epoch, i + 1, n_batches, f"the loss is {batch_loss}", base_lr)
                    total_loss += batch_loss
                    if batches is None:
                        opt.zero_grad()
                        mean.backward()
                    if lr_decay == "linear":
                        opt.lr = base_lr * (1.0 - step / steps)
                    step += 1
                    opt.step()
                    for hook in hooks["on_step"]:
                        hook(step, mean_loss)
                    if progress and i % 20 == 0:
                        bar.set_postfix(loss=f"{mean_loss:.4f}", refresh=False)
            finally:
                bar.close()
            record = {"epoch": epoch, "loss": total_loss / len(X), "train_accuracy": correct / len(X),
                      "test_accuracy": accuracy(model, X_test, y_test) if X_test is not None else None,
                      "seconds": time.perf_counter() - start}
            history.append(record)
            for hook in hooks["on_epoch"]:  # before the line: a printed epoch is a kept one
                hook(record)
            if log is not None:
                log(epoch_line(record, epochs))
    except BaseException:
        for hook in hooks["on_end"]:
            try:
                hook()
            except Exception as e:
                print(f"fit: on_end of a stopped run failed too: {e}", file=sys.stderr)
        raise
    for hook in hooks["on_end"]:
        hook()
    return history


def _check_count(name, n):
    if type(n) is not int or n < 1:
        raise ValueError(f"fit: {name} must be a positive int, got {n!r}")


def _check_pairs(who, X, y, xs, ys):
    try:
        n, m = len(X), len(y)
    except TypeError:
        raise TypeError(f"{who}: {xs} and {ys} must be sequences, got {type(X).__name__} and "
                        f"{type(y).__name__}") from None
    if n != m:
        raise ValueError(f"{who}: {n} {xs} but {m} {ys}; they must pair up one to one")
