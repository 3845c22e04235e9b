import math

from nn import MLP, hinge_loss
from nn.data import make_moons, train_test_split
from nn.optim import SGD
from nn.train import accuracy, fit, predict


def test_moons_with_micrograds_recipe():
    """micrograd's demo: 2-16-16-1 ReLU, uniform init, hinge loss + 1e-4 L2, full-batch SGD
    with lr 1.0 - 0.9 k/100 for 100 steps."""
    X, y = make_moons(100, noise=0.1, seed=0)
    y = [2 * t - 1 for t in y]  # hinge wants ±1
    model = MLP(2, [16, 16, 1], init="uniform", seed=1337)
    params = model.parameters()
    opt = SGD(params, lr=1.0)
    for k in range(100):
        scores = [model(x) for x in X]
        data_loss = hinge_loss(scores, y)
        reg = 1e-4 * sum(p * p for p in params)
        loss = data_loss + reg
        opt.zero_grad()
        loss.backward()
        opt.lr = 1.0 - 0.9 * k / 100
        opt.step()
    scores = [model(x) for x in X]
    acc = sum((s.data > 0) == (t > 0) for s, t in zip(scores, y)) / len(y)
    assert acc >= 0.95, acc
    assert loss.data < 0.1


def test_fit_binary_and_history():
    (Xtr, ytr), (Xte, yte) = train_test_split(*make_moons(200, noise=0.1, seed=1), seed=1)
    model = MLP(2, [16, 16, 1], seed=0)
    lines = []
    history = fit(model, Xtr, ytr, Xte, yte, epochs=30, batch_size=16, lr=0.02, optimizer="adam",
                  progress=False, log=lines.append)
    assert [h["epoch"] for h in history] == list(range(1, 31)) and len(lines) == 30
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[-1]["test_accuracy"] >= 0.95
    assert history[-1]["test_accuracy"] == accuracy(model, Xte, yte)
    assert all(0 <= h["train_accuracy"] <= 1 and math.isfinite(h["loss"]) for h in history)


def test_fit_is_reproducible():
    X, y = make_moons(60, noise=0.2, seed=2)
    runs = []
    for _ in range(2):
        model = MLP(2, [8, 2], seed=3)  # two logits: cross-entropy
        fit(model, X, y, epochs=3, batch_size=7, lr=0.05, momentum=0.9, progress=False, log=None)
        runs.append(model.state_dict())
    assert runs[0] == runs[1]


def test_predict():
    from autograd import Value
    assert predict([Value(0.1), Value(2.0), Value(-1.0)]) == 1
    assert predict(Value(0.3)) == 1 and predict(Value(-0.3)) == 0
