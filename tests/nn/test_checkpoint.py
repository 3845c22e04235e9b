import ast
import json
import math
import os
import stat
import threading

import pytest
from hypothesis import given, strategies as st

from autograd.files import UnwritablePath
from nn import MLP, CheckpointError, Layer, Neuron
from nn import checkpoint
from nn.module import MAX_PARAMETERS, REGISTRY, Module


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


def _signed(doc):
    """`doc` with its checksum recomputed, as if saved so: the checks behind it get a turn."""
    doc["sha256"] = checkpoint.checksum(doc["class"], doc["config"], doc["parameters"])
    return doc


def _bad_files(tmp_path):
    """(name, writer, expected error type, message regexp) for each kind of bad file."""
    path, doc = _good_file(tmp_path)
    text = path.read_text()

    def edit(f):
        d = json.loads(text)
        f(d)
        return lambda p: _write(p, _signed(d))

    return [
        ("empty", lambda p: p.write_text(""), CheckpointError, "is empty"),
        ("truncated", lambda p: p.write_text(text[: len(text) // 2]), CheckpointError,
         r"truncated JSON at line 1 column \d+"),
        ("corrupt", lambda p: p.write_text(text.replace(":", ";", 3)), CheckpointError,
         r"corrupt JSON at line 1 column \d+"),
        ("binary", lambda p: p.write_bytes(b"\xff\xfe\x00garbage"), CheckpointError, "not a text file"),
        ("not ours", lambda p: _write(p, [1, 2, 3]), CheckpointError, "not a chainrule nn model file"),
        ("version", edit(lambda d: d.update(version=99)), CheckpointError, "unsupported format version 99"),
        ("bool version", edit(lambda d: d.update(version=True)), CheckpointError,
         "unsupported format version True"),
        ("changed number", lambda p: p.write_text(text.replace("0.", "0.1", 1)), CheckpointError,
         "checksum mismatch: the file was changed or damaged after it was saved"),
        ("changed activation", lambda p: p.write_text(text.replace('"tanh"', '"relu"')),
         CheckpointError, "checksum mismatch"),
        ("no checksum", lambda p: _write(p, {k: v for k, v in json.loads(text).items()
                                             if k != "sha256"}), CheckpointError,
         "not a version 2 model file: missing 'sha256'"),
        ("v1 with checksum", edit(lambda d: d.update(version=1)), CheckpointError,
         "not a version 1 model file: unexpected 'sha256'"),
        ("extra key", edit(lambda d: d.update(comment="hi")), CheckpointError,
         "unexpected 'comment'"),
        ("class is a list", edit(lambda d: d.update({"class": []})), CheckpointError,
         "\"class\" must be a string, got list"),
        ("config is a list", edit(lambda d: d.update(config=[])), CheckpointError,
         "\"config\" must be an object, got list"),
        ("parameters null", edit(lambda d: d.update(parameters=None)), CheckpointError,
         "\"parameters\" must be an object, got null"),
        ("config key", edit(lambda d: d["config"].update(max_parameters=None)), CheckpointError,
         "unexpected key.*config of a MLP: 'max_parameters'"),
        ("nouts a string", edit(lambda d: d["config"].update(nouts="42")), CheckpointError,
         "bad architecture.*nouts must be a list of layer sizes, got str"),
        ("nouts an int", edit(lambda d: d["config"].update(nouts=4)), CheckpointError,
         "bad architecture.*nouts must be a list of layer sizes, got int"),
        ("huge nin", edit(lambda d: d["config"].update(nin=10 ** 400)), CheckpointError,
         "bad architecture.*MLP nin must be a positive int.*a huge int"),
        ("too big", edit(lambda d: d["config"].update(nouts=[10 ** 6, 10 ** 6])), CheckpointError,
         "1000005000000 parameters, more than max_parameters=10000000"),
        ("no nin", edit(lambda d: d["config"].pop("nin")), CheckpointError,
         "bad architecture.*nin"),
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
        ("huge signed", edit(lambda d: d["parameters"].update({"layers.0.neurons.0.b": 10 ** 400})),
         CheckpointError, "layers.0.neurons.0.b.*finite"),
    ]


def test_each_bad_file_is_refused_with_file_and_problem_named(tmp_path):
    for name, write, error, message in _bad_files(tmp_path):
        bad = tmp_path / f"bad-{name.replace(' ', '-')}.json"
        write(bad)
        with pytest.raises(error, match=message) as info:
            MLP.load(bad)
        assert str(bad) in str(info.value), name
        assert len(str(info.value)) < 400, name  # a huge number in a file is not echoed


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        MLP.load(tmp_path / "nope.json")
    assert "nope.json" in str(info.value)


def test_loading_bad_parameters_into_a_model_leaves_it_unchanged(tmp_path):
    from nn.checkpoint import read
    m = _model(seed=5)
    before = m.state_dict()
    for name, write, _, _ in _bad_files(tmp_path):
        if name in ("class", "shape", "bad config", "config key", "nouts a string", "nouts an int",
                    "huge nin", "too big", "no nin"):  # only the config is wrong; the numbers fit m
            continue
        bad = tmp_path / "bad.json"
        write(bad)
        with pytest.raises((ValueError, TypeError)):
            m.load_state_dict(read(bad).parameters)
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
        raise OSError(28, "No space left on device", src)
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(UnwritablePath) as info:
        m.save(path)
    # the error names the target, not the temporary file it was writing
    assert str(info.value) == f"cannot write {path}: No space left on device"
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
    with pytest.raises(UnwritablePath, match=f"cannot write {target}: the folder .*nodir does not"):
        _model().save(target)


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
    path.write_text(json.dumps(_signed(doc)))
    with pytest.raises(CheckpointError, match="fused must be True or False"):
        MLP.load(path)


def test_numpy_numbers_load_as_floats():
    import numpy as np  # scikit-learn, a test dependency, brings it
    m = _model()
    m.load_state_dict({k: np.float32(0.5) for k in m.state_dict()})
    assert all(type(v) is float and v == 0.5 for v in m.state_dict().values())


def test_save_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    _model(seed=1).save(target)
    link.symlink_to(target)
    m = _model(seed=2)
    m.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert MLP.load(target).state_dict() == m.state_dict()


def test_save_refuses_devices_and_fifos_and_leaves_them_be(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for path, kind in [(fifo, "a FIFO"), ("/dev/null", "a device")]:
        before = os.stat(path)
        with pytest.raises(UnwritablePath, match=f"cannot write {path}: it is {kind}"):
            _model().save(path)
        after = os.stat(path)
        assert (after.st_mode, after.st_ino, after.st_rdev) == \
            (before.st_mode, before.st_ino, before.st_rdev)
    assert os.listdir(tmp_path) == ["pipe"]


def test_a_long_legal_name_saves(tmp_path):
    path = tmp_path / ("m" * 240 + ".json")  # 245 characters; the limit is 255
    _model().save(path)
    assert MLP.load(path).state_dict() == _model().state_dict()
    assert os.listdir(tmp_path) == [path.name]


def test_version_1_files_without_a_checksum_still_load(tmp_path):
    path, doc = _good_file(tmp_path)
    del doc["sha256"]
    doc["version"] = 1
    _write(path, doc)
    assert MLP.load(path).state_dict() == _model(seed=1).state_dict()
    doc["parameters"]["layers.0.neurons.0.b"] = 0.25  # nothing to check it against
    _write(path, doc)
    assert MLP.load(path).layers[0].neurons[0].b.data == 0.25


def _finishes(fn, seconds=10):
    """Run fn in a thread; fail (rather than hang the suite) if it has not returned."""
    out = {}

    def run():
        try:
            fn()
        except BaseException as e:  # handed to the test below
            out["error"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still running after {seconds} s"
    return out.get("error")


def test_loading_a_fifo_or_a_device_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)  # no writer: open() without O_NONBLOCK would wait forever
    for path, kind in [(fifo, "a FIFO"), ("/dev/zero", "a device"), (tmp_path, "a directory")]:
        error = _finishes(lambda: MLP.load(path))
        assert isinstance(error, CheckpointError), error
        assert str(error) == f"{path}: not a regular file ({kind}); model files are regular files"


def test_a_file_larger_than_the_cap_allows_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.json"
    limit = checkpoint.max_bytes(100)
    assert limit == checkpoint.HEADER_BYTES + checkpoint.BYTES_PER_PARAMETER * 100
    path.write_bytes(b" " * (limit + 1))
    reads = []
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: reads.append(a) or real_fdopen(*a, **k))
    with pytest.raises(CheckpointError, match=f"big.json: {limit + 1} bytes is larger than a "
                       f"model file of at most 100 parameters can be \\({limit} bytes\\)"):
        MLP.load(path, max_parameters=100)
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match="is empty"):  # without the cap it is read
        MLP.load(path, max_parameters=None)
    # the default cap admits any file a model under MAX_PARAMETERS could save
    assert checkpoint.max_bytes(MAX_PARAMETERS) > 10 ** 8


def test_the_default_cap_admits_real_files_and_max_parameters_is_applied(tmp_path):
    path = tmp_path / "m.json"
    MLP(64, [16, 16, 10], seed=0).save(path)
    per_parameter = (path.stat().st_size - 300) / 1482
    assert per_parameter < checkpoint.BYTES_PER_PARAMETER / 1.5, per_parameter
    assert len(MLP.load(path).parameters()) == 1482
    with pytest.raises(CheckpointError, match="1482 parameters, more than max_parameters=1000"):
        MLP.load(path, max_parameters=1000)


def test_module_classes_register_themselves_and_load_by_name(tmp_path):
    assert {"Neuron", "Layer", "MLP"} <= set(REGISTRY)

    class WideMLP(MLP):
        pass

    assert REGISTRY["WideMLP"] is WideMLP
    m = WideMLP(2, [3, 1], seed=4)
    m.save(tmp_path / "w.json")
    back = MLP.load(tmp_path / "w.json")  # a subclass loads through its base
    assert type(back) is WideMLP and back.state_dict() == m.state_dict()
    with pytest.raises(CheckpointError, match="holds a MLP, not a WideMLP"):
        _model().save(tmp_path / "m.json")
        WideMLP.load(tmp_path / "m.json")

    class NotSavable(Module):
        pass
    with pytest.raises(TypeError, match="cannot save a NotSavable"):
        NotSavable().save(tmp_path / "n.json")


@given(nin=st.integers(1, 6), nouts=st.lists(st.integers(1, 5), min_size=1, max_size=3))
def test_parameter_count_is_computed_from_the_config_alone(nin, nouts):
    for cls, config in [(MLP, {"nin": nin, "nouts": nouts}),
                        (Layer, {"nin": nin, "nout": nouts[0]}), (Neuron, {"nin": nin})]:
        model = cls(**config, seed=0)
        assert cls.parameter_count(**model.config()) == len(model.parameters())
        assert set(model.config()) == set(cls.CONFIG)


def test_checkpoint_is_pure_io_importing_nothing_from_nn():
    tree = ast.parse(open(checkpoint.__file__, encoding="utf-8").read())
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m.startswith("nn") or m == ""], imported
    tree = ast.parse(open(Module.__module__ and __import__("nn.module").module.__file__).read())
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "mlp"]


def test_every_byte_flip_of_a_model_file_fails_or_loads_the_same_model(tmp_path):
    """Four new values at every position of a small file (a digit one off, a letter's case,
    the lowest bit, a byte drawn at random): nothing loads as another model."""
    import random
    rng = random.Random(0)
    path = tmp_path / "m.json"
    m = MLP(1, [1], seed=3)
    m.save(path)
    raw = path.read_bytes()
    same = 0
    bad = tmp_path / "bad.json"
    for i in range(len(raw)):
        for b in {raw[i] ^ 1, raw[i] ^ 0x20, (raw[i] + 1) % 256, rng.randrange(256)}:
            if b == raw[i]:
                continue
            bad.write_bytes(raw[:i] + bytes([b]) + raw[i + 1:])
            try:
                got = MLP.load(bad)
            except CheckpointError:
                continue
            assert (got.config(), got.state_dict()) == (m.config(), m.state_dict()), (i, b)
            same += 1
    # what may change harmlessly: whitespace, and the e of an exponent (1e-05 / 1E-05)
    assert same < len(raw)
