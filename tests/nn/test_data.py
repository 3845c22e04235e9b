import gzip
import math
import random
import struct

import pytest

from nn.data import (FASHION_MNIST_DIR, load_digits, load_fashion_mnist, load_idx, make_moons,
                     minibatches, train_test_split)


def test_make_moons_shape_and_seed():
    X, y = make_moons(101, noise=0.1, seed=3)
    assert len(X) == 101 and all(len(x) == 2 and all(type(v) is float for v in x) for x in X)
    assert sorted(set(y)) == [0, 1] and y.count(0) == 50 and y.count(1) == 51
    assert make_moons(101, noise=0.1, seed=3) == (X, y)
    assert make_moons(101, noise=0.1, seed=4) != (X, y)


def test_make_moons_noise_free_points_lie_on_the_moons():
    X, y = make_moons(40, noise=None, seed=0)
    for (a, b), t in zip(X, y):
        cx, cy = (0.0, 0.0) if t == 0 else (1.0, 0.5)
        assert math.hypot(a - cx, b - cy) == pytest.approx(1.0)
        assert (b >= -1e-12) if t == 0 else (b <= 0.5 + 1e-12)
    assert [1.0, 0.0] in X and [-1.0, 0.0] in [[round(a, 12), round(b, 12)] for a, b in X]


def test_load_digits():
    X, y = load_digits()
    assert len(X) == 1797 == len(y) and all(len(x) == 64 for x in X)
    flat = [v for x in X for v in x]
    assert min(flat) == 0.0 and max(flat) == 1.0 and all(type(v) is float for v in X[0])
    assert sorted(set(y)) == list(range(10))


def _idx(path, magic, dims, payload, compress):
    raw = struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims) + bytes(payload)
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


@pytest.mark.parametrize("compress", [True, False])
def test_load_idx_round_trip(tmp_path, compress):
    rng = random.Random(0)
    pixels = [rng.randrange(256) for _ in range(3 * 4 * 5)]
    ext = ".gz" if compress else ""
    imgs = _idx(tmp_path / f"i{ext}", 0x803, (3, 4, 5), pixels, compress)
    labs = _idx(tmp_path / f"l{ext}", 0x801, (3,), [7, 0, 9], compress)
    X, y = load_idx(imgs, labs)
    assert y == [7, 0, 9] and len(X) == 3 and (X.rows, X.cols) == (4, 5)
    assert X[1] == [p / 255 for p in pixels[20:40]]
    assert X[-1] == X[2] and X[0:2] == [X[0], X[1]] and list(X) == [X[0], X[1], X[2]]
    with pytest.raises(IndexError):
        X[3]


def test_load_idx_errors_name_the_file(tmp_path):
    rng = random.Random(0)
    good_i = _idx(tmp_path / "gi", 0x803, (2, 2, 2), range(8), False)
    good_l = _idx(tmp_path / "gl", 0x801, (2,), [1, 2], False)
    cases = [
        (_idx(tmp_path / "magic", 0x801, (2, 2, 2), range(8), False), good_l, "bad magic number 0x00000801"),
        (good_i, _idx(tmp_path / "lmagic", 0x803, (2,), [1, 2], False), "bad magic number 0x00000803"),
        (_idx(tmp_path / "short", 0x803, (2, 2, 2), range(7), False), good_l, "truncated: .* 8 bytes"),
        (_idx(tmp_path / "long", 0x803, (2, 2, 2), range(9), False), good_l, "1 unexpected bytes"),
        (good_i, _idx(tmp_path / "count", 0x801, (3,), [1, 2, 3], True), "holds 2 images but .* 3 labels"),
    ]
    header = tmp_path / "header"
    header.write_bytes(b"\x00\x00\x08")
    cases.append((header, good_l, "truncated IDX header"))
    gz = tmp_path / "cut.gz"
    gz.write_bytes(gzip.compress(bytes(100))[:-10])
    cases.append((gz, good_l, "corrupt or truncated gzip"))
    idx = struct.pack(">4I", 0x803, 16, 8, 8) + bytes(rng.randrange(256) for _ in range(1024))
    flipped = bytearray(gzip.compress(idx))
    flipped[-60:-20] = bytes(b ^ 0xFF for b in flipped[-60:-20])  # zlib.error, not OSError
    bad = tmp_path / "flipped.gz"
    bad.write_bytes(bytes(flipped))
    cases.append((bad, good_l, "corrupt or truncated gzip"))
    for imgs, labs, message in cases:
        with pytest.raises(ValueError, match=message) as info:
            load_idx(imgs, labs)
        assert any(str(p) in str(info.value) for p in (imgs, labs) if p not in (good_i, good_l))
    with pytest.raises(FileNotFoundError, match="nope"):
        load_idx(tmp_path / "nope", good_l)


