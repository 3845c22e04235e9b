import math
import re

import pytest
from hypothesis import assume, given, strategies as st

from autograd import Value, define_op
from autograd.errors import DomainError
from autograd.testing import expressions
from autograd.trace import TraceError, stop_gradient, trace
from nn import MLP, binary_cross_entropy, cross_entropy, hinge_loss, mse_loss


def same(a, b):
    """Equal to the bit (nan equals nan; 0.0 and -0.0 are told apart)."""
    if a != a:
        return b != b
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _from_zero_grads(params, run):
    """(loss, params' grads) of run() started from zero grads; the grads are put back."""
    saved = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    try:
        return run(), [p.grad for p in params]
    finally:
        for p, g in zip(params, saved):
            p.grad = g


def engine(fn, params, args):
    """Loss and params' grads after fn's graph and backward(), from zero grads."""
    def run():
        loss = fn(*args)
        loss.backward()
        return loss.data
    return _from_zero_grads(params, run)


def replay(step, params, args):
    return _from_zero_grads(params, lambda: step(*args))


def assert_same(got, want):
    (loss, grads), (wloss, wgrads) = got, want
    assert same(loss, wloss), (loss, wloss)
    assert len(grads) == len(wgrads)
    for i, (a, b) in enumerate(zip(grads, wgrads)):
        assert same(a, b), (i, a, b)


# -- bit-exact replay -------------------------------------------------------------------------
@given(expressions(n_inputs=4, max_ops=14), st.integers(0, 4),
       st.lists(st.floats(-1e-3, 1e-3), min_size=4, max_size=4))
def test_replay_equals_backward_on_random_expressions(case, k, nudge):
    """The first k inputs are params, the rest a list argument; replay at a fresh point."""
    expr, xs = case
    params = [Value(x) for x in xs[:k]]
    fn = lambda rest: expr(*params, *rest)
    step = trace(fn, params, (xs[k:],))
    fresh = [x + d for x, d in zip(xs, nudge)]
    for p, x in zip(params, fresh):
        p.data = x
    try:
        want = engine(lambda rest: expr(*params, *[Value(r) for r in rest]), params, (fresh[k:],))
    except (DomainError, ArithmeticError):
        assume(False)
    assert_same(replay(step, params, (fresh[k:],)), want)


@given(expressions(n_inputs=3, max_ops=12))
def test_replay_adds_into_grads_as_backward_does(case):
    expr, xs = case
    params = [Value(x) for x in xs]
    step = trace(lambda: expr(*params), params, ())
    ref = [Value(x) for x in xs]
    for p, r in zip(params, ref):
        p.grad = r.grad = 0.25
    assert same(step(gradient=3.0), expr(*ref).data)
    step()
    out = expr(*ref)
    out.backward(3.0)
    out.backward()
    for p, r in zip(params, ref):
        assert same(p.grad, r.grad)


ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu", "softplus"]


@st.composite
def mlp_losses(draw):
    nin = draw(st.integers(1, 4))
    nouts = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    model = MLP(nin, nouts, activation=draw(st.sampled_from(ACTIVATIONS)),
                fused=draw(st.booleans()), seed=draw(st.integers(0, 2 ** 16)))
    nout = nouts[-1]
    kind = draw(st.sampled_from(["ce", "mse", "bce", "hinge"]))
    if kind == "ce" or (nout > 1 and kind in ("bce", "hinge")):
        kind = "ce" if nout > 1 else "mse"
    target = {"ce": draw(st.integers(0, nout - 1)),
              "mse": [draw(st.floats(-2, 2)) for _ in range(nout)],
              "bce": draw(st.sampled_from([0, 1])), "hinge": draw(st.sampled_from([1, -1]))}[kind]
    xs = st.lists(st.floats(-3, 3), min_size=nin, max_size=nin)
    return model, kind, target, draw(xs), draw(xs)


def sample_loss(model, kind):
    def fn(x, t):
        out = model(x)
        if kind == "ce":
            return cross_entropy(out, t)
        if kind == "mse":
            return mse_loss(out if isinstance(out, list) else [out], t)
        return binary_cross_entropy(out, t) if kind == "bce" else hinge_loss(out, t)
    return fn


@given(mlp_losses(), st.floats(0.001, 0.5))
def test_mlp_loss_replay_equals_backward_after_updates(case, lr):
    model, kind, target, x, fresh = case
    params = model.parameters()
    fn = sample_loss(model, kind)
    t = target  # a class index or ±1 stays an int (one trace per value); mse's is a list
    step = trace(fn, params, (x, t))
    for point in (x, fresh, x):
        want = engine(lambda xv, tv: fn([Value(v) for v in xv], tv), params, (point, t))
        assert_same(replay(step, params, (point, t)), want)
        for p in params:  # an SGD step with the engine's grads: new numbers, same program
            p.data -= lr * (p.data if p.grad == 0 else p.grad)
            p.grad = 0.0


