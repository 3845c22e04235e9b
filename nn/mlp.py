"""Neuron, Layer and MLP, micrograd's three classes, made of Values.

    >>> model = MLP(2, [16, 16, 1], seed=0)      # 2 inputs, two ReLU layers, a linear output
    >>> out = model([0.5, -1.0]); out.backward()  # one Value; every parameter gets a .grad

A neuron computes act(Σ wᵢxᵢ + b). With `fused=True` the sum is one n-ary `linear` node
(local derivatives xᵢ and wᵢ); with `fused=False` it is micrograd's chain of `*` and `+`
nodes. The engine computes both in the same order, so they agree to the last bit; fused is
several times faster and the default, unfused is for looking at.

Every parameter's `.label` is its full name (`layers.0.neurons.3.w.17`), and every node a
neuron makes in its forward carries `.scope` = the neuron's path (`layers.0.neurons.3`), so
a renderer can draw a big network as one box per neuron. The neuron's own parameters carry
the same scope. A neuron built on its own has no path and scope None.
"""
import reprlib
import sys

from autograd import Value, linear, linear_layer

from . import init as _init
from .module import MAX_PARAMETERS, Module, check_max_parameters

ACTIVATIONS = {
    None: None,
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "leaky_relu": Value.leaky_relu,  # default negative_slope=0.01
    "elu": Value.elu,                # default alpha=1.0
    "gelu": Value.gelu,
    "softplus": Value.softplus,
}


def _check_activation(activation, what="activation"):
    if not (activation is None or isinstance(activation, str)) or activation not in ACTIVATIONS:
        names = ", ".join(repr(a) for a in ACTIVATIONS)
        raise ValueError(f"unknown {what} {reprlib.repr(activation)}; choose one of {names}")


def _check_fused(fused):
    if not isinstance(fused, bool):  # bool("no") is True: a model file must not get that far
        raise TypeError(f"fused must be True or False, got {reprlib.repr(fused)}")
    return fused


def _check_size(n, what):
    if type(n) is not int or not 1 <= n <= sys.maxsize:
        shown = reprlib.repr(n) if type(n) is not int or n.bit_length() < 256 else "a huge int"
        raise ValueError(f"{what} must be a positive int (at most {sys.maxsize}), got {shown}")
    return n


def _layer_sizes(nouts):
    if isinstance(nouts, (str, bytes, dict)) or not hasattr(nouts, "__iter__"):
        raise TypeError(f"MLP nouts must be a list of layer sizes, got {type(nouts).__name__}")
    nouts = list(nouts)
    if not nouts:
        raise ValueError("MLP nouts must list at least one layer size")
    return [_check_size(n, f"MLP nouts[{i}]") for i, n in enumerate(nouts)]


class Neuron(Module):
    """act(Σ wᵢxᵢ + b) for `nin` inputs. `fan_out` (the layer's width) only feeds Xavier."""

    CONFIG = ("nin", "activation", "init", "fused")

    @classmethod
    def parameter_count(cls, nin, **config):
        return _check_size(nin, "Neuron nin") + 1

    def __init__(self, nin, activation="relu", init=None, seed=None, fused=True, fan_out=1, *,
                 max_parameters=MAX_PARAMETERS):
        check_max_parameters(type(self), self.parameter_count(nin), max_parameters, {"nin": nin})
        _check_size(fan_out, "Neuron fan_out")
        _check_activation(activation)
        self.nin, self.activation, self.init = nin, activation, init
        self.fused = _check_fused(fused)
        scheme = init if init is not None else _init.default_for(activation)
        self.w = [Value(w) for w in _init.draw(scheme, nin, fan_out, _init.make_rng(seed))]
        self.b = Value(0.0)
        self._act = ACTIVATIONS[activation]
        self._place("")

    def _place(self, path):
        """Record this neuron's module path in its parameters' labels and scopes."""
        self.path = path
        self.scope = path or None
        prefix = path + "." if path else ""
        for i, w in enumerate(self.w):
            w.label = f"{prefix}w.{i}"
            w.scope = self.scope
        self.b.label = prefix + "b"
        self.b.scope = self.scope

    def __call__(self, x):
        if len(x) != self.nin:
            raise ValueError(f"{self.path or 'Neuron'}: expected {self.nin} inputs, got {len(x)}")
        if self.fused:
            return self._activate(linear(self.w, x, self.b))
        # micrograd's sum((wi*xi for wi, xi in zip(self.w, x)), self.b), node by node
        s = self.scope
        out = self.b
        for wi, xi in zip(self.w, x):
            p = wi * xi
            p.scope = s
            out = out + p
            out.scope = s
        return self._activate(out)

    def _activate(self, out):
        """act(out), both nodes scoped to this neuron."""
        s = self.scope
        out.scope = s
        act = self._act
        if act is not None:
            out = act(out)
            out.scope = s
        return out

    def parameters(self):
        return self.w + [self.b]

    def named_parameters(self):
        return [(f"w.{i}", w) for i, w in enumerate(self.w)] + [("b", self.b)]


