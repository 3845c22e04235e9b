"""A small training loop that drives a live view through its four callbacks, as fit does."""
import random

from nn import MLP
from nn.data import load_digits, make_moons, minibatches, train_test_split
from nn.optim import Adam
from nn.train import accuracy, loss_for, predict


def moons(n=200, seed=0):
    X, y = make_moons(n, noise=0.1, seed=seed)
    return train_test_split(X, y, 0.2, seed=seed)


def digits(n=400):
    X, y = load_digits()
    return train_test_split(X[:n], y[:n], 0.2, seed=0)


def train(view, data, model, *, epochs, batch_size=16, lr=0.02, seed=0):
    """Train with Adam, calling view.on_start/on_step/on_epoch/on_end; returns the history
    (one row per epoch, as fit's) and every step's loss."""
    (Xtr, ytr), (Xte, yte) = data
    opt = Adam(model.parameters(), lr)
    n_batches = -(-len(Xtr) // batch_size)
    if view is not None:
        view.on_start(model, Xtr, ytr, Xte, yte, total_steps=epochs * n_batches)
    rng = random.Random(seed)
    history, losses, step = [], [], 0
    for epoch in range(1, epochs + 1):
        total, correct = 0.0, 0
        for xb, yb in minibatches(Xtr, ytr, batch_size, seed=rng):
            batch = None
            for x, t in zip(xb, yb):
                out = model(x)
                correct += predict(out) == t
                l = loss_for(out, t)
                batch = l if batch is None else batch + l
            total += batch.data
            mean = batch / len(xb)
            opt.zero_grad()
            mean.backward()
            opt.step()
            step += 1
            losses.append(mean.data)
            if view is not None:
                view.on_step(step, mean.data)
        row = {"epoch": epoch, "loss": total / len(Xtr), "train_accuracy": correct / len(Xtr),
               "test_accuracy": accuracy(model, Xte, yte), "seconds": 0.0}
        history.append(row)
        if view is not None:
            view.on_epoch(row)
    if view is not None:
        view.on_end()
    return history, losses


def moons_model(seed=0):
    return MLP(2, [8, 8, 1], seed=seed)
