import json
import math
import os

import pytest
from hypothesis import given, strategies as st

from nn import MLP, CheckpointError, Layer, Neuron


def _model(seed=0):
    return MLP(3, [4, 2], activation="tanh", seed=seed)


def test_round_trip(tmp_path):
    m = _model()
    path = tmp_path / "m.json"
    m.save(path)
    back = MLP.load(path)
    assert back.state_dict() == m.state_dict()  # exact: JSON keeps repr-exact floats
    assert back.config() == m.config()
    assert [o.data for o in back([0.1, 0.2, 0.3])] == [o.data for o in m([0.1, 0.2, 0.3])]
    assert [p.label for p in back.parameters()] == [p.label for p in m.parameters()]
    doc = json.loads(path.read_text())
    assert doc["class"] == "MLP" and doc["config"]["nouts"] == [4, 2]
    assert [f for f in os.listdir(tmp_path)] == ["m.json"]  # no temp file left behind


def test_neuron_and_layer_round_trip(tmp_path):
    for m, cls in [(Neuron(3, "sigmoid", seed=1), Neuron), (Layer(2, 3, None, seed=2), Layer)]:
        m.save(tmp_path / "x.json")
        assert cls.load(tmp_path / "x.json").state_dict() == m.state_dict()
    with pytest.raises(CheckpointError, match="holds a Layer, not a MLP"):
        MLP.load(tmp_path / "x.json")


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=26, max_size=26))
def test_state_dict_round_trip_any_finite_numbers(numbers):
    m = _model()
    sd = dict(zip(m.state_dict(), numbers))
    m.load_state_dict(sd)
    assert m.state_dict() == sd


@pytest.mark.parametrize("change, error, message", [
    (lambda sd: sd.pop("layers.0.neurons.1.w.2"), ValueError, "missing 1 key.*layers.0.neurons.1.w.2"),
    (lambda sd: sd.update({"layers.2.neurons.0.b": 1.0}), ValueError, "unexpected 1 key.*layers.2"),
    (lambda sd: sd.update({"layers.1.neurons.0.b": "1.0"}), TypeError, "layers.1.neurons.0.b.*str"),
    (lambda sd: sd.update({"layers.1.neurons.0.b": None}), TypeError, "layers.1.neurons.0.b.*NoneType"),
    (lambda sd: sd.update({"layers.1.neurons.0.b": True}), TypeError, "layers.1.neurons.0.b.*bool"),
    (lambda sd: sd.update({"layers.0.neurons.0.w.0": math.nan}), ValueError, "w.0.*finite"),
    (lambda sd: sd.update({"layers.0.neurons.0.w.0": math.inf}), ValueError, "w.0.*finite"),
    (lambda sd: sd.update({"layers.0.neurons.0.w.0": 10 ** 400}), ValueError, "w.0.*finite"),
])
def test_load_state_dict_refuses_and_leaves_model_unchanged(change, error, message):
    m = _model()
    before = m.state_dict()
    sd = {k: v + 1.0 for k, v in before.items()}  # valid numbers, so a partial write would show
    change(sd)
    with pytest.raises(error, match=message):
        m.load_state_dict(sd)
    assert m.state_dict() == before


def _good_file(tmp_path):
    path = tmp_path / "model.json"
    _model(seed=1).save(path)
    return path, json.loads(path.read_text())


def _write(path, doc):
    path.write_text(json.dumps(doc))


