"""Weight initialisation: how wide a uniform range each weight is drawn from.

All three schemes draw weights from U(-bound, bound); biases start at 0 (as micrograd's
`Value(0)`, and as is usual for Xavier and He).

    uniform  bound = 1                          micrograd's choice
    xavier   bound = sqrt(6 / (fan_in + fan_out))   Glorot & Bengio 2010, keeps the variance
                                                of activations and gradients for tanh/sigmoid
    he       bound = sqrt(6 / fan_in)           He et al. 2015, twice the variance, because
                                                ReLU zeroes half its inputs

The default follows the layer's activation: He for the ReLU family (relu, leaky_relu, elu,
gelu, softplus), Xavier for tanh, sigmoid and linear (None).

    >>> import random; from nn import init
    >>> rng = random.Random(0); ws = init.draw("he", 784, 16, rng)
    >>> len(ws), max(map(abs, ws)) <= (6 / 784) ** 0.5
    (784, True)
"""
import math
import random
import reprlib

RELU_FAMILY = frozenset({"relu", "leaky_relu", "elu", "gelu", "softplus"})


def uniform(fan_in, fan_out):
    return 1.0


def xavier(fan_in, fan_out):
    return math.sqrt(6.0 / (fan_in + fan_out))


def he(fan_in, fan_out):
    return math.sqrt(6.0 / fan_in)


SCHEMES = {"uniform": uniform, "xavier": xavier, "he": he}


def default_for(activation):
    """The scheme name used when `init=None`."""
    return "he" if activation in RELU_FAMILY else "xavier"


def draw(scheme, fan_in, fan_out, rng):
    """`fan_in` weights for one neuron, drawn with `rng` (a `random.Random`)."""
    if not isinstance(scheme, str) or scheme not in SCHEMES:
        raise ValueError(f"unknown init {reprlib.repr(scheme)}; choose one of "
                         f"{', '.join(SCHEMES)}")
    bound = SCHEMES[scheme](fan_in, fan_out)
    return [rng.uniform(-bound, bound) for _ in range(fan_in)]


def make_rng(seed):
    """A private `random.Random` for `seed` (an int, None for fresh entropy, or a
    `random.Random` to share one stream); the global RNG is never touched."""
    if isinstance(seed, random.Random):
        return seed
    if seed is None or (type(seed) is int):
        return random.Random(seed)
    raise TypeError(f"seed must be an int, None or a random.Random, got {type(seed).__name__}")
