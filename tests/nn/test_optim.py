import math
import struct

import pytest
from hypothesis import given, strategies as st

from autograd import Value
from nn.optim import OPTIMIZERS, SGD, Adam, make_optimizer


def _run(opt, p, grads):
    seen = []
    for g in grads:
        p.grad = g
        opt.step()
        seen.append(p.data)
    return seen


def test_plain_sgd():
    p = Value(1.0)
    assert _run(SGD([p], lr=0.1), p, [0.5, -0.2]) == pytest.approx([0.95, 0.97])


def test_sgd_momentum_and_weight_decay():
    # by hand, lr 0.1, momentum 0.9, weight decay 0.1, p0 = 1:
    # d1 = 0.5 + 0.1*1 = 0.6;         buf = 0.6                      p = 1 - 0.06 = 0.94
    # d2 = -0.2 + 0.1*0.94 = -0.106;  buf = 0.9*0.6 - 0.106 = 0.434  p = 0.94 - 0.0434 = 0.8966
    # d3 = 0.3 + 0.08966 = 0.38966;   buf = 0.3906 + 0.38966 = 0.78026  p = 0.818574
    p = Value(1.0)
    got = _run(SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1), p, [0.5, -0.2, 0.3])
    assert got == pytest.approx([0.94, 0.8966, 0.818574], rel=1e-12)


def test_adam():
    # by hand, lr 0.1, betas (0.9, 0.999), eps 1e-8, p0 = 1:
    # t=1 g=0.5:  m = 0.05, v = 0.00025; m^ = 0.5, v^ = 0.25; p = 1 - 0.1*0.5/(0.5+1e-8)
    # t=2 g=-0.2: m = 0.045 - 0.02 = 0.025, v = 0.00024975 + 0.00004 = 0.00028975
    #             m^ = 0.025/0.19, v^ = 0.00028975/0.001999; p -= 0.1 m^/(sqrt(v^)+eps)
    p = Value(1.0)
    opt = Adam([p], lr=0.1)
    got = _run(opt, p, [0.5, -0.2])
    p1 = 1 - 0.1 * 0.5 / (0.5 + 1e-8)
    p2 = p1 - 0.1 * (0.025 / 0.19) / ((0.00028975 / 0.001999) ** 0.5 + 1e-8)
    assert got == pytest.approx([p1, p2], rel=1e-12)
    assert p2 == pytest.approx(0.8654394181, rel=1e-9)
    assert opt.m[0] == pytest.approx(0.025) and opt.v[0] == pytest.approx(0.00028975)


def test_adam_step_is_about_lr_whatever_the_gradient_scale():
    for g in (1e-3, 1.0, 1e6):  # (far below eps the step shrinks, as it should)
        p = Value(0.0)
        _run(Adam([p], lr=0.01), p, [g])
        assert p.data == pytest.approx(-0.01, rel=1e-4)


def test_zero_grad_and_validation():
    ps = [Value(1.0), Value(2.0)]
    ps[0].grad, ps[1].grad = 3.0, 4.0
    SGD(ps, lr=0.1).zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        SGD(ps, lr=-1)
    with pytest.raises(ValueError, match="betas"):
        Adam(ps, betas=(1.0, 0.999))


def test_step_records_no_graph():
    p = Value(1.0)
    p.grad = 1.0
    SGD([p], lr=0.5, momentum=0.9).step()
    assert p.op == "" and p.children == () and p.data == 0.5


finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(st.lists(st.tuples(finite, st.one_of(st.just(0.0), st.just(-0.0), finite)), min_size=1,
                max_size=20),
       st.floats(0, 10), st.sampled_from([0.0, 0.01]))
def test_sgd_without_momentum_is_p_minus_lr_d_to_the_bit(pairs, lr, wd):
    """Plain SGD skips parameters whose grad is 0; that must change no number. (Only the sign
    of a zero may differ: -0.0 - 0.0 * -0.0 is +0.0, a skipped -0.0 stays -0.0.)"""
    ps = [Value(p) for p, _ in pairs]
    for v, (_, g) in zip(ps, pairs):
        v.grad = g
    SGD(ps, lr=lr, weight_decay=wd).step()
    want = [p - lr * (g + wd * p) if wd else p - lr * g for p, g in pairs]
    same = [struct.pack("d", v.data) == struct.pack("d", w) or v.data == w == 0.0
            for v, w in zip(ps, want)]
    assert all(same), [(v.data, w) for v, w in zip(ps, want)]


@pytest.mark.parametrize("make, error, message", [
    (lambda ps: SGD(ps, lr=math.inf), ValueError, "SGD: lr must be a finite number >= 0, got inf"),
    (lambda ps: SGD(ps, lr=math.nan), ValueError, "SGD: lr must be a finite number >= 0, got nan"),
    (lambda ps: SGD(ps, lr=10 ** 400), ValueError, "SGD: lr must be a finite number >= 0, got a huge int"),
    (lambda ps: SGD(ps, lr=True), TypeError, "SGD: lr must be a real number, got bool"),
    (lambda ps: SGD(ps, lr=None), TypeError, "SGD: lr must be a real number, got NoneType"),
    (lambda ps: SGD(ps, 0.1, weight_decay=math.inf), ValueError, "SGD: weight_decay must be a finite"),
    (lambda ps: SGD(ps, 0.1, momentum=-1), ValueError, "SGD: momentum must be a finite number >= 0"),
    (lambda ps: Adam(ps, eps=0), ValueError, "Adam: eps must be a finite number > 0, got 0"),
    (lambda ps: Adam(ps, eps=math.inf), ValueError, "Adam: eps must be a finite number > 0"),
    (lambda ps: Adam(ps, betas=(0.9, math.nan)), ValueError, r"Adam: betas\[1\] must be a finite "
                                                            r"number >= 0 and < 1, got nan"),
    (lambda ps: Adam(ps, betas=0.9), TypeError, r"Adam: betas must be a pair"),
    (lambda ps: Adam(ps, weight_decay=math.inf), ValueError, "Adam: weight_decay must be a finite"),
    (lambda ps: make_optimizer("rmsprop", ps, 0.1), ValueError, "unknown optimizer 'rmsprop'"),
])
def test_hyper_parameters_must_be_finite_numbers_in_range(make, error, message):
    with pytest.raises(error, match=message):
        make([Value(1.0)])


def test_the_optimiser_table_builds_each_by_name():
    ps = [Value(1.0)]
    assert set(OPTIMIZERS) == {"sgd", "adam"}
    sgd = make_optimizer("sgd", ps, 0.1, momentum=0.9, weight_decay=0.01)
    assert type(sgd) is SGD and (sgd.lr, sgd.momentum, sgd.weight_decay) == (0.1, 0.9, 0.01)
    adam = make_optimizer("adam", ps, 0.1, weight_decay=0.01)
    assert type(adam) is Adam and adam.weight_decay == 0.01


def test_adam_with_the_smallest_eps_steps_to_finite_numbers():
    p = Value(1.0)
    opt = Adam([p], lr=0.1, eps=5e-324)
    p.grad = 0.0
    opt.step()  # m = v = 0: 0 / (0 + eps) is 0, not a ZeroDivisionError
    assert p.data == 1.0
