"""detect_anomaly: the first nan/inf is blamed on the node or edge that made it; no trace of
the checks is left outside the block."""
import math
import threading

import pytest
from hypothesis import event, given, strategies as st

import autograd
import autograd.backprop
import autograd.value
from autograd import DomainError, Value, define_op, linear, no_grad
from autograd.anomaly import AnomalyError, detect_anomaly
from autograd.testing import apply, expressions
from nn import MLP, mse_loss

NAN, INF = math.nan, math.inf
PATCHED = [(autograd.value, "_unary"), (autograd.value, "_binary"), (autograd.value, "_node"),
           (autograd.value, "_leaf"), (autograd.backprop, "backward"), (autograd, "backward")]
ORIGINAL = {(m, n): getattr(m, n) for m, n in PATCHED}


def engine_is_untouched():
    return all(getattr(m, n) is ORIGINAL[m, n] for m, n in PATCHED)


def raised(fn):
    with pytest.raises(AnomalyError) as info:
        with detect_anomaly():
            fn()
    assert engine_is_untouched()
    return info.value


# -- forward ------------------------------------------------------------------------------
def test_nan_in_the_data_is_blamed_on_the_first_op_that_reads_it():
    x, w, b = Value(2.0, label="x"), Value(NAN, label="w"), Value(1.0, label="b")
    made = []

    def run():
        h = (x * 3.0).tanh()
        made.append(h)
        y = h * w + b      # the first op to produce nan: h * w
        made.append(y)
        (y * y).backward()
    err = raised(run)
    assert len(made) == 1
    node = err.node
    assert node.op == "*" and math.isnan(node.data) and node.children == (made[0], w)
    message = str(err)
    assert message.startswith("forward: * gave nan from a non-finite input")
    assert "w = nan" in message and f"tanh(…) = {math.tanh(6.0)!r}" in message
    assert err.path == [w, node]
    assert "path from the inputs: w = nan → (… * w) = nan" in message
    assert isinstance(err, ArithmeticError)


def test_an_overflow_is_blamed_on_the_op_that_overflowed_not_on_later_nans():
    x = Value(1e200, label="x")
    err = raised(lambda: ((x * x) - (x * x)).exp())
    assert err.node.op == "*" and err.node.data == INF and err.node.children == (x, x)
    assert "* gave inf from finite operands" in str(err) and "x = 1e+200, x = 1e+200" in str(err)
    assert err.path == [x, err.node]


def test_exp_overflow_to_inf_is_caught():
    z = Value(10.0, label="z")
    err = raised(lambda: (z * 100.0).exp() + 1.0)
    assert err.node.op == "exp" and err.node.data == INF
    assert err.path[0] is z and [v.op for v in err.path] == ["", "*", "exp"]
    assert "path from the inputs: z = 10.0 → (z * 100.0) = 1000.0 → exp(…) = inf" in str(err)


def test_fused_and_unfused_networks_blame_the_neuron_reading_a_bad_weight():
    for fused, op in ((True, "linear"), (False, "*")):
        model = MLP(3, [4, 1], activation="tanh", seed=1, fused=fused)
        bad = model.layers[1].neurons[0].w[2]
        bad.data = INF
        err = raised(lambda: mse_loss([model([0.1, 0.2, 0.3])], [1.0]))
        assert err.node.op == op and bad in err.node.children
        assert err.path[0] is bad and err.path[-1] is err.node
        assert "layers.1.neurons.0.w.2 = inf" in str(err)


def test_a_wide_linear_node_names_its_telling_operands_only():
    ws = [Value(1.0, label=f"w{i}") for i in range(50)]
    ws[37].data = NAN
    err = raised(lambda: linear(ws, [0.5] * 50, Value(0.0, label="b")))
    message = str(err)
    assert err.node.op == "linear" and "[37] w37 = nan" in message and "more)" in message
    assert len(message) < 800


def test_custom_ops_are_checked_too():
    blowup = define_op("blowup", lambda x: 1e300 * x * 1e300, lambda x, out: 1e300 * 1e300)
    mean3 = define_op("mean3", lambda a, b, c: (a + b + c) / 3, *[lambda a, b, c, out: 1 / 3] * 3)
    x = Value(1.0, label="x")
    assert raised(lambda: blowup(x)).node.op == "blowup"
    err = raised(lambda: mean3(x, Value(INF, label="big"), 2.0))
    assert err.node.op == "mean3" and "big = inf" in str(err)


