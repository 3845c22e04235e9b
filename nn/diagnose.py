"""Network health: dead ReLUs, saturated tanh/sigmoid units, and how big grads and updates are.

    >>> from nn import MLP; from nn.data import make_moons
    >>> X, y = make_moons(100, noise=0.1, seed=0)
    >>> model = MLP(2, [16, 16, 1], seed=3)
    >>> model.layers[1].neurons[3].b.data = -100.0     # this unit can never switch on
    >>> report = diagnose(model, X)
    >>> report.dead
    ['layers.1.neurons.3']
    >>> print(report)                                  # doctest: +ELLIPSIS
    layer     act     units  dead  saturated ...
    layers.1  relu    16     1     -          ... dead
    ...

A ReLU-family unit (relu, leaky_relu, elu, gelu, softplus) is *active* on a sample when its
pre-activation is > 0; one never active on any sample of X is dead: its gradient through
the kink is 0 (or tiny) for every sample, so it cannot learn its way back. A tanh or sigmoid
output within 0.03 of a bound is *saturated*: its local derivative is below 0.06 (tanh) or
0.03 (sigmoid), so gradients through it all but vanish.

Per layer the report also gives the activations' mean and std and, when the parameters hold
grads, Karpathy's two ratios over the layer's weights: grad:data = std(grad) / std(data) and
update:data = std(Δdata) / std(data) for the last step (given `previous`, the numbers before
it, or `lr` for plain SGD). The rule of thumb: log10(update:data) near −3 is healthy; two
decades below (< −5) the layer barely moves (vanishing), above −1 it jumps about (exploding).

Diagnosing records no graph and changes no grad: the forward pass runs on plain floats with
the op table's own forward functions and `ops.dot` (what a fused neuron computes), so it
gives the model's numbers exactly, as `no_grad` would, without making a Value per number.
"""
import inspect
import math
import xml.etree.ElementTree as ET

from autograd import Value, ops

from .init import RELU_FAMILY

BOUNDS = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
SATURATION_MARGIN = 0.03
# Flag thresholds. A layer is "saturated" when at least this fraction of its outputs is.
SATURATED_FRACTION = 0.25
# log10(update:data): ±2 decades around the healthy −3.
VANISHING_UPDATE, EXPLODING_UPDATE = -5.0, -1.0
# grad:data carries no learning rate, so only extremes are flagged from it alone.
VANISHING_GRAD, EXPLODING_GRAD = -7.0, 3.0


class LayerHealth:
    """One layer's figures. Ratios are plain ratios (None when not measurable); the table
    shows their log10."""
    __slots__ = ("path", "activation", "neurons", "dead", "saturated", "mean", "std",
                 "grad_data", "update_data", "flags")

    def __init__(self, **fields):
        for k in self.__slots__:
            setattr(self, k, fields.get(k))

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self):
        return f"LayerHealth({', '.join(f'{k}={getattr(self, k)!r}' for k in self.__slots__)})"


