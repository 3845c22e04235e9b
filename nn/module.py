"""`Module`: the parameter bookkeeping shared by Neuron, Layer and MLP.

A module names its parameters by path (`layers.0.neurons.3.w.17`), so a model's numbers
can be listed, copied into a plain dict, checked and written to a file.

    >>> from nn import MLP; model = MLP(2, [4, 1], seed=0)
    >>> sd = model.state_dict(); model.load_state_dict(sd); len(sd)
    17
    >>> model.save("model.json"); same = MLP.load("model.json")

A module class owns its architecture: `CONFIG` names the constructor arguments that rebuild
it, `parameter_count(**config)` says how many parameters they make, before anything is
built. Every subclass is entered in `REGISTRY` under its name when it is defined, which is
how a model file's "class" finds its class. Models are capped at `MAX_PARAMETERS`
parameters (a typo like `[16, 1000000000]` fails at once instead of filling the memory);
pass `max_parameters=None` to build or load a bigger one.
"""
import math
import os
from numbers import Real

from . import checkpoint
from .checkpoint import CheckpointError, shorten

MAX_PARAMETERS = 10_000_000  # about 1 GB of Values
REGISTRY = {}  # class name -> Module subclass, filled as subclasses are defined


class Module:
    """Base class: subclasses define `named_parameters()`, and to be saved and loaded,
    `CONFIG` (the attribute names `config()` returns) and `parameter_count`."""

    CONFIG = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        REGISTRY[cls.__name__] = cls

    @classmethod
    def parameter_count(cls, **config):
        """The number of parameters a model built from `config` has, computed without
        building it; raises TypeError/ValueError for a config that builds no model."""
        raise NotImplementedError(f"{cls.__name__} does not count its parameters")

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

    def config(self):
        """The constructor arguments that rebuild this module's architecture (a JSON-able
        dict); `type(self)(**config)` gives a model with the same parameter names."""
        if not self.CONFIG:
            raise NotImplementedError(f"{type(self).__name__} does not describe its architecture")
        return {k: _copy(getattr(self, k)) for k in self.CONFIG}

    def save(self, path):
        """Write architecture and numbers to `path` as JSON with a checksum, atomically: a
        failed save leaves any existing file whole, and errors name `path`."""
        name = type(self).__name__
        if REGISTRY.get(name) is not type(self) or not self.CONFIG:
            raise TypeError(f"cannot save a {name}: it is not a registered Module class "
                            "with a CONFIG")
        checkpoint.write(path, name, self.config(), self.state_dict())

    @classmethod
    def load(cls, path, *, max_parameters=MAX_PARAMETERS):
        """A new model built from a file written by `save`; the file must hold this class
        (or a subclass). Raises `CheckpointError` naming the file and the problem for an
        empty, truncated, corrupt, altered or inconsistent file, or one whose model would
        exceed `max_parameters` (None: no cap); `FileNotFoundError` if there is no file."""
        path = os.fspath(path)
        doc = checkpoint.read(path, max_parameters)
        klass = REGISTRY.get(doc.cls)
        if klass is None:
            known = ", ".join(n for n, c in REGISTRY.items() if c.CONFIG)
            raise CheckpointError(f"{path}: unknown model class {shorten(doc.cls)}; "
                                  f"expected one of {known}")
        if not issubclass(klass, cls):
            raise CheckpointError(f"{path}: holds a {klass.__name__}, not a {cls.__name__}")
        extra = [k for k in doc.config if k not in klass.CONFIG]
        if extra:
            raise CheckpointError(f"{path}: unexpected key(s) in the config of a "
                                  f"{klass.__name__}: {', '.join(map(shorten, extra[:5]))}")
        try:
            n = klass.parameter_count(**doc.config)
        except (TypeError, ValueError) as e:
            raise CheckpointError(f"{path}: bad architecture in \"config\": {e}") from None
        if max_parameters is not None and n > max_parameters:
            raise CheckpointError(f"{path}: its architecture has {n} parameters, more than "
                                  f"max_parameters={max_parameters}")
        if n != len(doc.parameters):
            raise CheckpointError(f"{path}: architecture {shorten(doc.config, 200)} has {n} "
                                  f"parameters but the file holds {len(doc.parameters)}")
        try:
            # seed=0: the drawn numbers are overwritten below, no need to spend entropy on
            # them; the size was checked against max_parameters above.
            model = klass(**doc.config, seed=0, max_parameters=None)
        except (TypeError, ValueError) as e:
            raise CheckpointError(f"{path}: bad architecture in \"config\": {e}") from None
        try:
            model.load_state_dict(doc.parameters)
        except (TypeError, ValueError) as e:
            raise CheckpointError(f"{path}: parameters do not fit the architecture "
                                  f"{model.config()}: {e}") from None
        return model

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


def check_max_parameters(cls, count, max_parameters, config):
    """Refuse to build a `cls` of `count` parameters above the cap, before allocating."""
    if max_parameters is None:
        return
    if type(max_parameters) is not int or max_parameters < 1:
        raise ValueError(f"max_parameters must be a positive int or None, got {max_parameters!r}")
    if count > max_parameters:
        args = ", ".join(f"{k}={shorten(v, 40)}" for k, v in config.items())
        raise ValueError(f"{cls.__name__}({args}) would have {count:,} parameters, more than "
                         f"max_parameters={max_parameters:,}; pass max_parameters=None to "
                         "build it anyway")


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
                            f"{type(v).__name__}: {shorten(v)}")
        try:
            finite = math.isfinite(v)
        except OverflowError:  # an int too large for a float
            finite = False
        if not finite:
            raise ValueError(f"state dict key {n!r}: expected a finite number, got "
                             f"{shorten(v)}")


def _copy(v):
    return list(v) if isinstance(v, list) else v


def _few(names, k=5):
    shown = ", ".join(shorten(n) for n in names[:k])
    return shown + (f", ... ({len(names) - k} more)" if len(names) > k else "")
