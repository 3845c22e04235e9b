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
import random
import time

from autograd import no_grad

from .data import minibatches
from .losses import binary_cross_entropy, cross_entropy
from .optim import SGD, Adam, Optimizer


def predict(out):
    """The class a model output stands for: argmax of a list of logits, or logit > 0."""
    if isinstance(out, list):
        best = 0
        for i in range(1, len(out)):
            if out[i].data > out[best].data:
                best = i
        return best
    return 1 if out.data > 0 else 0


def loss_for(out, target):
    """The default loss for one sample: cross-entropy for a list of logits, binary
    cross-entropy for a single logit."""
    if isinstance(out, list):
        return cross_entropy(out, target)
    return binary_cross_entropy(out, target)


def accuracy(model, X, y):
    """Fraction of samples classified correctly, computed without recording a graph."""
    if not len(X):
        return float("nan")
    with no_grad():
        return sum(predict(model(x)) == t for x, t in zip(X, y)) / len(X)


def make_optimizer(name, params, lr, momentum=0.0, weight_decay=0.0):
    if name == "sgd":
        return SGD(params, lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return Adam(params, lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose 'sgd' or 'adam'")


def fit(model, X, y, X_test=None, y_test=None, *, epochs=10, batch_size=32, lr=0.01,
        optimizer="sgd", momentum=0.0, weight_decay=0.0, lr_decay=None, loss=loss_for,
        seed=0, progress=True, log=print):
    """Train `model` on (X, y); return a history, one dict per epoch with keys
    epoch, loss (mean training loss), train_accuracy, test_accuracy (None without a test
    set) and seconds. `optimizer` is "sgd", "adam" or an `Optimizer`; `lr_decay="linear"`
    lowers the learning rate linearly from lr to 0 over the run (per batch), which settles
    the final weights; `loss(out, target)` is one sample's loss; `log` gets one summary line
    per epoch (None for silence)."""
    if lr_decay not in (None, "linear"):
        raise ValueError(f"fit: lr_decay must be None or 'linear', got {lr_decay!r}")
    from tqdm.auto import tqdm

    if len(X) != len(y) or not len(X):
        raise ValueError(f"fit: need as many labels as samples (and at least one); got "
                         f"{len(X)} samples, {len(y)} labels")
    opt = optimizer if isinstance(optimizer, Optimizer) else \
        make_optimizer(optimizer, model.parameters(), lr, momentum, weight_decay)
    rng = random.Random(seed)
    history = []
    n_batches = -(-len(X) // batch_size)
    base_lr, steps, step = opt.lr, epochs * n_batches, 0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        total_loss, correct = 0.0, 0
        bar = tqdm(minibatches(X, y, batch_size, seed=rng), total=n_batches,
                   desc=f"epoch {epoch}/{epochs}", unit="batch", disable=not progress,
                   leave=False, dynamic_ncols=True)
        for i, (xb, yb) in enumerate(bar):
            batch = None
            for x, t in zip(xb, yb):
                out = model(x)
                correct += predict(out) == t
                l = loss(out, t)
                batch = l if batch is None else batch + l
            total_loss += batch.data
            mean = batch / len(xb) if len(xb) > 1 else batch
            opt.zero_grad()
            mean.backward()
            if lr_decay == "linear":
                opt.lr = base_lr * (1.0 - step / steps)
            step += 1
            opt.step()
            if progress and i % 20 == 0:
                bar.set_postfix(loss=f"{mean.data:.4f}", refresh=False)
        bar.close()
        record = {"epoch": epoch, "loss": total_loss / len(X), "train_accuracy": correct / len(X),
                  "test_accuracy": accuracy(model, X_test, y_test) if X_test is not None else None,
                  "seconds": time.perf_counter() - start}
        history.append(record)
        if log is not None:
            test = f"  test acc {record['test_accuracy']:.4f}" if X_test is not None else ""
            log(f"epoch {epoch}/{epochs}  loss {record['loss']:.4f}  "
                f"train acc {record['train_accuracy']:.4f}{test}  ({record['seconds']:.1f}s)")
    return history
