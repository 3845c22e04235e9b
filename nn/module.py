"""`Module`: the parameter bookkeeping shared by Neuron, Layer and MLP.

A module names its parameters by path (`layers.0.neurons.3.w.17`), so a model's numbers
can be listed, copied into a plain dict, checked and written to a file.

    >>> from nn import MLP; model = MLP(2, [4, 1], seed=0)
    >>> sd = model.state_dict(); model.load_state_dict(sd); len(sd)
    17
    >>> model.save("model.json"); same = MLP.load("model.json")
"""
import math
from numbers import Real


class Module:
    """Base class: subclasses define `named_parameters()` and, to be saved, `config()`."""

    def named_parameters(self):
        """`(name, Value)` pairs in micrograd's order: layer by layer, neuron by neuron,
        weights then bias."""
        return []

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self):
        """Name → float for every parameter, in parameter order."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state):
        """Copy numbers from `state` (name → real number) into the parameters.

        Everything is checked before anything is written, so a refused dict leaves the model
        as it was: a missing or extra key, or a value that is not a finite real number
        (bool, None, str, nan and inf included), raises an error naming the key.
        """
        check_state(self.named_parameters(), state)
        for name, p in self.named_parameters():
            p.data = float(state[name])

    def save(self, path):
        """Write architecture and numbers to `path` as JSON, atomically: a failed save
        leaves any existing file whole."""
        from .checkpoint import save
        save(self, path)

    @classmethod
    def load(cls, path):
        """A new model of this class built from a file written by `save`."""
        from .checkpoint import load
        return load(path, expect=cls)

    def config(self):
        """The constructor arguments that rebuild this module's architecture (a JSON-able
        dict); `type(self)(**config)` must give a model with the same parameter names."""
        raise NotImplementedError(f"{type(self).__name__} does not describe its architecture")

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


def check_state(named, state):
    """Raise if `state` does not hold exactly one finite real number per parameter name."""
    if not isinstance(state, dict):
        raise TypeError(f"state dict must be a dict of name -> number, got {type(state).__name__}")
    names = [n for n, _ in named]
    missing = [n for n in names if n not in state]
    known = set(names)
    extra = [k for k in state if k not in known]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} key(s): {_few(missing)}")
        if extra:
            parts.append(f"unexpected {len(extra)} key(s): {_few(extra)}")
        raise ValueError("state dict does not match the model: " + "; ".join(parts))
    for n in names:
        v = state[n]
        if isinstance(v, bool) or not isinstance(v, Real):
            raise TypeError(f"state dict key {n!r}: expected a real number, got "
                            f"{type(v).__name__}: {v!r}")
        try:
            finite = math.isfinite(v)
        except OverflowError:  # an int too large for a float
            finite = False
        if not finite:
            raise ValueError(f"state dict key {n!r}: expected a finite number, got {v!r}")


def _few(names, k=5):
    shown = ", ".join(repr(n) for n in names[:k])
    return shown + (f", ... ({len(names) - k} more)" if len(names) > k else "")
