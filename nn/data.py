"""Datasets as plain Python lists, plus splitting and minibatches.

    >>> X, y = make_moons(100, noise=0.1, seed=0)         # X: [[x1, x2], ...], y: [0, 1, ...]
    >>> X, y = load_digits()                              # 1797 8x8 images, pixels in [0, 1]
    >>> (Xtr, ytr), (Xte, yte) = load_fashion_mnist()     # 60000 + 10000 28x28 images

Every function that shuffles takes a seed and uses its own `random.Random`, never the
global RNG.

IDX files are read as a stream: the header is checked first, then exactly the number of
bytes it promises is read (gzip through a streaming decompressor), never more than
`max_bytes` (default `MAX_IDX_BYTES`, 1 GiB; Fashion-MNIST's training images are 47 MB), so
a small gzip bomb or a lying header cannot fill the memory. A bad file raises
`IdxFormatError` (a ValueError) naming the file; a missing one FileNotFoundError.
"""
import gzip
import math
import os
import random
import struct
import zlib
from collections.abc import Sequence
from numbers import Real

from autograd.files import NotRegularFile, open_regular

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801
MAX_IDX_BYTES = 1 << 30
_PIXEL = [i / 255.0 for i in range(256)]  # shared floats: a 784-pixel row costs 784 pointers


class IdxFormatError(ValueError):
    """An IDX file that cannot be used: bad magic, truncated, oversized, corrupt gzip."""


def make_moons(n=100, noise=None, seed=None, shuffle=True):
    """Two interleaving half circles, built as scikit-learn's `make_moons` builds them: the
    upper moon (label 0) on the unit circle's top half, the lower moon (label 1) shifted to
    (1, 0.5) and flipped, shuffled, then Gaussian noise of standard deviation `noise` added to
    every coordinate. Our RNG is Python's, so the numbers differ from scikit-learn's for the
    same seed, the shape does not."""
    if type(n) is not int or n < 2:
        raise ValueError(f"make_moons: n must be an int >= 2, got {n!r}")
    if noise is not None and (isinstance(noise, bool) or not isinstance(noise, Real)
                              or not 0 <= noise < math.inf):
        raise ValueError(f"make_moons: noise must be a finite number >= 0, got {noise!r}")
    rng = random.Random(seed)
    n_out = n // 2
    n_in = n - n_out
    X = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, math.pi, n_out)]
    X += [[1.0 - math.cos(t), 1.0 - math.sin(t) - 0.5] for t in _linspace(0.0, math.pi, n_in)]
    y = [0] * n_out + [1] * n_in
    if shuffle:
        order = list(range(n))
        rng.shuffle(order)
        X, y = [X[i] for i in order], [y[i] for i in order]
    if noise:
        X = [[a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)] for a, b in X]
    return X, y


def _linspace(start, stop, num):
    if num == 1:
        return [start]
    step = (stop - start) / (num - 1)
    return [start + i * step for i in range(num - 1)] + [stop]


def load_digits():
    """scikit-learn's bundled 8x8 digits: 1797 rows of 64 pixels scaled from 0..16 to
    [0, 1], and labels 0-9."""
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError:
        raise ImportError("load_digits needs scikit-learn: pip install 'chainrule[data]' "
                          "(or pip install scikit-learn)") from None
    d = sk_load_digits()
    X = [[float(v) / 16.0 for v in row] for row in d.data.tolist()]
    return X, [int(t) for t in d.target.tolist()]


class IdxImages(Sequence):
    """MNIST-format images kept as bytes; `images[i]` is a list of rows*cols floats in
    [0, 1] (pixel / 255), made when asked for. 60,000 images cost 47 MB this way instead of
    the 400+ MB of nested float lists."""

    def __init__(self, pixels, count, rows, cols):
        self._pixels, self._n, self.rows, self.cols = pixels, count, rows, cols
        self._size = rows * cols

    def __len__(self):
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(f"image index {i} out of range for {self._n} images")
        start = i * self._size
        return [_PIXEL[b] for b in self._pixels[start:start + self._size]]

    def __repr__(self):
        return f"IdxImages({self._n} images of {self.rows}x{self.cols})"


