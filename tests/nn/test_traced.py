import pytest
from hypothesis import given, settings, strategies as st

from nn import MLP, binary_cross_entropy, mse_loss
from nn.data import make_moons
from nn.optim import SGD, Adam
from nn.traced import TracedBatches
from nn.train import fit, loss_for


def train(model, X, y, opt, batch_size, traced, loss=loss_for, epochs=1):
    """fit, through the engine or through traces: (per-epoch losses, train accuracies)."""
    history = fit(model, X, y, epochs=epochs, batch_size=batch_size, optimizer=opt, loss=loss,
                  progress=False, log=None, traced=traced)
    return [r["loss"] for r in history], [r["train_accuracy"] for r in history]


def both(make_model, X, y, make_opt, batch_size, **kw):
    out = []
    for traced in (False, True):
        model = make_model()
        result = train(model, X, y, make_opt(model.parameters()), batch_size, traced, **kw)
        out.append((result, [p.data for p in model.parameters()]))
    return out


def test_digits_train_identically_with_and_without_traces():
    from nn.data import load_digits
    X, y = load_digits()
    X, y = X[:150], y[:150]
    (plain, w_plain), (traced, w_traced) = both(
        lambda: MLP(64, [16, 10], seed=0), X, y,
        lambda ps: SGD(ps, 0.05, momentum=0.9), batch_size=16, epochs=2)  # 150 = 9×16 + 6
    assert plain == traced
    assert w_plain == w_traced


@settings(max_examples=15)
@given(st.integers(1, 9), st.sampled_from(["relu", "tanh"]), st.booleans())
def test_binary_classifier_with_adam_and_any_batch_size(batch_size, activation, fused):
    X, y = make_moons(40, 0.1, 3)
    (plain, w_plain), (traced, w_traced) = both(
        lambda: MLP(2, [6, 1], activation=activation, fused=fused, seed=1), X, y,
        lambda ps: Adam(ps, 0.01), batch_size=batch_size)
    assert plain == traced and w_plain == w_traced


def test_a_custom_loss_is_traced_too():
    X, y = make_moons(24, 0.1, 0)
    loss = lambda out, t: mse_loss([out], [float(t)]) + binary_cross_entropy(out, t)
    (plain, w_plain), (traced, w_traced) = both(
        lambda: MLP(2, [4, 1], seed=2), X, y, lambda ps: SGD(ps, 0.1), batch_size=5, loss=loss)
    assert plain == traced and w_plain == w_traced


def test_bad_batches_are_refused():
    model = MLP(2, [3, 2], seed=0)
    with pytest.raises(ValueError, match="2 samples and 1 labels"):
        TracedBatches(model)([[0.0, 1.0], [1.0, 0.0]], [1], SGD(model.parameters(), 0.1))
