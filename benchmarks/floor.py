"""The interpreter's floor: W1 and W2 trained by hand on lists of floats.

No graph, no objects per number: forward keeps each layer's activations, backward applies the
dense-layer gradient by hand, SGD updates the lists. It computes what the engines compute (the
same sums in the same order, so losses agree), as fast as plain Python can, and is the bar the
engine's overhead is measured against. Like any hand-written backprop it skips what is exactly
zero: a moons sample with margin ≥ 1 has no gradient and is not back-propagated (2x on W1;
an engine gets the same by not propagating nodes whose gradient is 0).

    >>> net = weights.layers(weights.micrograd_uniform(2, [16, 16, 1], 1), 2, [16, 16, 1])
    >>> losses = train_moons(net, X, Y, steps=20)
"""
import sys
from functools import reduce
from math import exp, log
from operator import add, mul

# Python 3.12's sum() of floats compensates rounding; micrograd adds one by one, so from 3.12
# on add in plain order to keep the losses equal to the last bit (as autograd/ops.py does).
if sys.version_info >= (3, 12):
    def sum(items, start=0.0):  # noqa: A001  (shadows the builtin on purpose)
        return reduce(add, items, start)


def forward(net, x):
    """Activations per layer, input first; ReLU on hidden layers, the last one linear."""
    acts = [x]
    last = len(net) - 1
    for k, (W, b) in enumerate(net):
        # sum(..., bj) adds bj first, then w0x0, w1x1...: micrograd's order, bit for bit
        z = [sum(map(mul, w, x), bj) for w, bj in zip(W, b)]
        x = z if k == last else [zj if zj > 0.0 else 0.0 for zj in z]
        acts.append(x)
    return acts


def backward(net, acts, d, grads=None):
    """Add into `grads` ([(gW rows, gb)] like `net`; None: start from zero) the gradient of a
    loss whose derivative with respect to the last layer's output is `d`. Returns `grads`."""
    fresh = grads is None
    if fresh:
        grads = [([None] * len(W), [0.0] * len(b)) for W, b in net]
    for k in range(len(net) - 1, -1, -1):
        W, _ = net[k]
        gW, gb = grads[k]
        x = acts[k]
        for j, dj in enumerate(d):
            gb[j] += dj
            gW[j] = [dj * xi for xi in x] if fresh else [g + dj * xi for g, xi in zip(gW[j], x)]
        if k:  # ∂L/∂(input of this layer) through ReLU; the network's input needs none
            d = [sum(map(mul, col, d)) if a > 0.0 else 0.0 for col, a in zip(zip(*W), x)]
    return grads


def zeros(net):
    return [([[0.0] * len(w) for w in W], [0.0] * len(b)) for W, b in net]


def sgd(net, grads, lr):
    for k, ((W, b), (gW, gb)) in enumerate(zip(net, grads)):
        net[k] = ([[w - lr * g for w, g in zip(wr, gr)] for wr, gr in zip(W, gW)],
                  [v - lr * g for v, g in zip(b, gb)])


def train_moons(net, X, Y, steps, alpha=1e-4):
    """micrograd's demo: full batch, max-margin loss + alpha·L2, lr = 1 - 0.9k/100.
    Returns the loss of every step."""
    n = len(X)
    history = []
    for k in range(steps):
        grads = zeros(net)
        total = 0.0
        for x, y in zip(X, Y):
            acts = forward(net, x)
            margin = 1.0 - y * acts[-1][0]
            if margin > 0.0:
                total += margin
                backward(net, acts, [-y * (1.0 / n)], grads)
        reg = sum(p * p for W, b in net for w, bj in zip(W, b) for p in (*w, bj))
        history.append(total * (1.0 / n) + alpha * reg)
        two_alpha = 2.0 * alpha
        for (W, b), (gW, gb) in zip(net, grads):
            for w, g in zip(W, gW):
                g[:] = [gi + two_alpha * wi for gi, wi in zip(g, w)]
            gb[:] = [gi + two_alpha * bi for gi, bi in zip(gb, b)]
        sgd(net, grads, 1.0 - 0.9 * k / 100)
    return history


def train_fashion(net, images, labels, lr):
    """Per-sample SGD with softmax cross-entropy. Returns each sample's loss."""
    history = []
    for x, t in zip(images, labels):
        acts = forward(net, x)
        z = acts[-1]
        m = max(z)
        es = [exp(zi - m) for zi in z]
        s = sum(es)
        history.append(log(s) + m - z[t])
        d = [e / s for e in es]
        d[t] -= 1.0
        sgd(net, backward(net, acts, d), lr)
    return history