class Diagnosis:
    """What `diagnose` found: `.dead` (neuron paths), `.saturated` (layer path → fraction of
    saturated outputs, tanh/sigmoid layers only), `.layers` (a LayerHealth per layer),
    `.outputs` (the model's output on each sample, as floats or lists of floats),
    `.flagged` (layer path → flags, only layers with any), `.saturated_units` (paths of
    tanh/sigmoid neurons saturated on more than half the samples: what `draw(...,
    saturated=...)` marks)."""

    def __init__(self, layers, dead, outputs, samples, saturated_units=()):
        self.layers, self.dead, self.outputs, self.samples = layers, dead, outputs, samples
        self.saturated_units = list(saturated_units)
        self.saturated = {h.path: h.saturated for h in layers if h.saturated is not None}

    @property
    def flagged(self):
        return {h.path: h.flags for h in self.layers if h.flags}

    def rows(self):
        """The table as lists of strings, header first."""
        out = [["layer", "act", "units", "dead", "saturated", "mean", "std",
                "log10 grad:data", "log10 update:data", "flags"]]
        for h in self.layers:
            out.append([h.path, h.activation or "linear", str(h.neurons),
                        str(h.dead) if h.activation in RELU_FAMILY else "-",
                        f"{h.saturated:.0%}" if h.saturated is not None else "-",
                        f"{h.mean:.3g}", f"{h.std:.3g}",
                        log10_text(h.grad_data), log10_text(h.update_data),
                        ", ".join(h.flags) or "ok"])
        return out

    def __str__(self):
        rows = self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.append(f"{self.samples} samples; dead: {', '.join(self.dead) or 'none'}")
        return "\n".join(lines)

    def __repr__(self):
        return (f"<Diagnosis of {len(self.layers)} layers on {self.samples} samples: "
                f"{len(self.dead)} dead, flagged {self.flagged or 'none'}>")

    def _repr_html_(self):
        # Built as elements, not string pieces, so every figure is escaped; the style is
        # the live view's, read from its own file.
        from .live.assets import read_asset
        root = ET.Element("div", {"class": "nn-diagnosis"})
        ET.SubElement(root, "style").text = read_asset("diagnosis.css")
        table = ET.SubElement(root, "table")
        rows = self.rows()
        head = ET.SubElement(table, "tr")
        for c in rows[0]:
            ET.SubElement(head, "th").text = c
        for h, r in zip(self.layers, rows[1:]):
            tr = ET.SubElement(table, "tr", {"class": "flagged"} if h.flags else {})
            for c in r:
                ET.SubElement(tr, "td").text = c
        caption = ET.SubElement(root, "p")
        caption.text = f"{self.samples} samples; dead units: {', '.join(self.dead) or 'none'}"
        return ET.tostring(root, encoding="unicode", method="html")


def log10_text(r):
    """A ratio as the tables show it: its log10 to 2 decimals, "-" when not measured."""
    if r is None:
        return "-"
    if r == 0:
        return "-inf"
    return f"{math.log10(r):.2f}" if math.isfinite(r) else "nan"


def _std(xs):
    n = len(xs)
    if n < 2:
        return 0.0
    m = sum(xs) / n
    # (x - m) * (x - m), not ** 2: a diverging network's huge numbers give inf, not OverflowError
    return math.sqrt(sum((x - m) * (x - m) for x in xs) / (n - 1))


def _ratio(num, den):
    if not math.isfinite(num) or not math.isfinite(den):
        return float("nan")
    return num / den if den > 0 else None


def _flags(h, relu):
    flags = []
    if relu and h.dead:
        flags.append("dead")
    if h.saturated is not None and h.saturated >= SATURATED_FRACTION:
        flags.append("saturated")
    for ratio, low, high in ((h.update_data, VANISHING_UPDATE, EXPLODING_UPDATE),
                             (h.grad_data, VANISHING_GRAD, EXPLODING_GRAD)):
        if ratio is None:
            continue
        if not math.isfinite(ratio) or (ratio > 0 and math.log10(ratio) > high):
            flags.append("exploding")
        elif ratio == 0 or math.log10(ratio) < low:
            flags.append("vanishing")
        break  # update:data, when there is one, is the better judge
    return tuple(flags)


def _check(model, X):
    layers = getattr(model, "layers", None)
    if not isinstance(layers, list) or not layers or \
            not all(hasattr(l, "neurons") and hasattr(l, "path") for l in layers):
        raise TypeError(f"diagnose: model must be an nn.MLP (with .layers of Layer), got "
                        f"{type(model).__name__}")
    try:
        n = len(X)
    except TypeError:
        raise TypeError(f"diagnose: X must be a list of samples, got {type(X).__name__}") from None
    if n == 0:
        raise ValueError("diagnose: X is empty; need at least one sample")
    nin = len(layers[0].neurons[0].w)
    for i, x in enumerate(X):
        if not hasattr(x, "__len__") or len(x) != nin:
            got = len(x) if hasattr(x, "__len__") else type(x).__name__
            raise ValueError(f"diagnose: X[{i}] must be a list of {nin} numbers, got {got}")
    return layers


def float_activation(name):
    """The activation `name` as a function on floats, from the op table (with the Value
    method's default parameter for leaky_relu and elu); None for linear."""
    if name is None:
        return None
    forward = ops.OPS[name].forward
    params = list(inspect.signature(getattr(Value, name)).parameters.values())[1:]
    if params:
        default = params[0].default
        return lambda z: forward(z, default)
    return forward