def _read_idx(path, magic, ndim, max_bytes):
    """(dims, payload) of an IDX file, gzip-compressed or raw, checked against its header."""
    path = os.fspath(path)
    try:
        f, st = open_regular(path)
    except NotRegularFile:
        raise IdxFormatError(f"{path}: not a regular file; IDX files are regular files") from None
    with f:
        zipped = f.read(2) == b"\x1f\x8b"
        f.seek(0)
        stream = gzip.GzipFile(fileobj=f, mode="rb") if zipped else f
        try:
            return _read_idx_stream(path, stream, magic, ndim, max_bytes,
                                    None if zipped else st.st_size)
        except (EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise IdxFormatError(f"{path}: corrupt or truncated gzip data ({e})") from None
        except OSError as e:
            if zipped and e.filename is None:  # the decompressor's, not the disk's
                raise IdxFormatError(f"{path}: corrupt or truncated gzip data ({e})") from None
            raise


def _read_idx_stream(path, stream, magic, ndim, max_bytes, size):
    header = 4 + 4 * ndim
    head = stream.read(header)
    if len(head) < header:
        raise IdxFormatError(f"{path}: truncated IDX header ({len(head)} bytes, need {header})")
    (got,) = struct.unpack(">I", head[:4])
    if got != magic:
        raise IdxFormatError(f"{path}: bad magic number 0x{got:08x}, expected 0x{magic:08x} "
                             f"({'images' if magic == IMAGES_MAGIC else 'labels'} IDX file)")
    dims = struct.unpack(f">{ndim}I", head[4:])
    shape = " x ".join(map(str, dims))
    if ndim == 3 and not (dims[1] and dims[2]):
        raise IdxFormatError(f"{path}: images of {dims[1]}x{dims[2]} pixels hold nothing")
    want = math.prod(dims)
    if want > max_bytes:
        raise IdxFormatError(f"{path}: header promises {shape} = {want} bytes of data, more "
                             f"than max_bytes={max_bytes}")
    if size is not None and size != header + want:  # raw: the size is known before reading
        if size < header + want:
            raise IdxFormatError(f"{path}: truncated: header promises {shape} = {want} bytes "
                                 f"of data, file holds {size - header}")
        raise IdxFormatError(f"{path}: {size - header - want} unexpected bytes after the "
                             f"{shape} data")
    payload = stream.read(want)
    if len(payload) < want:
        raise IdxFormatError(f"{path}: truncated: header promises {shape} = {want} bytes of "
                             f"data, file holds {len(payload)}")
    if stream.read(1):
        raise IdxFormatError(f"{path}: unexpected bytes after the {shape} data")
    return dims, payload


def load_idx(images_path, labels_path, *, max_bytes=MAX_IDX_BYTES):
    """MNIST-format images (magic 0x00000803) and labels (magic 0x00000801), `.gz` or raw
    (detected from the content). Returns (images, labels): `IdxImages` (a sequence of
    pixel lists scaled to [0, 1]) and a list of ints. A file whose header promises more than
    `max_bytes` bytes of data is refused before its data is read."""
    (n, rows, cols), pixels = _read_idx(images_path, IMAGES_MAGIC, 3, max_bytes)
    (m,), labels = _read_idx(labels_path, LABELS_MAGIC, 1, max_bytes)
    if n != m:
        raise IdxFormatError(f"{os.fspath(images_path)} holds {n} images but "
                             f"{os.fspath(labels_path)} holds {m} labels")
    return IdxImages(pixels, n, rows, cols), list(labels)


def load_fashion_mnist(root=FASHION_MNIST_DIR):
    """((train_X, train_y), (test_X, test_y)) from Debian's dataset-fashion-mnist files."""
    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    paths = [os.path.join(root, n) for n in names]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise FileNotFoundError(f"Fashion-MNIST not found: missing {', '.join(missing)}. "
                                "Install it with: apt-get install dataset-fashion-mnist")
    return load_idx(paths[0], paths[1]), load_idx(paths[2], paths[3])


def train_test_split(X, y, test_fraction=0.2, seed=0):
    """A seeded shuffle cut into (X_train, y_train), (X_test, y_test)."""
    if len(X) != len(y):
        raise ValueError(f"train_test_split: {len(X)} samples but {len(y)} labels")
    if not 0 < test_fraction < 1:
        raise ValueError(f"train_test_split: test_fraction must be in (0, 1), got {test_fraction!r}")
    order = list(range(len(X)))
    random.Random(seed).shuffle(order)
    cut = len(X) - max(1, round(len(X) * test_fraction))
    if cut < 1:
        raise ValueError(f"train_test_split: {len(X)} samples leave none for training with "
                         f"test_fraction={test_fraction!r}")
    tr, te = order[:cut], order[cut:]
    return ([X[i] for i in tr], [y[i] for i in tr]), ([X[i] for i in te], [y[i] for i in te])


def minibatches(X, y, batch_size, shuffle=True, seed=None):
    """Yield (xs, ys) lists of up to `batch_size` samples; `seed` may be an int or a
    `random.Random` (pass one shared RNG for a different order each epoch)."""
    if type(batch_size) is not int or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if len(X) != len(y):
        raise ValueError(f"minibatches: {len(X)} samples but {len(y)} labels")
    order = list(range(len(X)))
    if shuffle:
        (seed if isinstance(seed, random.Random) else random.Random(seed)).shuffle(order)
    for s in range(0, len(order), batch_size):
        idx = order[s:s + batch_size]
        yield [X[i] for i in idx], [y[i] for i in idx]
