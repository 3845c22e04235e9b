import math

import pytest
from hypothesis import given, strategies as st

from autograd import Value, gradcheck
from nn import binary_cross_entropy, cross_entropy, hinge_loss, log_softmax, mse_loss, softmax

logits = st.lists(st.floats(-8, 8), min_size=1, max_size=6)


@given(logits, st.data())
def test_cross_entropy_gradient(zs, data):
    t = data.draw(st.integers(0, len(zs) - 1))
    assert gradcheck(lambda *v: cross_entropy(list(v), t), zs)


@given(logits, st.data())
def test_softmax_and_log_softmax_gradients(zs, data):
    i = data.draw(st.integers(0, len(zs) - 1))
    weights = [1.0 + k for k in range(len(zs))]  # a weighted sum touches every output
    assert gradcheck(lambda *v: sum(w * p for w, p in zip(weights, softmax(list(v)))), zs)
    assert gradcheck(lambda *v: log_softmax(list(v))[i], zs)


@given(st.lists(st.floats(-5, 5), min_size=2, max_size=8))
def test_mse_gradient(xs):
    n = len(xs) // 2
    assert gradcheck(lambda *v: mse_loss(list(v[:n]), list(v[n:2 * n])), xs)


@given(st.floats(-20, 20), st.floats(0, 1))
def test_binary_cross_entropy_gradient_and_value(z, t):
    assert gradcheck(lambda v: binary_cross_entropy(v, t), [z])
    s = 1 / (1 + math.exp(-z))
    if abs(z) <= 10:  # beyond, the naive formula itself loses digits to 1 - s
        naive = -(t * math.log(s) + (1 - t) * math.log(1 - s))
        assert binary_cross_entropy(z, t).data == pytest.approx(naive, rel=1e-9, abs=1e-12)


@given(st.floats(-5, 5).filter(lambda s: abs(abs(s) - 1) > 1e-3), st.sampled_from([1, -1]))
def test_hinge_gradient(s, t):
    assert gradcheck(lambda v: hinge_loss(v, t), [s])
    assert hinge_loss(s, t).data == max(0.0, 1 - t * s)


def test_known_values():
    assert cross_entropy([2.0, 0.5, -1.0], 0).data == pytest.approx(
        -math.log(math.exp(2) / (math.exp(2) + math.exp(0.5) + math.exp(-1))))
    assert mse_loss([1.0, 2.0], [0.0, 0.0]).data == 2.5
    assert mse_loss(Value(3.0), 1.0).data == 4.0
    assert [p.data for p in softmax([0.0, math.log(3)])] == pytest.approx([0.25, 0.75])


def test_extreme_logits_are_finite():
    zs = [Value(1000.0), Value(-1000.0), Value(0.0)]
    outs = softmax(zs) + log_softmax(zs) + [cross_entropy(zs, 1), cross_entropy(zs, 0)]
    outs += [binary_cross_entropy(z, t) for z in zs for t in (0, 1)]
    for o in outs:
        assert math.isfinite(o.data)
    assert cross_entropy(zs, 1).data == pytest.approx(2000.0)
    assert binary_cross_entropy(1000.0, 0).data == 1000.0
    total = sum(outs)
    total.backward()
    assert all(math.isfinite(z.grad) for z in zs)
    ce = [Value(1000.0), Value(-1000.0), Value(0.0)]
    cross_entropy(ce, 1).backward()
    assert [z.grad for z in ce] == pytest.approx([1.0, -1.0, 0.0])  # softmax - onehot


def test_batches_are_means():
    batch = [[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]
    expect = (cross_entropy(batch[0], 2).data + cross_entropy(batch[1], 0).data) / 2
    assert cross_entropy(batch, [2, 0]).data == pytest.approx(expect)
    assert hinge_loss([0.5, -2.0], [1, 1]).data == pytest.approx((0.5 + 3.0) / 2)
    assert binary_cross_entropy([0.0, 0.0], [1, 0]).data == pytest.approx(math.log(2))
    assert mse_loss([[1.0], [3.0]], [[0.0], [0.0]]).data == 5.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="class index"):
        cross_entropy([1.0, 2.0], 2)
    with pytest.raises(ValueError, match="class index"):
        cross_entropy([1.0, 2.0], True)
    with pytest.raises(ValueError, match="non-empty"):
        softmax([])
    with pytest.raises(ValueError, match=r"\+1 or -1"):
        hinge_loss(0.5, 0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        binary_cross_entropy(0.5, 2)
    with pytest.raises(ValueError, match="2 predictions but 1 targets"):
        hinge_loss([0.5, 1.0], [1])
    with pytest.raises(TypeError, match="str"):
        softmax(["a", 1.0])


def test_numpy_integer_targets_are_class_indices():
    import numpy as np  # labels often arrive as numpy ints
    logits = [Value(2.0), Value(0.5), Value(-1.0)]
    assert cross_entropy(logits, np.int64(1)).data == cross_entropy(logits, 1).data


@given(st.lists(st.floats(-50, 50), min_size=1, max_size=6), st.data())
def test_the_shift_is_the_max_and_takes_no_gradient(zs, data):
    from nn.losses import shift
    values = [Value(z) for z in zs]
    m = shift(values)
    assert m.data == max(zs) and m.is_leaf and m.label == "max"
    i = data.draw(st.integers(0, len(zs) - 1))
    (values[i] * m).backward()
    assert [v.grad for v in values] == [m.data if k == i else 0.0 for k in range(len(zs))]


@given(st.lists(st.floats(-30, 30), min_size=2, max_size=5),
       st.lists(st.floats(-30, 30), min_size=2, max_size=5), st.data())
def test_traced_softmax_losses_recompute_the_shift(first, second, data):
    """The max moves to another logit between tracing and replay: a baked number would give
    another loss (or overflow); the replay recomputes it and equals the engine exactly."""
    from autograd.trace import trace
    n = min(len(first), len(second))
    params = [Value(z) for z in first[:n]]
    t = data.draw(st.integers(0, n - 1))
    k = data.draw(st.integers(0, n - 1))
    fn = lambda s: cross_entropy([p * s for p in params], t) + log_softmax(params)[k] * s \
        + softmax([p + s for p in params])[k]
    step = trace(fn, params, (1.0,))
    for p, z in zip(params, second[:n]):
        p.data, p.grad = z, 0.0
    loss = step(-1.5)
    got = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    ref = fn(Value(-1.5))
    ref.backward()
    assert loss == ref.data and got == [p.grad for p in params]
