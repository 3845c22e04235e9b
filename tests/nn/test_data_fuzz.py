"""Fuzzing the IDX reader: random headers and bodies, gzipped or not. A file either loads
as exactly what it holds or raises IdxFormatError (a ValueError) naming it; nothing reads
more than the header allows."""
import gzip
import struct

from hypothesis import HealthCheck, given, settings, strategies as st

from nn.data import IMAGES_MAGIC, LABELS_MAGIC, IdxFormatError, load_idx

FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
MAX = 4096  # bytes of data any fuzzed file may promise: nothing can grow large


def _load(tmp_path, images, labels):
    (tmp_path / "i").write_bytes(images)
    (tmp_path / "l").write_bytes(labels)
    try:
        return load_idx(tmp_path / "i", tmp_path / "l", max_bytes=MAX)
    except IdxFormatError as e:
        assert str(tmp_path) in str(e) and "\n" not in str(e)
        return None


def _maybe_gzip(raw, zipped):
    return gzip.compress(raw, mtime=0) if zipped else raw


magics = st.sampled_from([IMAGES_MAGIC, LABELS_MAGIC]) | st.integers(0, 2 ** 32 - 1)
small_dims = st.integers(0, 20)
any_dims = small_dims | st.integers(0, 2 ** 32 - 1)


@given(images=st.binary(max_size=200), labels=st.binary(max_size=50),
       zipped=st.tuples(st.booleans(), st.booleans()))
@FUZZ
def test_random_bytes(tmp_path, images, labels, zipped):
    _load(tmp_path, _maybe_gzip(images, zipped[0]), _maybe_gzip(labels, zipped[1]))


@given(magic=magics, dims=st.tuples(any_dims, any_dims, any_dims), n_labels=any_dims,
       extra=st.integers(-5, 5), body=st.binary(max_size=64), zipped=st.booleans())
@FUZZ
def test_random_headers_and_bodies(tmp_path, magic, dims, n_labels, extra, body, zipped):
    want = dims[0] * dims[1] * dims[2]
    size = max(0, want + extra) if want <= MAX else len(body)
    images = struct.pack(">4I", magic, *dims) + (body * (size // max(1, len(body)) + 1))[:size]
    labels = struct.pack(">2I", LABELS_MAGIC, n_labels) + bytes(min(n_labels, MAX))
    got = _load(tmp_path, _maybe_gzip(images, zipped), _maybe_gzip(labels, zipped))
    well_formed = (magic == IMAGES_MAGIC and extra == 0 and want <= MAX and dims[1] and dims[2]
                   and n_labels == dims[0] and len(images) == 16 + want and len(body) > 0)
    if got is not None:
        X, y = got
        assert magic == IMAGES_MAGIC and len(X) == dims[0] == len(y) and want <= MAX
        assert b"".join(bytes(round(p * 255) for p in x) for x in X) == images[16:]
    elif well_formed:
        raise AssertionError("a well-formed pair of files was refused")


@given(n=st.integers(1, 5), rows=st.integers(1, 6), cols=st.integers(1, 6), data=st.data(),
       zipped=st.booleans())
@FUZZ
def test_well_formed_files_load_as_written(tmp_path, n, rows, cols, data, zipped):
    pixels = data.draw(st.binary(min_size=n * rows * cols, max_size=n * rows * cols))
    labels = data.draw(st.binary(min_size=n, max_size=n))
    X, y = _load(tmp_path, _maybe_gzip(struct.pack(">4I", IMAGES_MAGIC, n, rows, cols) + pixels,
                                       zipped),
                 _maybe_gzip(struct.pack(">2I", LABELS_MAGIC, n) + labels, zipped))
    assert y == list(labels) and (X.rows, X.cols) == (rows, cols)
    assert [round(p * 255) for x in X for p in x] == list(pixels)


@given(n=st.integers(1, 5), flips=st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255)),
                                           min_size=1, max_size=3),
       cut=st.none() | st.integers(0, 10 ** 6))
@FUZZ
def test_damaged_gzip(tmp_path, n, flips, cut):
    raw = bytearray(gzip.compress(struct.pack(">4I", IMAGES_MAGIC, n, 2, 2) + bytes(range(4 * n)),
                                  mtime=0))
    for at, byte in flips:
        raw[at % len(raw)] = byte
    if cut is not None:
        raw = raw[:cut % len(raw)]
    got = _load(tmp_path, bytes(raw), struct.pack(">2I", LABELS_MAGIC, n) + bytes(n))
    if got is not None:  # a flip the gzip format does not check (its header's flags, mtime)
        assert [round(p * 255) for x in got[0] for p in x] == list(range(4 * n))