def test_functional_form_equals_the_value_form_and_keeps_its_inputs():
    model = MLP(3, [4, 3], seed=1)
    params = model.parameters()
    step = trace(lambda x: cross_entropy(model(x), 2), params, ([0.1, 0.2, 0.3],))
    data = [p.data for p in params]
    grads = [0.5] * len(params)
    loss, out = step.functional(data, [1.0, -2.0, 0.5], grads=grads)
    assert grads == [0.5] * len(params) and data == [p.data for p in params]
    for p in params:
        p.grad = 0.5
    assert same(step([1.0, -2.0, 0.5]), loss)
    assert all(same(p.grad, g) for p, g in zip(params, out))
    loss0, zero_based = step.functional(data, [1.0, -2.0, 0.5])
    assert same(loss0, loss) and len(zero_based) == len(params)
    with pytest.raises(ValueError, match="data has 2 numbers"):
        step.functional([1.0, 2.0], [1.0, -2.0, 0.5])


def test_wide_layers_work_on_slices_and_equal_backward():
    model = MLP(100, [8, 3], seed=3)
    params = model.parameters()
    xs = [((i * 37) % 11 - 5) / 7 for i in range(100)]
    fn = lambda x, t: cross_entropy(model(x), t)
    step = trace(fn, params, (xs, 1))
    assert "_dot(_P[0:100], _A[0]" in step.source  # the first layer reads its inputs as a list
    fresh = [x * 0.5 + 0.1 for x in xs]
    want = engine(lambda x, t: fn([Value(v) for v in x], t), params, (fresh, 1))
    assert_same(replay(step, params, (fresh, 1)), want)


def test_outputs_come_back_as_floats():
    model = MLP(2, [3, 2], seed=0)
    params = model.parameters()

    def fn(x):
        out = model(x)
        return cross_entropy(out, 0), out
    step = trace(fn, params, ([0.5, -0.5],))
    loss, outs = step([1.0, 2.0])
    with_values = model([1.0, 2.0])
    assert outs == [o.data for o in with_values]


def test_source_is_a_readable_program_named_by_labels():
    w, b = Value(0.5, label="w"), Value(-1.0, label="bias; import os")
    step = trace(lambda x: (w * x + b).relu(), [w, b], (2.0,))
    src = step.source
    assert "v0 = w * x0" in src and "bias_import_os" in src
    assert "bias; import" not in src and "import" not in src.replace("bias_import_os", "")
    forward, adjoint = src.split("# adjoint")
    assert "d_" not in forward and "+=" in adjoint
    compile(src, "<check>", "exec")


# -- guards -----------------------------------------------------------------------------------
def test_a_number_read_from_data_is_refused_with_its_line():
    w = Value(2.0)
    with pytest.raises(TraceError, match=r"test_trace\.py:\d+ \(.*w\.data") as e:
        trace(lambda x: x * w.data, [w], (1.0,))
    assert "stop_gradient" in str(e.value)
    with pytest.raises(TraceError, match=r"float\(\) of a Value at .*test_trace\.py"):
        trace(lambda x: x * float(w), [w], (1.0,))
    with pytest.raises(TraceError, match=r"\.grad at .*test_trace\.py"):
        trace(lambda x: x * w.grad, [w], (1.0,))


def test_predict_inside_the_step_is_a_data_read():
    from nn.train import predict
    model = MLP(2, [3, 2], seed=0)

    def fn(x):
        out = model(x)
        return cross_entropy(out, 1 - predict(out))
    with pytest.raises(TraceError, match=r"nn/train\.py:\d+"):
        trace(fn, model.parameters(), ([0.5, 0.5],))


def test_stop_gradient_is_recomputed_at_replay():
    """The softmax's max changes which logit it is: the replay follows, a baked number would not."""
    params = [Value(3.0), Value(0.0), Value(-1.0)]
    fn = lambda s: cross_entropy([p * s for p in params], 1)
    step = trace(fn, params, (1.0,))
    assert "stop_gradient" in step.source
    for s in (1.0, -1.0, 250.0, -400.0):
        want = engine(lambda sv: fn(Value(sv)), params, (s,))
        assert_same(replay(step, params, (s,)), want)
        assert math.isfinite(want[0])
    m = stop_gradient(max, params)
    (m * params[0]).backward()
    assert params[1].grad == 0.0 and m.is_leaf


def test_a_branch_on_data_is_checked_and_retraced():
    w = Value(1.0)

    def fn(x):
        return (x * w).tanh() if x > w else (x - w) ** 2
    step = trace(fn, [w], (2.0,))
    assert step.traces == 1 and "_Miss" in step.source and "test_trace.py" in step.source
    for x in (3.0, 0.5, 2.5, -1.0):
        want = engine(lambda xv: fn(Value(xv)), [w], (x,))
        assert_same(replay(step, [w], (x,)), want)
    assert step.traces == 2  # one per side of the comparison


def test_max_of_values_is_a_branch_too():
    ps = [Value(1.0), Value(2.0), Value(0.5)]
    fn = lambda s: max(ps) * s
    step = trace(fn, ps, (1.0,))
    ps[2].data = 5.0
    want = engine(lambda sv: fn(Value(sv)), ps, (3.0,))
    assert_same(replay(step, ps, (3.0,)), want)
    assert want[1] == [0.0, 0.0, 3.0] and step.traces == 2


