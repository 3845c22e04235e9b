import math

import pytest

from nn import MLP, hinge_loss
from nn.data import make_moons, train_test_split
from nn.optim import SGD
from nn.train import Diverged, accuracy, fit, predict


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


def _moons(n=40):
    return make_moons(n, noise=0.1, seed=0)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"batch_size": 0}, ValueError, "fit: batch_size must be a positive int, got 0"),
    ({"batch_size": 2.0}, ValueError, "fit: batch_size must be a positive int, got 2.0"),
    ({"epochs": 1.5}, ValueError, "fit: epochs must be a positive int, got 1.5"),
    ({"epochs": True}, ValueError, "fit: epochs must be a positive int, got True"),
    ({"lr": math.inf}, ValueError, "fit: lr must be a finite number >= 0, got inf"),
    ({"lr": math.nan}, ValueError, "fit: lr must be a finite number"),
    ({"weight_decay": math.inf}, ValueError, "fit: weight_decay must be a finite number"),
    ({"momentum": -0.5}, ValueError, "fit: momentum must be a finite number >= 0"),
    ({"lr": "0.1"}, TypeError, "fit: lr must be a real number, got str"),
    ({"optimizer": "rmsprop"}, ValueError, "unknown optimizer 'rmsprop'; choose one of 'sgd', 'adam'"),
    ({"optimizer": "adam", "momentum": 0.9}, ValueError, "adam takes no momentum"),
    ({"lr_decay": "cosine"}, ValueError, "lr_decay must be None or 'linear'"),
    ({"X_test": [[0.0, 0.0]] * 3, "y_test": [0, 1]}, ValueError,
     "fit: 3 test samples but 2 test labels; they must pair up one to one"),
    ({"X_test": [[0.0, 0.0]]}, ValueError, "give both X_test and y_test, or neither"),
    ({"loss": "mse"}, TypeError, "loss must be a function"),
    ({"callbacks": object()}, TypeError, "callbacks must be a list of objects with any of "
                                         "on_start, on_step, on_epoch, on_end; got object"),
])
def test_fit_refuses_bad_arguments_before_training(kwargs, error, message):
    X, y = _moons()
    model = MLP(2, [4, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(error, match=message):
        fit(model, X, y, **{"epochs": 1, "progress": False, "log": None, **kwargs})
    assert model.state_dict() == before


def test_accuracy_refuses_unequal_lengths():
    model = MLP(2, [4, 1], seed=0)
    X, y = _moons(10)
    with pytest.raises(ValueError, match="accuracy: 10 samples but 9 labels"):
        accuracy(model, X, y[:9])
    with pytest.raises(ValueError, match="fit: 10 samples but 9 labels"):
        fit(model, X, y[:9], epochs=1, progress=False, log=None)


def test_divergence_names_epoch_and_step_and_suggests_a_smaller_lr():
    X, y = _moons(64)
    model = MLP(2, [8, 1], seed=0)
    with pytest.raises(Diverged, match=r"^training diverged in epoch 1, step 2 of 4: the loss is "
                       r"(nan|inf); try a smaller learning rate than 1e\+300$") as info:
        fit(model, X, y, epochs=3, batch_size=16, lr=1e300, progress=False, log=None)
    assert (info.value.epoch, info.value.step) == (1, 2)
    # a loss that raises on the nan a diverged model makes: still "diverged"
    from autograd import DomainError

    def strict(out, t):
        if not math.isfinite(out[t].data):
            raise DomainError(f"strict: output {out[t].data}")
        return out[t] * out[t]
    model = MLP(2, [4, 3], seed=0)
    model.layers[0].neurons[0].b.data = math.nan
    with pytest.raises(Diverged, match="epoch 1, step 1 of 3: the parameters are no longer "
                       "finite") as info:
        fit(model, X[:40], y[:40], epochs=1, batch_size=16, progress=False, log=None, loss=strict)
    assert isinstance(info.value.__cause__, DomainError)


def test_a_loss_error_with_finite_weights_is_not_called_divergence():
    from autograd import DomainError
    X, y = _moons(20)
    with pytest.raises(DomainError, match="log: operand must be > 0"):
        fit(MLP(2, [4, 1], seed=0), X, y, epochs=1, progress=False, log=None,
            loss=lambda out, t: (out * 0.0 - 1.0).log())


def test_callbacks_see_start_every_step_every_epoch_and_the_end():
    X, y = _moons(30)
    events = []

    class Recorder:
        def on_start(self, model, X, y, X_test, y_test, total_steps):
            events.append(("start", len(X), total_steps))

        def on_step(self, step, loss):
            assert math.isfinite(loss)
            events.append(("step", step))

        def on_epoch(self, record):
            events.append(("epoch", record["epoch"]))

        def on_end(self):
            events.append(("end",))

    class OnlySteps:
        def on_step(self, step, loss):
            events.append(("only", step))

    fit(MLP(2, [4, 1], seed=0), X, y, epochs=2, batch_size=10, progress=False, log=None,
        callbacks=[Recorder(), OnlySteps()])
    steps = [e for e in events if e[0] == "step"]
    assert events[0] == ("start", 30, 6) and events[-1] == ("end",)
    assert steps == [("step", k) for k in range(1, 7)]
    assert events.index(("epoch", 1)) == events.index(("only", 3)) + 1
    assert len([e for e in events if e[0] == "only"]) == 6


def test_ctrl_c_leaves_the_model_as_the_last_step_made_it():
    X, y = _moons(40)
    model = MLP(2, [4, 1], seed=0)

    class Stop:
        def on_step(self, step, loss):
            if step == 3:
                self.state = model.state_dict()
                raise KeyboardInterrupt
    stop = Stop()
    with pytest.raises(KeyboardInterrupt):
        fit(model, X, y, epochs=2, batch_size=8, progress=True, log=None, callbacks=[stop])
    assert model.state_dict() == stop.state


def test_fit_traced_trains_to_the_same_bits():
    """fit(traced=True) replays compiled traces of the step; every number it reports and
    every weight it leaves equal the engine's own run."""
    from nn.data import load_digits
    X, y = load_digits()
    X, y = X[:150], y[:150]
    runs = []
    for traced in (False, True):
        model = MLP(64, [8, 10], seed=3)
        history = fit(model, X[:120], y[:120], X[120:], y[120:], epochs=2, batch_size=16,
                      lr=0.05, momentum=0.9, progress=False, log=None, traced=traced)
        runs.append(([{k: v for k, v in r.items() if k != "seconds"} for r in history],
                     model.state_dict()))
    assert runs[0] == runs[1]


def test_the_progress_bar_is_the_text_bar_where_ipywidgets_cannot_draw_one(monkeypatch):
    import importlib.util
    import warnings

    import tqdm as tqdm_package
    from nn.train import progress_bar
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ipywidgets" else real(name, *a))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # tqdm.auto's IProgress warning would raise
        assert progress_bar() is tqdm_package.tqdm
