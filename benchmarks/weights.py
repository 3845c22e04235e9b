"""Initial weights shared by every contender, as one flat list in micrograd's order.

micrograd's order is layer by layer, neuron by neuron, weights then bias; its `Neuron` draws
`random.uniform(-1, 1)` per weight and starts the bias at 0. `micrograd_uniform` replays that
draw with a seeded generator, so a micrograd MLP built after `random.seed(seed)` holds exactly
these numbers (checked by the suite when micrograd is installed).
"""
import math
import random


def micrograd_uniform(nin, nouts, seed):
    """U(-1, 1) weights, zero biases: micrograd's own init, replayed."""
    rng = random.Random(seed)
    flat = []
    for fan_in, fan_out in zip([nin] + nouts, nouts):
        for _ in range(fan_out):
            flat += [rng.uniform(-1, 1) for _ in range(fan_in)]
            flat.append(0.0)
    return flat


def he_uniform(nin, nouts, seed):
    """U(-√(6/fan_in), √(6/fan_in)) weights, zero biases: keeps W2's 784-wide sums sane."""
    rng = random.Random(seed)
    flat = []
    for fan_in, fan_out in zip([nin] + nouts, nouts):
        bound = math.sqrt(6.0 / fan_in)
        for _ in range(fan_out):
            flat += [rng.uniform(-bound, bound) for _ in range(fan_in)]
            flat.append(0.0)
    return flat


def layers(flat, nin, nouts):
    """The flat list as [(W rows, biases) per layer] (lists of floats, copied)."""
    out, at = [], 0
    for fan_in, fan_out in zip([nin] + nouts, nouts):
        W, b = [], []
        for _ in range(fan_out):
            W.append(list(flat[at:at + fan_in]))
            b.append(flat[at + fan_in])
            at += fan_in + 1
        out.append((W, b))
    if at != len(flat):
        raise ValueError(f"{len(flat)} weights do not fit a {nin}-{'-'.join(map(str, nouts))} MLP")
    return out


def micrograd_mlp(flat, nin, nouts, seed):
    """(model, params, replayed): micrograd's MLP with `flat` loaded. It is built after
    `random.seed(seed)`, so for `micrograd_uniform(..., seed)` loading changes nothing, and
    `replayed` says so."""
    from .peers import micrograd
    state = random.getstate()
    random.seed(seed)
    try:
        model = micrograd.nn.MLP(nin, nouts)
    finally:
        random.setstate(state)
    params = model.parameters()
    replayed = [p.data for p in params] == flat
    load(params, flat)
    return model, params, replayed


def load(params, flat):
    """Copy `flat` into the `.data` of `params` (any scalar engine's parameters)."""
    if len(params) != len(flat):
        raise ValueError(f"model has {len(params)} parameters, weights list has {len(flat)}")
    for p, v in zip(params, flat):
        p.data = v
