"""W1, micrograd's own demo: moons, 2-16-16-1 ReLU MLP, max-margin loss + 1e-4·L2, full-batch
SGD with lr = 1 - 0.9k/100. Every contender starts from the same U(-1, 1) weights."""
from . import floor, ours, peers, weights

try:  # imported here, not in data(), so the suite's gc.freeze() covers sklearn's objects too
    from sklearn.datasets import make_moons
except ImportError:
    from nn.data import make_moons as _nn_make_moons
    make_moons = None

NIN, NOUTS, ALPHA, SEED = 2, [16, 16, 1], 1e-4, 1337


def data(n=100, noise=0.1):
    """(X, Y): moons as lists of floats, labels ±1 (micrograd's demo uses y*2 - 1)."""
    if make_moons is not None:
        X, y = make_moons(n_samples=n, noise=noise, random_state=SEED)
        X, y = X.tolist(), y.tolist()
    else:
        X, y = _nn_make_moons(n, noise, SEED)
    return [[float(a), float(b)] for a, b in X], [2 * int(v) - 1 for v in y]


def demo_loss(model, params, X, Y):
    """The demo's loss: the max-margin loss's mean over the samples + ALPHA·L2."""
    scores = [model(x) for x in X]
    losses = [(1 + -yi * si).relu() for yi, si in zip(Y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + ALPHA * sum(p * p for p in params)


def scalar_train(model, params, X, Y, steps):
    """The demo's loop, written once for every scalar engine (micrograd's and ours)."""
    history = []
    for k in range(steps):
        total = demo_loss(model, params, X, Y)
        for p in params:
            p.grad = 0.0
        total.backward()
        history.append(total.data)
        lr = 1.0 - 0.9 * k / 100
        for p in params:
            p.data -= lr * p.grad
    return history


def contenders(X, Y, steps):
    """{name: setup}; see timing.interleaved. Each run returns the loss of every step."""
    flat = weights.micrograd_uniform(NIN, NOUTS, SEED)
    out, notes = {}, {}

    def floor_setup():
        net = weights.layers(flat, NIN, NOUTS)
        return lambda: floor.train_moons(net, X, Y, steps, ALPHA)
    out["floor"] = floor_setup

    if peers.micrograd:
        def micrograd_setup():
            model, params, replayed = weights.micrograd_mlp(flat, NIN, NOUTS, SEED)
            notes["micrograd's own init equals the shared weights"] = replayed
            return lambda: scalar_train(model, params, X, Y, steps)
        out["micrograd"] = micrograd_setup

    if peers.torch:
        out["torch per-sample"] = lambda: _torch(flat, X, Y, steps, batched=False)
        out["torch batched"] = lambda: _torch(flat, X, Y, steps, batched=True)

    for fused in (True, False):
        def ours_setup(fused=fused):
            model, params = ours.mlp(flat, NIN, NOUTS, fused)
            return lambda: scalar_train(model, params, X, Y, steps)
        out["ours fused" if fused else "ours unfused"] = ours_setup
    return out, notes


def _torch(flat, X, Y, steps, batched):
    """PyTorch float64 eager: one batch-1 graph per sample summed into one loss, or batched."""
    torch = peers.torch
    params, net = peers.torch_mlp(weights.layers(flat, NIN, NOUTS))
    n = len(X)
    xs = [torch.tensor(x, dtype=torch.float64) for x in X]
    Xt = torch.tensor(X, dtype=torch.float64)
    Yt = torch.tensor(Y, dtype=torch.float64).unsqueeze(1)

    def run():
        history = []
        for k in range(steps):
            if batched:
                data_loss = torch.relu(1 - Yt * net(Xt)).sum() * (1.0 / n)
            else:
                losses = [torch.relu(1 - y * net(x)) for x, y in zip(xs, Y)]
                data_loss = torch.stack(losses).sum() * (1.0 / n)
            total = data_loss + ALPHA * sum((p * p).sum() for p in params)
            for p in params:
                p.grad = None
            total.backward()
            history.append(total.item())
            lr = 1.0 - 0.9 * k / 100
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
        return history
    return run
