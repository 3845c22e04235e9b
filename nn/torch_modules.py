"""PyTorch modules for the activations whose torch built-in differs from chainrule's.

Imported by `nn.torch_bridge` only after torch is known to be present. Every other
activation is torch's own module with chainrule's parameters (see `ACTIVATION_MODULES`).
"""
import torch


class Softplus(torch.nn.Module):
    """log(1 + eˣ) for every x, as chainrule computes it: max(x, 0) + log1p(e^-|x|), which is
    torch.logaddexp(x, 0) to the bit. torch.nn.Softplus() instead returns x itself above
    its threshold of 20, off by up to log1p(e^-20) ≈ 2e-9; its gradient there is 1 instead
    of sigmoid(x)."""

    def forward(self, x):
        return torch.logaddexp(x, torch.zeros((), dtype=x.dtype, device=x.device))


def activation_module(name):
    """A fresh torch module computing chainrule's activation `name` (not None)."""
    return ACTIVATION_MODULES[name]()


# chainrule's name → a torch module with the Value methods' defaults (nn.mlp.ACTIVATIONS)
ACTIVATION_MODULES = {
    "relu": torch.nn.ReLU,
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "leaky_relu": lambda: torch.nn.LeakyReLU(negative_slope=0.01),
    "elu": lambda: torch.nn.ELU(alpha=1.0),
    "gelu": lambda: torch.nn.GELU(approximate="none"),
    "softplus": Softplus,
}


def activation_name(m):
    """chainrule's name for torch module `m`, or None if chainrule has no such activation
    (including a known module with other parameters, e.g. LeakyReLU(0.2))."""
    nn = torch.nn
    if isinstance(m, Softplus):
        return "softplus"
    if type(m) is nn.ReLU:
        return "relu"
    if type(m) is nn.Tanh:
        return "tanh"
    if type(m) is nn.Sigmoid:
        return "sigmoid"
    if type(m) is nn.LeakyReLU and m.negative_slope == 0.01:
        return "leaky_relu"
    if type(m) is nn.ELU and m.alpha == 1.0:
        return "elu"
    if type(m) is nn.GELU and m.approximate == "none":
        return "gelu"
    # torch's own Softplus equals ours below its threshold and is within log1p(e^-t) of it
    # above; accepted for beta 1 and a threshold of at least 20 (≤ 2.1e-9 apart).
    if type(m) is nn.Softplus and m.beta == 1 and m.threshold >= 20:
        return "softplus"
    return None
