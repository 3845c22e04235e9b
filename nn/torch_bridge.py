"""An `MLP` as a PyTorch module and back, with the same numbers.

    >>> from nn import MLP
    >>> model = MLP(4, [8, 3], activation="tanh", seed=0)
    >>> net = to_torch(model)                  # Sequential(Linear, Tanh, Linear), float64
    >>> back = from_torch(net)                 # an MLP with bit-identical parameters
    >>> back.state_dict() == model.state_dict()
    True

Layer i of the MLP becomes one `torch.nn.Linear` (float64, with bias), followed by its
activation module unless the activation is None. Parameter names map one to one:

    layers.i.neurons.j.w.k   ↔   <index of layer i's Linear>.weight[j, k]
    layers.i.neurons.j.b     ↔   <index of layer i's Linear>.bias[j]

`parameter_map(model)` lists that correspondence for every parameter. The Linear's index in
the Sequential is 2i when every earlier layer has an activation module (and i when none
has). Activations are torch's own modules with the Value methods' defaults: ReLU, Tanh,
Sigmoid, LeakyReLU(0.01), ELU(alpha=1.0), GELU(approximate="none") (the exact erf form),
and for softplus `nn.torch_modules.Softplus`, because torch.nn.Softplus turns into the
identity above x = 20 while chainrule's softplus stays exact (see that class).
`from_torch` also accepts torch.nn.Softplus(beta=1, threshold >= 20), which agrees with it
within 2.1e-9.

What an MLP cannot be, `from_torch` refuses with an error naming the layer: anything but
Linear, Identity and those activations; a Linear without bias; different activations on the
hidden layers; two activations in a row; sizes that do not chain. Weights of any real
floating dtype are read exactly (float32 → float64 loses nothing).

Both need the torch extra (`pip install 'chainrule[torch]'`); without it they raise an
ImportError saying so.
"""
import math

from autograd.torch_extra import require_torch

from .mlp import MLP


def _torch(what):
    torch = require_torch(what)
    from . import torch_modules
    return torch, torch_modules


def to_torch(model):
    """A `torch.nn.Sequential` of float64 `Linear` and activation modules computing the
    same function as `model` (an `MLP`), with identical weights. It holds copies: training
    one does not change the other."""
    torch, tm = _torch("nn.to_torch")
    if not isinstance(model, MLP):
        raise TypeError(f"to_torch: expected an nn.MLP, got {type(model).__name__}")
    modules = []
    for layer in model.layers:
        linear = torch.nn.utils.skip_init(torch.nn.Linear, layer.nin, layer.nout,
                                          dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons],
                                             dtype=torch.float64))
            linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons],
                                           dtype=torch.float64))
        modules.append(linear)
        if layer.activation is not None:
            modules.append(tm.activation_module(layer.activation))
    return torch.nn.Sequential(*modules)


def parameter_map(model):
    """`{chainrule name: (torch parameter name, index)}` for `to_torch(model)`, e.g.
    `"layers.1.neurons.3.w.5": ("2.weight", (3, 5))`, `"layers.1.neurons.3.b": ("2.bias", (3,))`."""
    if not isinstance(model, MLP):
        raise TypeError(f"parameter_map: expected an nn.MLP, got {type(model).__name__}")
    mapping, index = {}, 0
    for i, layer in enumerate(model.layers):
        for j, n in enumerate(layer.neurons):
            for k in range(len(n.w)):
                mapping[f"layers.{i}.neurons.{j}.w.{k}"] = (f"{index}.weight", (j, k))
            mapping[f"layers.{i}.neurons.{j}.b"] = (f"{index}.bias", (j,))
        index += 1 if layer.activation is None else 2
    return mapping


def from_torch(module, *, init=None, fused=True):
    """An `MLP` with `module`'s architecture and weights (converted exactly to float).

    `module` is a `torch.nn.Sequential` as `to_torch` makes: Linear layers, each followed by
    at most one activation chainrule has (Identity modules are skipped). The hidden layers
    share one activation; the last layer's is the MLP's `output_activation`. A single-layer
    module gives `activation="relu"`, unused. `init` and `fused` are the MLP's own options
    (a torch module has neither)."""
    torch, tm = _torch("nn.from_torch")
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(f"from_torch: expected a torch.nn.Sequential, got {type(module).__name__}")
    layers = []  # [index, Linear, activation name]
    for idx, m in enumerate(module):
        where = f"from_torch: layer {idx} ({m!r})"
        if isinstance(m, torch.nn.Identity):
            continue
        if type(m) is torch.nn.Linear:
            if m.bias is None:
                raise ValueError(f"{where}: a Linear without bias (an MLP neuron has one)")
            if layers and layers[-1][1].out_features != m.in_features:
                raise ValueError(f"{where}: takes {m.in_features} inputs but layer "
                                 f"{layers[-1][0]} gives {layers[-1][1].out_features}")
            layers.append([idx, m, None])
            continue
        name = tm.activation_name(m)
        if name is None:
            raise ValueError(f"{where}: not something an MLP can hold; allowed are Linear, "
                             "Identity and ReLU, Tanh, Sigmoid, LeakyReLU(0.01), ELU(1.0), "
                             "GELU('none'), Softplus(beta=1)")
        if not layers:
            raise ValueError(f"{where}: an activation before the first Linear")
        if layers[-1][2] is not None:
            raise ValueError(f"{where}: a second activation after layer {layers[-1][0]}")
        layers[-1][2] = name
    if not layers:
        raise ValueError("from_torch: the module holds no Linear layer")
    hidden = layers[:-1]
    activation = hidden[0][2] if hidden else "relu"
    for idx, _, name in hidden:
        if name != activation:
            raise ValueError(f"from_torch: layer {idx}'s activation is {name!r} but the first "
                             f"hidden layer's is {activation!r}; an MLP has one hidden activation")
    state = {}
    for i, (idx, linear, _) in enumerate(layers):
        for what, t in (("weight", linear.weight), ("bias", linear.bias)):
            if not (t.dtype.is_floating_point and not t.dtype.is_complex):
                raise TypeError(f"from_torch: layer {idx}'s {what} has dtype {t.dtype}, "
                                "expected a real floating dtype")
        W = linear.weight.detach().to("cpu", torch.float64).tolist()
        b = linear.bias.detach().to("cpu", torch.float64).tolist()
        for j, (row, bj) in enumerate(zip(W, b)):
            for k, w in enumerate(row):
                state[f"layers.{i}.neurons.{j}.w.{k}"] = _finite(w, idx, f"weight[{j}, {k}]")
            state[f"layers.{i}.neurons.{j}.b"] = _finite(bj, idx, f"bias[{j}]")
    model = MLP(layers[0][1].in_features, [linear.out_features for _, linear, _ in layers],
                activation=activation, output_activation=layers[-1][2], init=init, seed=0,
                fused=fused)
    model.load_state_dict(state)
    return model


def _finite(x, idx, what):
    if not math.isfinite(x):
        raise ValueError(f"from_torch: layer {idx}'s {what} is {x!r}; an MLP holds finite numbers")
    return x