def test_a_branch_on_a_value_outside_the_trace_is_refused():
    w, other = Value(1.0), Value(0.0)
    with pytest.raises(TraceError, match=r"comparison at .*test_trace\.py.* cannot compute"):
        trace(lambda x: x * w if other < w else x, [w], (1.0,))


def test_too_many_branches_are_refused():
    w = Value(0.0)

    def fn(x):
        y = x
        for k in range(40):  # a different branch outcome for every integer part of x
            if x > k:
                y = y * w
        return y
    step = trace(fn, [w], (0.5,))
    with pytest.raises(TraceError, match="branches on data"):
        for x in range(40):
            step(x + 0.5)


def test_a_new_shape_or_class_index_gets_its_own_trace():
    model = MLP(2, [3, 3], seed=2)
    params = model.parameters()
    fn = lambda xs, t: cross_entropy([model(x) for x in xs], [t] * len(xs))
    step = trace(fn, params, ([[0.1, 0.2]], 0))
    cases = [([[0.3, -0.2], [1.0, 0.5]], 0), ([[0.3, -0.2]], 2), ([[0.1, 0.2]], 0),
             ([[1.0, 1.0], [2.0, 2.0], [0.0, 0.0]], 1)]
    for xs, t in cases:
        want = engine(lambda xv, tv: fn([[Value(v) for v in x] for x in xv], tv), params, (xs, t))
        assert_same(replay(step, params, (xs, t)), want)
    assert step.traces == 4


def test_a_value_the_trace_was_not_given_is_an_error():
    w, hidden = Value(1.0), Value(2.0, label="hidden")
    with pytest.raises(TraceError, match="hidden.*neither one of params nor an input"):
        trace(lambda x: x * w + hidden, [w], (1.0,))


def test_bad_arguments_are_named():
    w = Value(1.0)
    step = trace(lambda x: x * w, [w], (1.0,))
    with pytest.raises(TypeError, match="takes 1 argument"):
        step(1.0, 2.0)
    with pytest.raises(TypeError, match=r"argument 0 must be a float.*str"):
        step("1.0")
    with pytest.raises(TypeError, match=r"argument \[1\] 0 must be a float.*Value"):
        trace(lambda xs: xs[0] * w, [w], ([1.0, Value(2.0)],))
    with pytest.raises(TraceError, match="result of an op"):
        trace(lambda x: x, [w * 2], (1.0,))
    with pytest.raises(TraceError, match="listed twice"):
        trace(lambda x: x * w, [w, w], (1.0,))
    with pytest.raises(TraceError, match="must return a Value"):
        trace(lambda x: 3.0, [w], (1.0,))
    with pytest.raises(TypeError, match="tuple"):
        trace(lambda x: x * w, [w], [1.0])


def test_custom_ops_are_traced_when_passed():
    cube = define_op("cube", lambda x: x ** 3, lambda x, out: 3 * x ** 2)
    w = Value(1.5)
    with pytest.raises(TraceError, match=r"ops=\[cube\]"):
        trace(lambda x: cube(w * x), [w], (1.0,))
    step = trace(lambda x: cube(w * x), [w], (1.0,), ops=[cube])
    want = engine(lambda x: cube(w * Value(x)), [w], (-2.0,))
    assert_same(replay(step, [w], (-2.0,)), want)


def test_a_domain_error_at_replay_is_the_engines():
    w = Value(1.0)
    step = trace(lambda x: (x * w).log(), [w], (2.0,))
    with pytest.raises(DomainError, match="log"):
        step(-1.0)


def test_zero_gradients_are_skipped_as_backward_skips_them():
    """0 × inf would be nan: backward() never multiplies a zero gradient, nor may the replay."""
    w = Value(0.0)
    fn = lambda x: (x * w).relu() * 1e308 * 1e308 + w * 0.0
    step = trace(fn, [w], (1.0,))
    want = engine(lambda x: fn(Value(x)), [w], (-1.0,))
    assert_same(replay(step, [w], (-1.0,)), want)
    assert re.search(r"^\s+if d_v\d+:$", step.source, re.M)


def test_a_custom_op_named_like_a_built_in_is_not_mistaken_for_it():
    fake = define_op("tanh", lambda x: 2.0 * x, lambda x, out: 2.0)
    w = Value(0.5)
    with pytest.raises(TraceError, match="does not reproduce node"):
        trace(lambda x: fake(w * x), [w], (1.0,))
    step = trace(lambda x: fake(w * x), [w], (1.0,), ops=[fake])
    assert step(3.0) == 3.0 and w.grad == 6.0


def test_accumulate_adds_in_place_and_checks_lengths():
    w, b = Value(2.0), Value(1.0)
    step = trace(lambda x: w * x + b, [w, b], (1.0,))
    grads = [1.0, 1.0]
    assert step.accumulate([2.0, 1.0], grads, 3.0) == 7.0 and grads == [4.0, 2.0]
    with pytest.raises(ValueError, match="need 2 numbers each"):
        step.accumulate([2.0], grads, 3.0)
