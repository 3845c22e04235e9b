"""Neural networks built from autograd Values: micrograd's Neuron, Layer and MLP, grown up.

    >>> from nn import MLP, cross_entropy
    >>> model = MLP(64, [16, 16, 10], seed=0)
    >>> loss = cross_entropy(model([0.0] * 64), 3); loss.backward()

Submodules: `nn.init` (weight schemes), `nn.losses`, `nn.optim` (SGD, Adam), `nn.data`
(moons, digits, MNIST-format files, splits, minibatches), `nn.train` (fit), `nn.checkpoint`
(the model file format), `nn.diagnose` (network health), `nn.torch_bridge` (to and from
PyTorch). `python -m nn train --help` trains from the command line.
"""
from . import data, init, losses, optim, train  # `nn.optim.SGD`, as `torch.optim.SGD`
from .checkpoint import CheckpointError
from .diagnose import diagnose
from .losses import binary_cross_entropy, cross_entropy, hinge_loss, log_softmax, mse_loss, softmax
from .mlp import MLP, Layer, Neuron
from .module import Module
from .torch_bridge import from_torch, to_torch  # imports torch only when called
from .train import Diverged, fit

__all__ = [
    "Module", "Neuron", "Layer", "MLP", "CheckpointError", "fit", "Diverged", "diagnose",
    "mse_loss", "cross_entropy", "binary_cross_entropy", "hinge_loss", "softmax", "log_softmax",
    "to_torch", "from_torch",
]