def test_no_grad_results_are_checked_and_domain_errors_stay_as_they_are():
    w = [Value(NAN), Value(1.0)]
    with no_grad():
        err = raised(lambda: linear(w, [1.0, 2.0], Value(0.0)))
        assert "under no_grad()" in str(err)
        assert raised(lambda: Value(-1.0) * INF).node.data == -INF
    with pytest.raises(DomainError, match="log"):
        with detect_anomaly():
            Value(0.0).log()
    assert engine_is_untouched()


@given(expressions(n_inputs=3, max_ops=10))
def test_finite_graphs_build_and_differentiate_the_same_inside_the_block(case):
    fn, xs = case
    outside = [Value(x) for x in xs]
    fn(*outside).backward()
    inside = [Value(x) for x in xs]
    with detect_anomaly():
        out = fn(*inside)
        out.backward()
    assert [v.grad for v in inside] == [v.grad for v in outside]
    assert engine_is_untouched()


# -- backward -----------------------------------------------------------------------------
def test_an_inf_local_derivative_is_blamed_on_its_edge_and_nothing_is_written():
    x, c = Value(0.0, label="x"), Value(2.0, label="c")
    y = x ** 0.5
    y.label = "y"
    L = (y * c).tanh()
    L.label = "L"
    err = raised(L.backward)
    assert err.node is x and err.path[0] is x and err.path[-1] is L
    assert [v.label or v.op for v in err.path] == ["x", "y", "*", "L"]
    message = str(err)
    assert message.startswith("backward: the gradient of x became inf on the edge y → x")
    assert "the local derivative is inf" in message and "** operands: x = 0.0, 0.5" in message
    assert "path to the root: x = 0.0 → y = 0.0 → (y * c) = 0.0 → L = 0.0" in message
    assert x.grad == 0.0 and c.grad == 0.0 and L.grad == 0.0  # checked before writing


def test_a_nan_local_derivative_and_a_nan_arriving_from_above():
    base, p = Value(-2.0, label="base"), Value(2.0, label="p")
    err = raised(lambda: (base ** p).backward())   # ∂/∂p of (-2)**p is undefined: nan
    assert err.node is p and "became nan on the edge (base ** p) → p" in str(err)
    assert "operand 1 of **" in str(err)


def test_gradients_that_overflow_when_gathered():
    x = Value(1.0, label="x")
    L = x * 1e308 + x * 1e308          # each edge is finite; their sum is not
    err = raised(L.backward)
    assert err.node is x and "adding 1e+308 to the 1e+308 already gathered" in str(err)
    y = Value(1.0, label="y")
    big = y * 1e200
    err = raised(lambda: big.backward(1e200))   # local × upstream overflows
    assert err.node is y and "1e+200 × 1e+200 overflows" in str(err)
    err = raised(lambda: (y * 2.0).backward(NAN))
    assert "starting gradient nan" in str(err) and err.node.op == "*"


def test_backward_through_the_package_and_method_names_alike():
    x = Value(0.0, label="x")
    L = x ** 0.5
    assert raised(lambda: autograd.backward(L)).node is x
    assert raised(lambda: autograd.backprop.backward(L)).node is x


def test_every_anomaly_names_both_ends_of_its_path():
    x = Value(0.0, label="inp")
    L = ((x * 1.0) ** 0.5 + 1.0) * 2.0
    L.label = "loss"
    err = raised(L.backward)
    assert "(inp * 1.0) = 0.0" in str(err).splitlines()[-1]
    assert str(err).splitlines()[-1].endswith("loss = 2.0")


# -- installing and removing --------------------------------------------------------------
def test_nothing_is_installed_outside_and_re_entry_and_exceptions_restore():
    assert engine_is_untouched()
    with detect_anomaly():
        assert autograd.value._unary is not ORIGINAL[autograd.value, "_unary"]
        with detect_anomaly():
            pass
        assert not engine_is_untouched()
        with pytest.raises(AnomalyError):
            Value(INF) + 1.0
        with pytest.raises(ZeroDivisionError):
            with detect_anomaly():
                Value(1.0) / 0.0
        assert not engine_is_untouched()
    assert engine_is_untouched()
    assert (Value(INF) + 1.0).data == INF   # no checks outside


def test_checking_is_per_thread():
    results = {}
    inside, done = threading.Event(), threading.Event()

    def other():
        inside.wait(10)
        results["other"] = (Value(INF) * 2.0).data   # another thread: not checked
        with detect_anomaly():                        # its own block: checked
            try:
                Value(INF) * 2.0
            except AnomalyError:
                results["other checked"] = True
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with detect_anomaly():
        inside.set()
        assert done.wait(10)
        with pytest.raises(AnomalyError):
            Value(NAN) * 2.0
    t.join(10)
    assert results == {"other": INF, "other checked": True}
    assert engine_is_untouched()



