"""Optimisers with PyTorch's update rules; they change `.data` in place, recording no graph.

    >>> from nn import MLP; model = MLP(2, [4, 1], seed=0)
    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> loss = model([1.0, -1.0]) ** 2
    >>> opt.zero_grad(); loss.backward(); opt.step()

`OPTIMIZERS` maps the names `fit(optimizer=...)` and `python -m nn train --optimizer` accept
to the classes; `make_optimizer` builds one by name. Every hyper-parameter must be a finite
real number in its range (an infinite learning rate would only train to nan): anything else
is a TypeError or ValueError naming the optimiser, the hyper-parameter and the value.
"""
import math
from numbers import Real


def hyper_parameter(owner, name, value, low=0.0, high=math.inf, *, open_low=False,
                    open_high=False):
    """`value` as a float, checked to be a finite real number in its range (a bool, a str
    or None is a TypeError; nan, ±inf or out of range a ValueError naming `owner`)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{owner}: {name} must be a real number, got "
                        f"{type(value).__name__}: {value!r}")
    try:
        v = float(value)
    except OverflowError:  # an int too large for a float
        v = math.inf
    above = v > low if open_low else v >= low
    below = v < high if open_high else v <= high
    if not (math.isfinite(v) and above and below):
        where = " and ".join(filter(None, [
            f"{'>' if open_low else '>='} {low:g}" if low > -math.inf else "",
            f"{'<' if open_high else '<='} {high:g}" if high < math.inf else ""]))
        shown = repr(value) if not isinstance(value, int) or value.bit_length() < 256 else "a huge int"
        raise ValueError(f"{owner}: {name} must be a finite number{' ' + where if where else ''}, "
                         f"got {shown}")
    return v


class Optimizer:
    """Base class: holds the parameters and the learning rate `lr` (writable, for
    schedules). `OPTIONS` names the keyword hyper-parameters a subclass takes."""

    OPTIONS = ()

    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        self.lr = hyper_parameter(type(self).__name__, "lr", lr)

    def zero_grad(self):
        for p in self.params:
            p.grad = 0.0


class SGD(Optimizer):
    """PyTorch's SGD (no dampening, no Nesterov):
    d = g + weight_decay·p;  buf = d on the first step, then momentum·buf + d;  p -= lr·buf."""

    OPTIONS = ("momentum", "weight_decay")

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum = hyper_parameter("SGD", "momentum", momentum)
        self.weight_decay = hyper_parameter("SGD", "weight_decay", weight_decay)
        self.buffers = None  # one momentum buffer per parameter after the first step

    def step(self):
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        if mu == 0.0 and wd == 0.0:
            # Plain SGD leaves a parameter with a zero grad as it is, so skip it: on the
            # 784-16-16-10 network 87 % of grads are exactly 0 (black pixels, dead units),
            # and skipping makes the step 0.53 ms instead of 0.91 ms. Same numbers (a -0.0
            # parameter stays -0.0 where PyTorch would make it +0.0).
            for p in self.params:
                g = p.grad
                if g:
                    p.data -= lr * g
            return
        if mu == 0.0:
            for p in self.params:
                p.data -= lr * (p.grad + wd * p.data)
            return
        first = self.buffers is None
        if first:
            self.buffers = [0.0] * len(self.params)
        bufs = self.buffers
        for i, p in enumerate(self.params):
            d = p.grad + wd * p.data if wd else p.grad
            b = d if first else mu * bufs[i] + d
            bufs[i] = b
            p.data -= lr * b


class Adam(Optimizer):
    """PyTorch's Adam (amsgrad=False), with bias correction:
    m = lerp(m, g, 1-β₁);  v = β₂v + (1-β₂)g²;
    p -= (lr / (1-β₁ᵗ)) · m / (sqrt(v) / sqrt(1-β₂ᵗ) + eps).
    `weight_decay` adds weight_decay·p to g first (L2, as torch.optim.Adam, not AdamW)."""

    OPTIONS = ("betas", "eps", "weight_decay")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = tuple(hyper_parameter("Adam", f"betas[{i}]", b, 0.0, 1.0, open_high=True)
                           for i, b in enumerate(betas))
        # eps > 0: it is what keeps m / (sqrt(v) + eps) finite while v is still 0
        self.eps = hyper_parameter("Adam", "eps", eps, open_low=True)
        self.weight_decay = hyper_parameter("Adam", "weight_decay", weight_decay)
        self.t = 0
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self):
        self.t += 1
        (b1, b2), eps, wd = self.betas, self.eps, self.weight_decay
        w = 1.0 - b1
        step_size = self.lr / (1.0 - b1 ** self.t)
        bc2_sqrt = math.sqrt(1.0 - b2 ** self.t)
        m, v = self.m, self.v
        for i, p in enumerate(self.params):
            g = p.grad + wd * p.data if wd else p.grad
            # torch.lerp's formula, so the numbers match PyTorch's to the last bit or two
            mi = m[i] + w * (g - m[i]) if w < 0.5 else g - (g - m[i]) * (1.0 - w)
            vi = v[i] * b2 + (1.0 - b2) * g * g
            m[i], v[i] = mi, vi
            p.data -= step_size * (mi / (math.sqrt(vi) / bc2_sqrt + eps))


OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def make_optimizer(name, params, lr, momentum=0.0, weight_decay=0.0):
    """The optimiser `OPTIMIZERS[name]` over `params`. `momentum` is SGD's; a non-zero
    momentum for an optimiser without one is refused rather than ignored."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of "
                         f"{', '.join(map(repr, OPTIMIZERS))}")
    cls = OPTIMIZERS[name]
    options = {"weight_decay": weight_decay}
    if "momentum" in cls.OPTIONS:
        options["momentum"] = momentum
    elif momentum != 0:
        raise ValueError(f"{name} takes no momentum (got momentum={momentum!r}); use sgd")
    return cls(params, lr, **options)
