"""Model files: JSON holding the architecture and every parameter's number.

    {"format": "chainrule-nn", "version": 1, "class": "MLP",
     "config": {"nin": 64, "nouts": [16, 16, 10], ...},
     "parameters": {"layers.0.neurons.0.w.0": 0.123, ...}}

Saving writes a temporary file next to the target, fsyncs it and renames it over the
target, so a crash or error mid-save leaves the old file whole. Loading checks the whole
file before building anything and names the file and the problem in every error.
"""
import json
import math
import os
import tempfile

FORMAT, VERSION = "chainrule-nn", 1


class CheckpointError(ValueError):
    """A model file that exists but cannot be used: empty, corrupt, wrong format or shape."""


def _classes():
    from .mlp import MLP, Layer, Neuron
    return {"MLP": MLP, "Layer": Layer, "Neuron": Neuron}


def save(model, path):
    path = os.fspath(path)
    name = type(model).__name__
    if name not in _classes():
        raise TypeError(f"cannot save a {name}: only {', '.join(_classes())} are supported")
    params = model.state_dict()
    for key, v in params.items():
        if not math.isfinite(v):
            raise ValueError(f"cannot save {path}: parameter {key!r} is {v!r} (not finite)")
    doc = {"format": FORMAT, "version": VERSION, "class": name, "config": model.config(),
           "parameters": params}
    text = json.dumps(doc, allow_nan=False) + "\n"  # repr-exact floats: a round trip is lossless
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                                   dir=folder)
    except OSError as e:
        raise type(e)(e.errno, f"cannot save the model: {e.strerror}", path) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file 0600; give it the mode a plain open() would (or the mode
        # of the file it replaces), so saving does not make a model private.
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable; not every filesystem allows fsync on a directory
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def _mode_for(path):
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def read(path):
    """The checked contents of a model file: (class, config, parameters)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(2, "model file not found", path) from None
    if not raw.strip():
        raise CheckpointError(f"{path}: model file is empty")
    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError as e:
        raise CheckpointError(f"{path}: not a text file (byte {e.start} is not UTF-8)") from None
    except json.JSONDecodeError as e:
        # save() always ends the file with "}": a file that stops short was cut off
        what = "corrupt" if raw.rstrip().endswith(b"}") else "truncated"
        raise CheckpointError(f"{path}: {what} JSON at line {e.lineno} column {e.colno}: "
                              f"{e.msg}") from None
    except ValueError as e:
        raise CheckpointError(f"{path}: {e}") from None
    except RecursionError:
        raise CheckpointError(f"{path}: corrupt JSON: nested too deeply") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a chainrule nn model file (no \"format\": "
                              f"\"{FORMAT}\")")
    if doc.get("version") != VERSION:
        raise CheckpointError(f"{path}: unsupported format version {doc.get('version')!r} "
                              f"(this chainrule reads version {VERSION})")
    cls_name, config, params = doc.get("class"), doc.get("config"), doc.get("parameters")
    classes = _classes()
    if cls_name not in classes:
        raise CheckpointError(f"{path}: unknown model class {cls_name!r}; expected one of "
                              f"{', '.join(classes)}")
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: \"config\" must be an object, got {_kind(config)}")
    if not isinstance(params, dict):
        raise CheckpointError(f"{path}: \"parameters\" must be an object, got {_kind(params)}")
    return classes[cls_name], config, params


def load(path, expect=None):
    """A new model built from the file at `path`; `expect` (a class) must match its class."""
    path = os.fspath(path)
    cls, config, params = read(path)
    if expect is not None and not issubclass(cls, expect):
        raise CheckpointError(f"{path}: holds a {cls.__name__}, not a {expect.__name__}")
    expected = _count(config)
    if expected is not None and expected != len(params):
        raise CheckpointError(f"{path}: architecture {config} has {expected} parameters but the "
                              f"file holds {len(params)}")
    try:
        # seed=0: the drawn numbers are overwritten below, no need to spend entropy on them
        model = cls(**config, seed=0)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: bad architecture in \"config\": {e}") from None
    try:
        model.load_state_dict(params)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: parameters do not fit the architecture "
                              f"{model.config()}: {e}") from None
    return model


def _count(config):
    """Parameters implied by a config, checked before building so that a corrupt size
    cannot make us allocate a huge model; None when the config is too odd to say."""
    try:
        if "nouts" in config:
            sizes = [config["nin"], *config["nouts"]]
        elif "nout" in config:
            sizes = [config["nin"], config["nout"]]
        else:
            sizes = [config["nin"], 1]
        if not all(type(n) is int and n >= 1 for n in sizes):
            return None
        return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    except (KeyError, TypeError):
        return None


def _refuse_constant(name):
    raise ValueError(f"{name} is not a valid parameter value")


def _kind(x):
    return type(x).__name__ if x is not None else "null"