def test_load_fashion_mnist_real_files():
    (Xtr, ytr), (Xte, yte) = load_fashion_mnist()
    assert (len(Xtr), len(ytr), len(Xte), len(yte)) == (60000, 60000, 10000, 10000)
    assert (Xtr.rows, Xtr.cols) == (28, 28) and len(Xtr[0]) == 784
    assert sorted(set(ytr)) == list(range(10)) and sorted(set(yte)) == list(range(10))
    assert ytr[0] == 9 and yte[0] == 9  # both files start with an ankle boot
    assert all(0.0 <= v <= 1.0 for v in Xtr[0]) and max(Xtr[0]) == 1.0


def test_load_fashion_mnist_missing_says_what_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(tmp_path)
    assert FASHION_MNIST_DIR == "/usr/share/datasets/fashion-mnist"


def test_split_and_minibatches():
    X = [[float(i)] for i in range(10)]
    y = list(range(10))
    (Xtr, ytr), (Xte, yte) = train_test_split(X, y, 0.3, seed=1)
    assert len(Xte) == 3 and sorted(ytr + yte) == y
    assert all(x == [float(t)] for x, t in zip(Xtr + Xte, ytr + yte))
    assert train_test_split(X, y, 0.3, seed=1) == ((Xtr, ytr), (Xte, yte))
    batches = list(minibatches(X, y, 4, seed=0))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert sorted(t for _, ys in batches for t in ys) == y
    assert batches == list(minibatches(X, y, 4, seed=0))
    assert [t for _, ys in minibatches(X, y, 4, shuffle=False) for t in ys] == y
    with pytest.raises(ValueError, match="batch_size"):
        list(minibatches(X, y, 0))


def test_split_refuses_to_leave_no_training_data():
    with pytest.raises(ValueError, match="3 samples leave none for training"):
        train_test_split([[0.0]] * 3, [0] * 3, test_fraction=0.9)


def _gzip_stream(path, head, zeros):
    """A gzip file of `head` followed by `zeros` zero bytes, compressed a chunk at a time."""
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(head)
        chunk = bytes(1 << 20)
        for _ in range(zeros >> 20):
            f.write(chunk)
    return path


def test_a_gzip_bomb_is_read_no_further_than_its_header_allows(tmp_path):
    import tracemalloc
    labels = _idx(tmp_path / "l", 0x801, (1,), [3], False)
    # one 28x28 image, then 200 MB of zeros, in a 200 KB file
    bomb = _gzip_stream(tmp_path / "bomb.gz", struct.pack(">4I", 0x803, 1, 28, 28) + bytes(784),
                        200 << 20)
    assert bomb.stat().st_size < 400_000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="bomb.gz: unexpected bytes after the 1 x 28 x 28 data"):
            load_idx(bomb, labels)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, peak
    # a header promising more than max_bytes is refused before any data is read
    liar = _gzip_stream(tmp_path / "liar.gz", struct.pack(">4I", 0x803, 60000, 280, 280), 1 << 20)
    with pytest.raises(ValueError, match=r"liar.gz: header promises 60000 x 280 x 280 = "
                       r"4704000000 bytes of data, more than max_bytes=1073741824"):
        load_idx(liar, labels)
    with pytest.raises(ValueError, match="more than max_bytes=100"):
        load_idx(_idx(tmp_path / "i", 0x803, (1, 28, 28), bytes(784), False), labels, max_bytes=100)


def test_idx_readers_refuse_what_is_not_a_regular_file(tmp_path):
    import os
    import threading
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    labels = _idx(tmp_path / "l", 0x801, (1,), [3], False)
    for path in [fifo, "/dev/zero", tmp_path]:
        out = []
        t = threading.Thread(target=lambda: out.append(pytest.raises(ValueError, load_idx,
                                                                     path, labels)), daemon=True)
        t.start()
        t.join(10)
        assert not t.is_alive() and out, f"load_idx({path}) did not return"
        assert str(out[0].value) == f"{path}: not a regular file; IDX files are regular files"
    with pytest.raises(ValueError, match="images of 0x28 pixels hold nothing"):
        load_idx(_idx(tmp_path / "empty", 0x803, (1, 0, 28), [], False), labels)


@pytest.mark.parametrize("noise", [math.inf, -math.inf, math.nan, -0.1, "0.1", True])
def test_make_moons_refuses_noise_that_is_not_a_finite_number(noise):
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        make_moons(10, noise=noise)