def test_draw_highlights_the_blamed_node_and_its_path():
    from autograd import draw
    x, c = Value(0.0, label="x"), Value(5.0, label="c")
    L = (x ** 0.5) * 3.0 + c
    L.label = "L"
    err = raised(L.backward)
    plain, marked = draw(L).source, draw(L, highlight=err.node).source
    assert marked != plain
    assert draw(L, highlight=err.path).source == marked   # the path to the root is marked anyway
    svg = draw(L, highlight=err.node).pipe(format="svg").decode()
    assert "<svg" in svg
    # a forward anomaly's node is the root of what was built so far
    w = Value(math.nan, label="w")
    err = raised(lambda: w * 2.0)
    assert draw(err.node, highlight=err.node).source != draw(err.node).source


def test_a_long_path_keeps_both_ends():
    x = Value(1e307, label="x")
    terms = [x * (1.0 + k / 100) for k in range(60)]
    err = raised(lambda: sum(terms, Value(0.0, label="zero")))
    line = str(err).splitlines()[-1]
    assert line.startswith("  path from the inputs: ") and "more) …" in line
    assert line.endswith("= inf") and len(line) < 600
    assert err.path[-1] is err.node and err.path[0].is_leaf and len(err.path) > 10


def replay(expr, xs, slots):
    """Run `expr` on Values made from xs, appending each result to `slots` as it is made."""
    slots.extend(Value(x) for x in xs)
    for op, args in expr.program:
        slots.append(apply(op, *(slots[a] if type(a) is int else a for a in args)))
    return slots[-1]


@given(expressions(n_inputs=3, max_ops=12), st.integers(0, 2),
       st.sampled_from([NAN, INF, -INF, 1e300]))
def test_a_bad_input_is_blamed_on_the_first_op_whose_result_is_not_finite(case, i, bad):
    expr, xs = case
    xs = list(xs)
    xs[i] = bad
    plain = []
    try:
        replay(expr, xs, plain)
        failure = None
    except ArithmeticError as e:       # a domain error the engine raises anyway
        failure = type(e)
    first = next((k for k in range(len(xs), len(plain)) if not math.isfinite(plain[k].data)), None)
    checked = []
    try:
        with detect_anomaly():
            replay(expr, xs, checked)
    except AnomalyError as err:
        event("anomaly in forward")
        assert first is not None and len(checked) == first   # raised while making slot `first`
        node = err.node
        assert node.op == expr.program[first - len(xs)][0]
        assert math.isnan(node.data) if math.isnan(plain[first].data) else node.data == plain[first].data
        assert err.path[-1] is node and err.path[0].is_leaf
        assert all(b in a.children for a, b in zip(err.path[1:], err.path))
    except ArithmeticError as e:
        event("domain error")
        assert type(e) is failure and (first is None or len(checked) < first)
    else:
        assert first is None and failure is None
    assert engine_is_untouched()


@given(expressions(n_inputs=3, max_ops=12), st.sampled_from([1.0, 1e306, 1e308, 1.79e308]))
def test_backward_raises_exactly_when_a_gradient_would_not_be_finite(case, seed):
    fn, xs = case
    values = [Value(x) for x in xs]
    out = fn(*values)
    out.backward(seed)
    finite = all(math.isfinite(v.grad) for v in values)
    for v in values:
        v.grad = 0.0
    try:
        with detect_anomaly():
            out.backward(seed)
    except AnomalyError as err:
        event("anomaly in backward")
        assert not finite
        assert all(v.grad == 0.0 for v in values)        # nothing written
        assert err.path[0] is err.node and err.path[-1] is out
        assert all(a in b.children for a, b in zip(err.path, err.path[1:]))
        assert "backward: the gradient of" in str(err)
    else:
        assert finite


def test_entering_and_leaving_while_other_threads_compute():
    errors, stop = [], threading.Event()

    def worker():
        try:
            while not stop.is_set():
                x = Value(0.5)
                y = (x * 3.0).tanh() + x.exp()
                y.backward()
                assert x.grad == pytest.approx(3 * (1 - math.tanh(1.5) ** 2) + math.exp(0.5))
        except Exception as e:   # any failure in the worker is reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in range(300):
            with detect_anomaly():
                (Value(1.0) * 2.0).backward()
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert errors == [] and engine_is_untouched()
