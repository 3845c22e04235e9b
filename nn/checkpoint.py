"""Model files: a JSON document holding a model's class, architecture and numbers.

    {"format": "chainrule-nn", "version": 2, "class": "MLP",
     "config": {"nin": 64, "nouts": [16, 16, 10], ...},
     "parameters": {"layers.0.neurons.0.w.0": 0.123, ...},
     "sha256": "5f1c..."}

This module only reads, writes and checks documents; turning one into a model is the
model classes' business (`Module.save`, `MLP.load`). `write` goes through
`autograd.files.write_atomic`, so a failed save leaves the old file whole and a symlink's
target is replaced, never the link. `read` opens regular files only (a FIFO or a device
would block or never end), refuses a file larger than its byte bound before reading it,
and names the file and the problem in every error.

`sha256` is the SHA-256 of the canonical encoding of class, config and parameters (`canonical`):
any change to a number, a name or the architecture after saving makes the file fail to
load instead of loading as a different model. Version 1 files, written before the checksum
existed, are still read (they have nothing to verify); saving always writes version 2.

Errors: `CheckpointError` (a ValueError) for a file that exists but cannot be used,
`FileNotFoundError` for a missing one, other `OSError`s when the file cannot be read.
"""
import hashlib
import json
import math
import os
import reprlib
from collections import namedtuple

from autograd.files import NotRegularFile, open_regular, write_atomic

FORMAT, VERSION = "chainrule-nn", 2
READABLE_VERSIONS = (1, 2)
KEYS = {1: {"format", "version", "class", "config", "parameters"}}
KEYS[2] = KEYS[1] | {"sha256"}

# A saved parameter takes about 50 bytes (a name like "layers.2.neurons.15.w.783", the
# shortest repr of a float, separators); 96 leaves room for long names. The bound on a
# model file for at most n parameters is HEADER_BYTES + BYTES_PER_PARAMETER * n.
BYTES_PER_PARAMETER = 96
HEADER_BYTES = 64 * 1024

Document = namedtuple("Document", "cls config parameters version")


class CheckpointError(ValueError):
    """A model file that exists but cannot be used: empty, corrupt, changed after saving,
    too large, wrong format or shape."""


def max_bytes(max_parameters):
    """The largest file `read` accepts for a model of at most `max_parameters` (None: any)."""
    return None if max_parameters is None else HEADER_BYTES + BYTES_PER_PARAMETER * max_parameters


def canonical(cls, config, parameters):
    """The bytes the checksum covers: one encoding per document, whatever its layout."""
    return json.dumps([cls, config, parameters], sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("ascii")


def checksum(cls, config, parameters):
    return hashlib.sha256(canonical(cls, config, parameters)).hexdigest()


def write(path, cls, config, parameters):
    """Write a document atomically; `parameters` maps names to finite floats."""
    shown = os.fspath(path)
    for key, v in parameters.items():
        if not math.isfinite(v):
            raise ValueError(f"cannot save {shown}: parameter {key!r} is {v!r} (not finite)")
    doc = {"format": FORMAT, "version": VERSION, "class": cls, "config": config,
           "parameters": parameters, "sha256": checksum(cls, config, parameters)}
    # repr-exact floats: a round trip is lossless
    write_atomic(path, json.dumps(doc, allow_nan=False) + "\n")


def read(path, max_parameters=None):
    """The checked `Document` (cls, config, parameters, version) in the file at `path`.

    `max_parameters` bounds the file's size (see `max_bytes`) before anything is read.
    The document's shape and checksum are checked here; whether config and parameters fit
    a model class is for the caller to check.
    """
    path = os.fspath(path)
    raw = _read_bounded(path, max_bytes(max_parameters), max_parameters)
    if not raw.strip():
        raise CheckpointError(f"{path}: model file is empty")
    doc = _parse(path, raw)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a chainrule nn model file (no \"format\": "
                              f"\"{FORMAT}\")")
    version = doc.get("version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise CheckpointError(f"{path}: unsupported format version {shorten(version)} (this "
                              f"chainrule reads versions {', '.join(map(str, READABLE_VERSIONS))})")
    unexpected = sorted(set(doc) - KEYS[version])
    missing = sorted(KEYS[version] - set(doc))
    if unexpected or missing:
        what = "; ".join(filter(None, [
            missing and f"missing {', '.join(map(repr, missing))}",
            unexpected and f"unexpected {', '.join(shorten(k) for k in unexpected[:5])}"]))
        raise CheckpointError(f"{path}: not a version {version} model file: {what}")
    cls, config, params = doc["class"], doc["config"], doc["parameters"]
    if not isinstance(cls, str):
        raise CheckpointError(f"{path}: \"class\" must be a string, got {_kind(cls)}")
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: \"config\" must be an object, got {_kind(config)}")
    if not isinstance(params, dict):
        raise CheckpointError(f"{path}: \"parameters\" must be an object, got {_kind(params)}")
    if version >= 2:
        try:
            expected = checksum(cls, config, params)
        except ValueError:  # allow_nan=False: json.loads reads 1e999 as inf
            raise CheckpointError(f"{path}: corrupt: holds a number too large for a float "
                                  "(not finite)") from None
        except RecursionError:
            raise CheckpointError(f"{path}: corrupt JSON: nested too deeply") from None
        if doc["sha256"] != expected:
            raise CheckpointError(f"{path}: checksum mismatch: the file was changed or damaged "
                                  "after it was saved")
    return Document(cls, config, params, version)


def _read_bounded(path, limit, max_parameters):
    try:
        f, st = open_regular(path)
    except FileNotFoundError:
        raise FileNotFoundError(2, "model file not found", path) from None
    except NotRegularFile as e:
        raise CheckpointError(f"{path}: not a regular file ({e.kind}); "
                              "model files are regular files") from None
    with f:
        if limit is not None and st.st_size > limit:
            raise CheckpointError(f"{path}: {st.st_size} bytes is larger than a model file of "
                                  f"at most {max_parameters} parameters can be ({limit} bytes); "
                                  "max_parameters=None reads it anyway")
        raw = f.read() if limit is None else f.read(limit + 1)
    if limit is not None and len(raw) > limit:  # grew while we read it
        raise CheckpointError(f"{path}: larger than a model file of at most {max_parameters} "
                              f"parameters can be ({limit} bytes)")
    return raw


def _parse(path, raw):
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError as e:
        raise CheckpointError(f"{path}: not a text file (byte {e.start} is not UTF-8)") from None
    except json.JSONDecodeError as e:
        # write() always ends the file with "}": a file that stops short was cut off
        what = "corrupt" if raw.rstrip().endswith(b"}") else "truncated"
        raise CheckpointError(f"{path}: {what} JSON at line {e.lineno} column {e.colno}: "
                              f"{e.msg}") from None
    except ValueError as e:  # NaN/Infinity, an integer of more than 4300 digits
        raise CheckpointError(f"{path}: corrupt JSON: {e}") from None
    except RecursionError:
        raise CheckpointError(f"{path}: corrupt JSON: nested too deeply") from None


def _refuse_constant(name):
    raise ValueError(f"{name} is not a valid parameter value")


def _kind(x):
    return type(x).__name__ if x is not None else "null"


def shorten(x, n=80):
    """repr(x), cut to n characters: a corrupt file's values can be huge."""
    try:
        r = reprlib.repr(x)
    except ValueError:  # an int too long to print
        return f"<{type(x).__name__} too large to show>"
    return r if len(r) <= n else r[:n - 3] + "..."
