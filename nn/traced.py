"""Training through traces: each minibatch's forward and backward replayed from compiled
traces, with exactly the numbers `fit`'s graph and `backward()` give.

    >>> from nn import MLP; from nn.optim import SGD
    >>> model = MLP(4, [8, 3], seed=0); opt = SGD(model.parameters(), lr=0.1)
    >>> batches = TracedBatches(model)
    >>> total, mean, correct = batches([[0.5, -1.0, 0.25, 2.0], [0.0, 1.0, 1.0, 0.0]], [2, 0], opt)
    >>> opt.step()                           # the grads are in place, as after backward()

`fit` builds one graph per minibatch: each sample's loss, their sum, the mean, one `backward()`.
Here each sample's loss is a trace (one per class index, the only thing that changes the
graph's shape), replayed in the order `backward()` visits the samples, each seeded with the
gradient the batch mean passes down to it. That order and those seeds come from the engine
itself: the same sum and mean are built over stand-in Values and run backward once per batch
size.
"""
from numbers import Integral

from autograd import Value
from autograd.backprop import topo_order
from autograd.trace import trace

from .losses import sum_and_mean
from .train import loss_for, predict_floats


def _order_and_seeds(n):
    """For a batch of n: the order in which backward() reaches the samples' losses, and the
    gradient each receives (stand-ins are interior nodes, as the real losses are)."""
    stand_ins = [Value(1.0) * 1.0 for _ in range(n)]
    _, mean = sum_and_mean(stand_ins)
    mean.backward()
    rank = {v: i for i, v in enumerate(stand_ins)}
    order = [rank[v] for v in topo_order(mean) if v in rank]
    return order, [v.grad for v in stand_ins]


class TracedBatches:
    """`batches(xb, yb, opt)`: zero `opt`'s grads, then set every parameter's `.grad` to what
    `backward()` of the batch's mean loss gives (`sum_and_mean`, as `fit` builds it), replaying traces; returns
    (sum of the losses, their mean, how many samples `predict` got right)."""

    def __init__(self, model, loss=loss_for):
        self.model, self.loss = model, loss
        self.params = model.parameters()
        self.step = None
        self._seeds = {}

    def _sample(self, x, t):
        out = self.model(x)
        return self.loss(out, t), out

    def __call__(self, xb, yb, opt):
        n = len(xb)
        if n == 0 or n != len(yb):
            raise ValueError(f"TracedBatches: {n} samples and {len(yb)} labels")
        xb = [x if type(x) is list else list(x) for x in xb]
        yb = [int(t) if isinstance(t, Integral) else t for t in yb]  # numpy labels too
        if self.step is None:
            self.step = trace(self._sample, self.params, (xb[0], yb[0]))
        plan = self._seeds.get(n)
        if plan is None:
            plan = self._seeds[n] = _order_and_seeds(n)
        order, seeds = plan
        opt.zero_grad()
        params = self.params
        P = [p.data for p in params]
        G = [p.grad for p in params]
        losses, correct = [0.0] * n, 0
        accumulate = self.step.accumulate
        for k in order:
            losses[k], out = accumulate(P, G, xb[k], yb[k], gradient=seeds[k])
            correct += predict_floats(out) == yb[k]
        for p, g in zip(params, G):
            p.grad = g
        return (*sum_and_mean(losses), correct)

