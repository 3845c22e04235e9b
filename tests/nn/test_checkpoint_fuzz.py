"""Fuzzing the model loader: whatever a file holds, loading it returns the saved model or
raises CheckpointError (FileNotFoundError for a missing file), quickly, and never changes a
model it was loading into or the file itself."""
import json

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from nn import MLP, CheckpointError, Layer, Neuron
from nn import checkpoint
from nn.module import Module

MODEL = MLP(3, [4, 2], activation="tanh", seed=0)
FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = (st.none() | st.booleans() | st.integers() | st.integers(-10 ** 400, 10 ** 400)
           | st.floats() | st.text(max_size=12))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=20)


def _good_doc():
    return {"format": checkpoint.FORMAT, "version": checkpoint.VERSION, "class": "MLP",
            "config": MODEL.config(), "parameters": MODEL.state_dict(),
            "sha256": checkpoint.checksum("MLP", MODEL.config(), MODEL.state_dict())}


def _paths(doc, prefix=()):
    """Every (path, value) inside a JSON document, the root included."""
    yield prefix, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def _replace(doc, path, value):
    if not path:
        return value
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def _load_checked(path, target=None):
    """Load `path`; only a model or CheckpointError may come out. On failure, `target`
    (a model the numbers would have gone into) and the file are unchanged."""
    raw = path.read_bytes()
    before = target.state_dict() if target is not None else None
    try:
        model = MLP.load(path, max_parameters=10_000)
    except CheckpointError as e:
        assert str(path) in str(e) and "\n" not in str(e) and len(str(e)) < 1000
        if target is not None:  # the numbers, read into a model anyway, all go in or none
            try:
                params = json.loads(raw, parse_constant=float)["parameters"]
            except (ValueError, TypeError, KeyError, RecursionError):
                params = None  # no numbers to try
            try:
                target.load_state_dict(params)
            except (ValueError, TypeError):
                assert target.state_dict() == before
        model = None
    assert path.read_bytes() == raw  # loading never writes
    return model


def _dump(doc):
    try:
        return json.dumps(doc).encode()
    except (ValueError, RecursionError):  # a float json cannot write: not a JSON document
        assume(False)


@given(doc=json_values)
@FUZZ
def test_random_json_documents(tmp_path, doc):
    path = tmp_path / "m.json"
    path.write_bytes(_dump(doc))
    assert _load_checked(path) is None


@given(data=st.data(), value=json_values, resign=st.booleans())
@FUZZ
def test_a_real_file_with_one_part_replaced(tmp_path, data, value, resign):
    """Replace one part of a real model file by random JSON; re-signing the checksum lets
    the architecture and parameter checks behind it see the change."""
    doc = _good_doc()
    where, old = data.draw(st.sampled_from(list(_paths(doc))), label="path")
    doc = _replace(doc, where, value)
    if resign and isinstance(doc, dict) and {"class", "config", "parameters"} <= set(doc):
        try:
            doc["sha256"] = checkpoint.checksum(doc["class"], doc["config"], doc["parameters"])
        except (ValueError, RecursionError):
            pass
    path = tmp_path / "m.json"
    path.write_bytes(_dump(doc))
    target = MLP(3, [4, 2], activation="tanh", seed=7)
    model = _load_checked(path, target if where[:1] == ("parameters",) else None)
    if model is not None:  # loaded: then it is the model the document describes
        assert model.state_dict() == {k: float(v) for k, v in doc["parameters"].items()}
        assert model.config() == doc["config"] or json.dumps(model.config()) == \
            json.dumps(doc["config"])


@given(flips=st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255)), min_size=1,
                      max_size=3))
@FUZZ
def test_random_byte_flips_of_a_real_file(tmp_path, flips):
    path = tmp_path / "m.json"
    MODEL.save(path)
    raw = bytearray(path.read_bytes())
    for at, byte in flips:
        raw[at % len(raw)] = byte
    assume(bytes(raw) != path.read_bytes())
    path.write_bytes(bytes(raw))
    model = _load_checked(path, MLP(3, [4, 2], activation="tanh", seed=7))
    if model is not None:  # only a harmless change (whitespace, 1e-05 as 1E-05) may load
        assert (model.config(), model.state_dict()) == (MODEL.config(), MODEL.state_dict())


@given(cut=st.integers(0, 10 ** 6))
@FUZZ
def test_truncated_files(tmp_path, cut):
    path = tmp_path / "m.json"
    MODEL.save(path)
    raw = path.read_bytes()
    kept = raw[:cut % len(raw)]
    path.write_bytes(kept)
    model = _load_checked(path)
    if kept.strip() == raw.strip():  # only the final newline went
        assert model.state_dict() == MODEL.state_dict()
    else:
        assert model is None


@given(cls=st.sampled_from([MLP, Layer, Neuron, Module]), doc=json_values)
@FUZZ
def test_every_class_loader_raises_only_checkpoint_error(tmp_path, cls, doc):
    path = tmp_path / "m.json"
    path.write_bytes(_dump({**_good_doc(), "class": cls.__name__, "config": doc}))
    with pytest.raises(CheckpointError):
        cls.load(path)


def test_three_thousand_byte_flips_none_loads_as_another_model(tmp_path):
    import os
    import random
    path = tmp_path / "m.json"
    MODEL.save(path)
    raw = path.read_bytes()
    rng = random.Random(0)
    refused = same = 0
    fd = os.open(path, os.O_WRONLY)
    try:
        for _ in range(3000):
            i = rng.randrange(len(raw))
            os.pwrite(fd, bytes([rng.choice([v for v in range(256) if v != raw[i]])]), i)
            try:
                got = MLP.load(path)
            except CheckpointError:
                refused += 1
            else:
                assert (got.config(), got.state_dict()) == (MODEL.config(), MODEL.state_dict())
                same += 1
            os.pwrite(fd, raw[i:i + 1], i)
    finally:
        os.close(fd)
    assert refused + same == 3000 and same < 30, same
