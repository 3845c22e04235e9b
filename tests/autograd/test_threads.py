"""Grad mode belongs to a thread, as in PyTorch: no_grad in one thread never stops another
thread from recording, and overlapping blocks in different threads restore their own state."""
import threading
import time

import pytest

from autograd import Value, enable_grad, linear_layer, no_grad
from autograd.backprop import is_grad_enabled, set_grad_enabled


def _run(*targets, timeout=30):
    """Run each target in its own thread; re-raise the first failure in the test's thread."""
    errors = []

    def guarded(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # reported below, in the test's thread
                errors.append(e)
        return run

    threads = [threading.Thread(target=guarded(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a thread did not finish in time"
    if errors:
        raise errors[0]


def test_no_grad_in_one_thread_leaves_another_recording():
    inside, checked = threading.Event(), threading.Event()

    def evaluator():
        with no_grad():
            inside.set()
            assert checked.wait(10)
            assert (Value(2.0) * 3).is_leaf

    def trainer():
        assert inside.wait(10)
        x = Value(2.0)
        y = x * x
        assert not y.is_leaf and is_grad_enabled()
        y.backward()
        assert x.grad == 4.0
        checked.set()

    _run(evaluator, trainer)


def test_overlapping_blocks_in_two_threads_restore_recording():
    # A enters, B enters, A leaves, B leaves: a single process-wide flag ends up off.
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a():
        with no_grad():
            a_in.set()
            assert b_in.wait(10)
        a_out.set()
        assert not (Value(1.0) + 1).is_leaf

    def b():
        assert a_in.wait(10)
        with no_grad():
            b_in.set()
            assert a_out.wait(10)
            assert (Value(1.0) + 1).is_leaf   # A leaving does not turn B's recording back on

    _run(a, b)
    assert is_grad_enabled()
    assert not (Value(1.0) * 2).is_leaf


def test_enable_grad_inside_no_grad_is_per_thread():
    with no_grad():
        assert not is_grad_enabled()
        seen = []
        _run(lambda: seen.append(is_grad_enabled()))   # a new thread starts recording
        assert seen == [True]
        with enable_grad():
            assert not (Value(1.0) * 2).is_leaf
        assert (Value(1.0) * 2).is_leaf
    assert is_grad_enabled()


def test_set_grad_enabled_returns_the_previous_mode_and_checks_its_argument():
    assert set_grad_enabled(False) is True
    try:
        assert set_grad_enabled(False) is False
        assert (Value(3.0).exp()).is_leaf
    finally:
        assert set_grad_enabled(True) is False
    with pytest.raises(TypeError, match="bool.*int"):
        set_grad_enabled(1)


def test_training_and_evaluating_threads_race_for_a_bounded_time():
    """One thread trains (forward + backward) while another evaluates under no_grad, for a
    second; every gradient of every step is checked against the same step's expectation."""
    deadline = time.monotonic() + 1.0
    steps = {"train": 0, "eval": 0}
    W = [[Value(0.1 * (i - j)) for j in range(3)] for i in range(4)]
    bs = [Value(0.05 * i) for i in range(4)]
    v, c = [Value(0.5 - 0.3 * i) for i in range(4)], Value(0.1)
    params = [w for ws in W for w in ws] + bs + v + [c]
    x0 = [0.3, -0.2, 0.5]

    def model(x):  # 3-4-1 tanh network, built from fused layers
        hidden = [h.tanh() for h in linear_layer(W, x, bs)]
        return linear_layer([v], hidden, [c])[0]

    def reference():
        # d(out)/d(param) for the fixed model and input, computed before any race starts
        for p in params:
            p.grad = 0.0
        model(x0).backward()
        return [p.grad for p in params]

    want = reference()

    def trainer():
        while time.monotonic() < deadline:
            # a scalar graph of its own: y = w * x + w ** 2, dy/dw = x + 2w
            w, x = Value(1.5), Value(-0.25)
            y = (w * x + w ** 2).tanh()
            y.backward()
            t = y.data
            assert w.grad == pytest.approx((1 - t * t) * (x.data + 2 * w.data), rel=1e-12)
            assert x.grad == pytest.approx((1 - t * t) * w.data, rel=1e-12)
            for p in params:
                p.grad = 0.0
            out = model(x0)
            assert not out.is_leaf
            out.backward()
            assert [p.grad for p in params] == want
            steps["train"] += 1

    def evaluator():
        while time.monotonic() < deadline:
            with no_grad():
                out = model([0.1, 0.2, 0.3])
                assert out.is_leaf and not out.children
                assert (Value(2.0) * Value(3.0)).is_leaf
            steps["eval"] += 1

    _run(trainer, evaluator)
    assert steps["train"] > 10 and steps["eval"] > 10, steps
    assert is_grad_enabled()


def test_a_thread_that_ends_with_recording_off_stops_counting():
    from autograd import value
    _run(lambda: set_grad_enabled(False))   # never turned back on
    assert value._threads_off == 0 and value._all_recording
    assert not (Value(1.0) * 2).is_leaf