def _bad_files(tmp_path):
    """(name, writer, expected error type, message regexp) for each kind of bad file."""
    path, doc = _good_file(tmp_path)
    text = path.read_text()

    def edit(f):
        d = json.loads(text)
        f(d)
        return lambda p: _write(p, d)

    return [
        ("empty", lambda p: p.write_text(""), CheckpointError, "is empty"),
        ("truncated", lambda p: p.write_text(text[: len(text) // 2]), CheckpointError,
         r"truncated JSON at line 1 column \d+"),
        ("corrupt", lambda p: p.write_text(text.replace(":", ";", 3)), CheckpointError,
         r"corrupt JSON at line 1 column \d+"),
        ("binary", lambda p: p.write_bytes(b"\xff\xfe\x00garbage"), CheckpointError, "not a text file"),
        ("not ours", lambda p: _write(p, [1, 2, 3]), CheckpointError, "not a chainrule nn model file"),
        ("version", edit(lambda d: d.update(version=99)), CheckpointError, "unsupported format version 99"),
        ("class", edit(lambda d: d.update({"class": "Transformer"})), CheckpointError, "unknown model class"),
        ("shape", edit(lambda d: d["config"].update(nouts=[5, 2])), CheckpointError,
         "architecture .* has 32 parameters but the file holds 26"),
        ("bad config", edit(lambda d: d["config"].update(activation="swish")), CheckpointError,
         "bad architecture.*swish"),
        ("missing key", edit(lambda d: d["parameters"].pop("layers.1.neurons.1.b")), CheckpointError,
         "26 parameters but the file holds 25"),
        ("renamed key", edit(lambda d: d["parameters"].update(
            {"layers.1.neurons.1.bias": d["parameters"].pop("layers.1.neurons.1.b")})),
         CheckpointError, "missing 1 key.*layers.1.neurons.1.b'.*unexpected 1 key.*bias"),
        ("string", edit(lambda d: d["parameters"].update({"layers.0.neurons.0.b": "0.5"})),
         CheckpointError, "layers.0.neurons.0.b.*str"),
        ("null", edit(lambda d: d["parameters"].update({"layers.0.neurons.0.b": None})),
         CheckpointError, "layers.0.neurons.0.b.*NoneType"),
        ("bool", edit(lambda d: d["parameters"].update({"layers.0.neurons.0.b": True})),
         CheckpointError, "layers.0.neurons.0.b.*bool"),
        ("NaN", lambda p: p.write_text(text.replace("0.0", "NaN", 1)), CheckpointError, "NaN"),
        ("huge", lambda p: p.write_text(text.replace("0.0", "1e999", 1)), CheckpointError, "finite"),
    ]


def test_each_bad_file_is_refused_with_file_and_problem_named(tmp_path):
    for name, write, error, message in _bad_files(tmp_path):
        bad = tmp_path / f"bad-{name.replace(' ', '-')}.json"
        write(bad)
        with pytest.raises(error, match=message) as info:
            MLP.load(bad)
        assert str(bad) in str(info.value), name


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        MLP.load(tmp_path / "nope.json")
    assert "nope.json" in str(info.value)


def test_loading_bad_parameters_into_a_model_leaves_it_unchanged(tmp_path):
    from nn.checkpoint import read
    m = _model(seed=5)
    before = m.state_dict()
    for name, write, _, _ in _bad_files(tmp_path):
        if name in ("shape", "bad config"):  # only the config is wrong; the numbers fit m
            continue
        bad = tmp_path / "bad.json"
        write(bad)
        with pytest.raises((ValueError, TypeError)):
            _, _, params = read(bad)
            m.load_state_dict(params)
        assert m.state_dict() == before, name


def test_failed_save_leaves_old_file_whole(tmp_path, monkeypatch):
    path, _ = _good_file(tmp_path)
    old = path.read_bytes()
    m = _model(seed=2)
    m.layers[0].neurons[0].b.data = math.nan
    with pytest.raises(ValueError, match="layers.0.neurons.0.b.*not finite"):
        m.save(path)
    assert path.read_bytes() == old
    m.layers[0].neurons[0].b.data = 0.0

    def crash(src, dst):
        raise OSError("disk on fire")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk on fire"):
        m.save(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["model.json"]  # the temp file was cleaned up
    monkeypatch.undo()
    m.save(path)
    assert MLP.load(path).state_dict() == m.state_dict()


def test_saved_file_gets_an_ordinary_mode_or_keeps_the_old_one(tmp_path):
    umask = os.umask(0o022)
    try:
        path = tmp_path / "m.json"
        _model().save(path)
        assert path.stat().st_mode & 0o777 == 0o644  # as open() would make it, not mkstemp's 0600
        os.chmod(path, 0o640)
        _model(seed=1).save(path)
        assert path.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(umask)


def test_save_into_a_missing_directory_names_the_target(tmp_path):
    target = tmp_path / "nodir" / "m.json"
    with pytest.raises(FileNotFoundError) as info:
        _model().save(target)
    assert info.value.filename == str(target) and "cannot save the model" in str(info.value)


def test_deeply_nested_json_is_corrupt_not_a_crash(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CheckpointError, match="deep.json: corrupt JSON: nested too deeply"):
        MLP.load(path)


def test_fused_must_be_a_bool_in_code_and_in_files(tmp_path):
    with pytest.raises(TypeError, match="fused must be True or False, got 'no'"):
        MLP(2, [3, 1], fused="no")
    path = tmp_path / "m.json"
    _model().save(path)
    doc = json.loads(path.read_text())
    doc["config"]["fused"] = "no"
    path.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match="fused must be True or False"):
        MLP.load(path)


def test_numpy_numbers_load_as_floats():
    import numpy as np  # scikit-learn, a test dependency, brings it
    m = _model()
    m.load_state_dict({k: np.float32(0.5) for k in m.state_dict()})
    assert all(type(v) is float and v == 0.5 for v in m.state_dict().values())
