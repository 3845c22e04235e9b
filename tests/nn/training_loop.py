"""Data, a model and a fit run that drive a live view through its four callbacks."""
from nn import MLP
from nn.data import load_digits, make_moons, train_test_split
from nn.train import fit


def moons(n=200, seed=0):
    X, y = make_moons(n, noise=0.1, seed=seed)
    return train_test_split(X, y, 0.2, seed=seed)


def digits(n=400):
    X, y = load_digits()
    return train_test_split(X[:n], y[:n], 0.2, seed=0)


class _StepLosses:
    """A fit callback keeping every step's loss."""

    def __init__(self):
        self.losses = []

    def on_step(self, step, loss):
        self.losses.append(loss)


def train(view, data, model, *, epochs, batch_size=16, lr=0.02, seed=0, **fit_kw):
    """fit with Adam, driving `view` (or None) through its callbacks, and any other fit
    arguments; returns fit's history and every step's loss."""
    (Xtr, ytr), (Xte, yte) = data
    steps = _StepLosses()
    history = fit(model, Xtr, ytr, Xte, yte, epochs=epochs, batch_size=batch_size, lr=lr,
                  optimizer="adam", seed=seed, progress=False, log=None,
                  callbacks=[steps] + ([view] if view is not None else []), **fit_kw)
    return history, steps.losses


def moons_model(seed=0):
    return MLP(2, [8, 8, 1], seed=seed)
