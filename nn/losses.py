"""Losses, softmax and log-softmax, built from engine ops (no hand-written derivatives).

    >>> from nn import MLP; model = MLP(4, [8, 3], seed=0)
    >>> loss = cross_entropy(model([0.5, -1.0, 0.25, 2.0]), 2); loss.backward()

Inputs may be Values or plain numbers (numbers become constant Values). Batches: every loss
also takes a list of samples (a list of predictions and a list of targets; for
`cross_entropy` a list of logit lists) and returns the mean of the per-sample losses, as
PyTorch's default `reduction="mean"` does.

Stability: softmax and log-softmax subtract max(z) first. The max is a constant of the graph
(`shift`: a leaf no gradient flows into), which is exact, not an approximation:
log-softmax(z - c) = log-softmax(z) for any c, so the gradient through the shift is zero
anyway. It is made by `autograd.trace.stop_gradient`, so a traced step recomputes it from
the logits at every replay instead of keeping the number it had while tracing. Binary
cross-entropy is written softplus(z) - t·z, finite for any logit. All are finite for
logits like [1000, -1000, 0].
"""
from numbers import Integral, Real

from autograd import Value
from autograd.trace import stop_gradient


def _value(x, what):
    if isinstance(x, Value):
        return x
    if type(x) is bool or not isinstance(x, Real):
        raise TypeError(f"{what} must be a Value or a real number, got {type(x).__name__}: {x!r}")
    return Value(x)


def _values(xs, what):
    if isinstance(xs, Value) or not hasattr(xs, "__len__") or len(xs) == 0:
        raise ValueError(f"{what} must be a non-empty list of Values or numbers, got {xs!r}")
    return [_value(x, what) for x in xs]


def _is_batch(pred):
    return isinstance(pred, (list, tuple)) and len(pred) > 0 and isinstance(pred[0], (list, tuple))


def sum_and_mean(losses):
    """(sum, mean) of losses, Values or floats: added left to right, in order, then divided
    by their number (one loss is its own mean). The minibatch loss `fit` differentiates, and
    the graph the traced training loop reproduces."""
    total = losses[0]
    for l in losses[1:]:
        total = total + l
    return total, total / len(losses) if len(losses) > 1 else total


def _mean(losses):
    return sum_and_mean(losses)[1]


def _batch(fn, pred, target, what):
    if not isinstance(target, (list, tuple)) or len(target) != len(pred):
        n = len(target) if isinstance(target, (list, tuple)) else type(target).__name__
        raise ValueError(f"{what}: {len(pred)} predictions but {n} targets")
    return _mean([fn(p, t) for p, t in zip(pred, target)])


def shift(zs):
    """max(z) as a leaf Value with no gradient: the constant a stable softmax subtracts.

        >>> zs = [Value(1.0), Value(3.0)]; m = shift(zs); (m.data, m.is_leaf)
        (3.0, True)
    """
    m = stop_gradient(max, zs)
    m.label = "max"
    return m


def _logsumexp(zs):
    m = shift(zs)
    total = None
    for z in zs:
        e = (z - m).exp()
        total = e if total is None else total + e
    return m, total.log()


def log_softmax(values):
    """[zᵢ - max - log Σⱼ exp(zⱼ - max)], a list of Values."""
    zs = _values(values, "log_softmax input")
    m, lse = _logsumexp(zs)
    return [(z - m) - lse for z in zs]


def softmax(values):
    """[exp(zᵢ - max) / Σⱼ exp(zⱼ - max)], a list of Values summing to 1."""
    zs = _values(values, "softmax input")
    m = shift(zs)
    es = [(z - m).exp() for z in zs]
    total = es[0]
    for e in es[1:]:
        total = total + e
    return [e / total for e in es]


def cross_entropy(logits, target):
    """-log softmax(logits)[target] for a class index `target`; batch: lists of both.

        >>> cross_entropy([2.0, 0.5, -1.0], 0).data
        0.2413...
    """
    if _is_batch(logits):
        return _batch(cross_entropy, logits, target, "cross_entropy")
    zs = _values(logits, "cross_entropy logits")
    if isinstance(target, bool) or not isinstance(target, Integral) or not 0 <= target < len(zs):
        raise ValueError(f"cross_entropy: target must be a class index in [0, {len(zs)}), "
                         f"got {target!r}")
    target = int(target)  # numpy's int64 labels index a list too, but keep it plain
    m, lse = _logsumexp(zs)
    # lse(z) - z_t, with the shift: log Σ exp(z - m) - (z_t - m)
    return lse - (zs[target] - m)


def mse_loss(pred, target):
    """Mean of (pred - target)² over the entries; a single Value and number also work."""
    if isinstance(pred, (list, tuple)):
        if _is_batch(pred):
            return _batch(mse_loss, pred, target, "mse_loss")
        ts = target if isinstance(target, (list, tuple)) else None
        if ts is None or len(ts) != len(pred) or not pred:
            raise ValueError(f"mse_loss: pred has {len(pred)} entries, target {target!r} "
                             "must be a list of the same length")
        return _mean([(_value(p, "mse_loss pred") - t) ** 2 for p, t in zip(pred, ts)])
    return (_value(pred, "mse_loss pred") - target) ** 2


def binary_cross_entropy(logit, target):
    """-[t log σ(z) + (1 - t) log(1 - σ(z))] for a logit z and target t in [0, 1], as the
    equal and overflow-free softplus(z) - t·z. Batch: lists of logits and targets."""
    if isinstance(logit, (list, tuple)):
        return _batch(binary_cross_entropy, logit, target, "binary_cross_entropy")
    z = _value(logit, "binary_cross_entropy logit")
    if type(target) is bool or not isinstance(target, Real) or not 0 <= target <= 1:
        raise ValueError(f"binary_cross_entropy: target must be a number in [0, 1], got {target!r}")
    return z.softplus() - target * z if target else z.softplus()


def hinge_loss(score, target):
    """max(0, 1 - target·score) for target ±1 (an SVM's loss, micrograd's demo). Batch:
    lists of scores and targets."""
    if isinstance(score, (list, tuple)):
        return _batch(hinge_loss, score, target, "hinge_loss")
    s = _value(score, "hinge_loss score")
    if type(target) is bool or target not in (1, -1):
        raise ValueError(f"hinge_loss: target must be +1 or -1, got {target!r}")
    return (1 - target * s).relu()
