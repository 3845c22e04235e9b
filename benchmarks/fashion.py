"""W2, the digit network: 784-16-16-10, ReLU, per-sample SGD with softmax cross-entropy on
the first Fashion-MNIST training images (pixels / 255). Same He-uniform weights for all."""
import gzip
import os
import struct

from . import floor, ours, peers, weights

NIN, NOUTS, LR, SEED = 784, [16, 16, 10], 0.01, 7
ROOT = "/usr/share/datasets/fashion-mnist"


def data(n, root=ROOT):
    """The first `n` training images (lists of 784 floats in [0, 1]) and their labels."""
    images_path = os.path.join(root, "train-images-idx3-ubyte.gz")
    labels_path = os.path.join(root, "train-labels-idx1-ubyte.gz")
    for p in (images_path, labels_path):
        if not os.path.exists(p):
            raise FileNotFoundError(f"{p} is missing: install Debian's dataset-fashion-mnist "
                                    f"(apt-get install dataset-fashion-mnist)")
    with gzip.open(images_path) as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 2051 or rows * cols != NIN or count < n:
            raise ValueError(f"{images_path}: not {n}+ 28x28 IDX images (magic {magic}, "
                             f"{count} of {rows}x{cols})")
        pixels = f.read(n * NIN)
    with gzip.open(labels_path) as f:
        magic, count = struct.unpack(">II", f.read(8))
        if magic != 2049 or count < n:
            raise ValueError(f"{labels_path}: not {n}+ IDX labels (magic {magic}, {count})")
        labels = list(f.read(n))
    if len(pixels) != n * NIN or len(labels) != n:
        raise ValueError(f"{images_path}: truncated")
    images = [[p / 255 for p in pixels[i * NIN:(i + 1) * NIN]] for i in range(n)]
    return images, labels


def scalar_train(model, params, images, labels, cross_entropy):
    """Per-sample SGD, written once for every scalar engine. Returns each sample's loss."""
    history = []
    for x, t in zip(images, labels):
        loss = cross_entropy(model(x), t)
        loss.backward()
        history.append(loss.data)
        for p in params:
            p.data -= LR * p.grad
            p.grad = 0.0
    return history


def contenders(images, labels, micrograd_n):
    """{name: setup}; each run returns the per-sample losses. micrograd gets the first
    `micrograd_n` images only (it needs minutes for 200)."""
    flat = weights.he_uniform(NIN, NOUTS, SEED)
    out, notes = {}, {}

    def floor_setup():
        net = weights.layers(flat, NIN, NOUTS)
        return lambda: floor.train_fashion(net, images, labels, LR)
    out["floor"] = floor_setup

    if peers.torch:
        out["torch batch-1"] = lambda: _torch(flat, images, labels)

    def ours_setup():
        model, params = ours.mlp(flat, NIN, NOUTS, fused=True)
        return lambda: scalar_train(model, params, images, labels, ours.cross_entropy)
    out["ours fused"] = ours_setup

    if peers.micrograd:
        def micrograd_setup():
            model, params, _ = weights.micrograd_mlp(flat, NIN, NOUTS, SEED)
            return lambda: scalar_train(model, params, images[:micrograd_n],
                                        labels[:micrograd_n], _micrograd_cross_entropy)
        out["micrograd"] = micrograd_setup
    return out, notes


def _micrograd_cross_entropy(logits, t):
    m = max(z.data for z in logits)
    return peers.mg_log(sum(peers.mg_exp(z + (-m)) for z in logits)) + m - logits[t]


def _torch(flat, images, labels):
    """PyTorch float64 eager, one sample per graph (batch size 1)."""
    torch = peers.torch
    F = torch.nn.functional
    params, net = peers.torch_mlp(weights.layers(flat, NIN, NOUTS))
    xs = [torch.tensor([x], dtype=torch.float64) for x in images]
    ts = [torch.tensor([t]) for t in labels]

    def run():
        history = []
        for x, t in zip(xs, ts):
            loss = F.cross_entropy(net(x), t)
            loss.backward()
            history.append(loss.item())
            with torch.no_grad():
                for p in params:
                    p -= LR * p.grad
                    p.grad = None
        return history
    return run