def float_layers(model):
    """Per layer: (weights as rows of floats, biases as floats, activation on floats)."""
    return [([[w.data for w in n.w] for n in layer.neurons], [n.b.data for n in layer.neurons],
             float_activation(layer.activation)) for layer in model.layers]


def float_forward(layers, x):
    """The model's output on `x`, in floats: `ops.dot` is what a fused neuron computes, so
    the numbers are the model's own, bit for bit, and no Value is made."""
    h = x
    dot = ops.dot
    for W, B, act in layers:
        h = [dot(ws, h, b) for ws, b in zip(W, B)]
        if act is not None:
            h = [act(z) for z in h]
    return h


def diagnose(model, X, *, previous=None, lr=None):
    """A `Diagnosis` of `model` (an MLP) on the samples X (lists of floats).

    `previous` (a state_dict taken before the last optimiser step) gives update:data from
    the real change of each weight, whatever the optimiser; without it, `lr` gives it as
    plain SGD's lr·grad. Grads are read from the parameters as they are (grad:data is None
    when every grad is 0).
    """
    layers = _check(model, X)
    n = len(X)
    params = model.named_parameters()
    has_grads = any(p.grad for _, p in params)
    name_of = {p: name for name, p in params}
    if previous is not None:
        missing = [name for name, _ in params if name not in previous]
        if missing:
            raise ValueError(f"diagnose: previous lacks {len(missing)} parameter(s), e.g. "
                             f"{missing[0]!r}; pass model.state_dict() taken before the step")
    # Per layer, per unit: how often active (pre-activation > 0) and saturated; and the
    # running sums of all outputs for mean and std.
    active = [[0] * len(l.neurons) for l in layers]
    saturated = [[0] * len(l.neurons) for l in layers]
    sums = [0.0] * len(layers)
    squares = [0.0] * len(layers)
    numbers = float_layers(model)
    dot = ops.dot
    outputs = []
    for x in X:
        h = [float(v) for v in x]
        for li, layer in enumerate(layers):
            W, B, act = numbers[li]
            pre = [dot(ws, h, b) for ws, b in zip(W, B)]
            out = [act(z) for z in pre] if act is not None else pre
            counts = active[li]
            for j, z in enumerate(pre):
                if z > 0:
                    counts[j] += 1
            bounds = BOUNDS.get(layer.activation)
            if bounds is not None:
                lo, hi = bounds[0] + SATURATION_MARGIN, bounds[1] - SATURATION_MARGIN
                sat = saturated[li]
                for j, o in enumerate(out):
                    if o <= lo or o >= hi:
                        sat[j] += 1
            s = 0.0
            q = 0.0
            for o in out:
                s += o
                q += o * o
            sums[li] += s
            squares[li] += q
            h = out
        outputs.append(h[0] if len(h) == 1 else h)
    report_layers, dead, saturated_units = [], [], []
    for li, layer in enumerate(layers):
        width = len(layer.neurons)
        count = n * width
        mean = sums[li] / count
        var = max(0.0, squares[li] / count - mean * mean)
        relu = layer.activation in RELU_FAMILY
        dead_here = [nr.path for nr, c in zip(layer.neurons, active[li]) if c == 0] if relu else []
        dead += dead_here
        if layer.activation in BOUNDS:
            saturated_units += [nr.path for nr, c in zip(layer.neurons, saturated[li]) if 2 * c > n]
        ws = [w for n_ in layer.neurons for w in n_.w]
        data = [w.data for w in ws]
        data_std = _std(data)
        grad_data = update_data = None
        grad_std = _std([w.grad for w in ws]) if has_grads else None
        if has_grads:
            grad_data = _ratio(grad_std, data_std)
        if previous is not None:
            update_data = _ratio(_std([w.data - previous[name_of[w]] for w in ws]), data_std)
        elif lr is not None and has_grads:
            update_data = _ratio(lr * grad_std, data_std)
        h = LayerHealth(path=layer.path, activation=layer.activation, neurons=width,
                        dead=len(dead_here) if relu else None,
                        saturated=sum(saturated[li]) / count if layer.activation in BOUNDS else None,
                        mean=mean, std=math.sqrt(var), grad_data=grad_data,
                        update_data=update_data)
        h.flags = _flags(h, relu)
        report_layers.append(h)
    return Diagnosis(report_layers, dead, outputs, n, saturated_units)