class Layer(Module):
    """`nout` neurons reading the same `nin` inputs; returns a list of `nout` Values."""

    CONFIG = ("nin", "nout", "activation", "init", "fused")

    @classmethod
    def parameter_count(cls, nin, nout, **config):
        return (_check_size(nin, "Layer nin") + 1) * _check_size(nout, "Layer nout")

    def __init__(self, nin, nout, activation="relu", init=None, seed=None, fused=True, *,
                 max_parameters=MAX_PARAMETERS):
        check_max_parameters(type(self), self.parameter_count(nin, nout), max_parameters,
                             {"nin": nin, "nout": nout})
        _check_activation(activation)
        self.nin, self.nout, self.activation, self.init = nin, nout, activation, init
        self.fused = _check_fused(fused)
        rng = _init.make_rng(seed)
        self.neurons = [Neuron(nin, activation, init, rng, fused, fan_out=nout,
                               max_parameters=None) for _ in range(nout)]
        self._place("")

    def _place(self, path):
        self.path = path
        prefix = path + "." if path else ""
        for i, n in enumerate(self.neurons):
            n._place(f"{prefix}neurons.{i}")

    def __call__(self, x):
        if len(x) != self.nin:
            raise ValueError(f"{self.path or 'Layer'}: expected {self.nin} inputs, got {len(x)}")
        ns = self.neurons
        if not self.fused:
            return [n(x) for n in ns]
        # The neurons' linear nodes in one call, which reads x once for all of them.
        outs = linear_layer([n.w for n in ns], x, [n.b for n in ns])
        return [n._activate(out) for n, out in zip(ns, outs)]

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def named_parameters(self):
        return [(f"neurons.{i}.{name}", p)
                for i, n in enumerate(self.neurons) for name, p in n.named_parameters()]


class MLP(Module):
    """Layers of sizes `nouts` after `nin` inputs: `activation` on every hidden layer,
    `output_activation` (default None: linear) on the last. Returns one Value when the last
    layer has one neuron, else a list. More than `max_parameters` parameters (default
    `nn.module.MAX_PARAMETERS`, 10 million) is refused before anything is allocated;
    `max_parameters=None` lifts the cap."""

    CONFIG = ("nin", "nouts", "activation", "output_activation", "init", "fused")

    @classmethod
    def parameter_count(cls, nin, nouts, **config):
        """`MLP.parameter_count(784, [16, 16, 10])` is 13002."""
        sizes = [_check_size(nin, "MLP nin")] + _layer_sizes(nouts)
        return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))

    def __init__(self, nin, nouts, activation="relu", output_activation=None, init=None,
                 seed=None, fused=True, *, max_parameters=MAX_PARAMETERS):
        nouts = _layer_sizes(nouts)
        check_max_parameters(type(self), self.parameter_count(nin, nouts), max_parameters,
                             {"nin": nin, "nouts": nouts})
        _check_activation(activation)
        _check_activation(output_activation, "output_activation")
        self.nin, self.nouts, self.init = nin, nouts, init
        self.fused = _check_fused(fused)
        self.activation, self.output_activation = activation, output_activation
        rng = _init.make_rng(seed)
        sizes = [nin] + nouts
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], output_activation if i == last else
                             activation, init, rng, fused, max_parameters=None)
                       for i in range(len(nouts))]
        for i, layer in enumerate(self.layers):
            layer._place(f"layers.{i}")

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self):
        return [(f"layers.{i}.{name}", p)
                for i, layer in enumerate(self.layers) for name, p in layer.named_parameters()]
