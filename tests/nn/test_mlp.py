import math

import pytest
from hypothesis import given, strategies as st

from autograd import Value
from nn import MLP, Layer, Neuron
from nn.mlp import ACTIVATIONS


def test_parameter_counts():
    assert len(MLP(784, [16, 16, 10]).parameters()) == 13002
    assert len(MLP(64, [16, 16, 10]).parameters()) == 64 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10
    assert len(Layer(3, 4).parameters()) == 16
    assert len(Neuron(5).parameters()) == 6


def test_names_labels_and_order():
    m = MLP(3, [2, 1], seed=0)
    names = [n for n, _ in m.named_parameters()]
    assert names[:5] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1",
                         "layers.0.neurons.0.w.2", "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]
    assert names[-1] == "layers.1.neurons.0.b"
    # micrograd's order: layer by layer, neuron by neuron, weights then bias
    expect = [p for layer in m.layers for n in layer.neurons for p in n.w + [n.b]]
    assert all(a is b for a, b in zip(m.parameters(), expect)) and len(expect) == len(names)
    assert all(p.label == n for n, p in m.named_parameters())
    assert m.layers[1].neurons[0].b.scope == "layers.1.neurons.0"
    # a sub-module names its parameters relative to itself, like PyTorch
    assert m.layers[1].named_parameters()[0][0] == "neurons.0.w.0"


@pytest.mark.parametrize("fused", [True, False])
def test_scope_on_every_node_a_neuron_makes(fused):
    m = MLP(3, [4, 2], activation="tanh", seed=1, fused=fused)
    xs = [Value(0.3), Value(-0.2), Value(1.1)]
    outs = m(xs)
    seen, stack = set(), list(outs)
    while stack:
        v = stack.pop()
        if v in seen or v.op == "":
            continue
        seen.add(v)
        assert v.scope is not None and v.scope.startswith("layers."), (v.op, v.scope)
        stack.extend(v.children)
    ops = {v.op for v in seen}
    assert ops == ({"linear", "tanh"} if fused else {"*", "+", "tanh"})
    assert {v.scope for v in seen} == {f"layers.{i}.neurons.{j}" for i, n in enumerate([4, 2])
                                       for j in range(n)}


def test_outputs_and_input_checks():
    m = MLP(2, [3, 1], seed=0)
    assert isinstance(m([1.0, 2.0]), Value)
    assert isinstance(MLP(2, [3, 2])([1.0, 2.0]), list)
    assert isinstance(Layer(2, 1)([1.0, 2.0]), list)
    with pytest.raises(ValueError, match="^layers.0: expected 2 inputs, got 3"):
        m([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="^layers.0.neurons.1: expected 2 inputs, got 1"):
        m.layers[0].neurons[1]([1.0])
    for fused in (True, False):
        with pytest.raises(ValueError, match="^Layer: expected 2 inputs, got 3"):
            Layer(2, 2, fused=fused)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        MLP(2, [3], activation="swish")
    with pytest.raises(ValueError, match="unknown init 'zeros'"):
        MLP(2, [3], init="zeros")
    with pytest.raises(ValueError, match="nouts"):
        MLP(2, [])
    with pytest.raises(ValueError, match="positive int"):
        Neuron(0)


def test_seed_reproducible_and_global_rng_untouched():
    import random
    random.seed(123)
    before = random.random()
    random.seed(123)
    a, b = MLP(4, [5, 3], seed=7), MLP(4, [5, 3], seed=7)
    assert random.random() == before  # building models drew nothing from the global RNG
    assert a.state_dict() == b.state_dict()
    assert a.state_dict() != MLP(4, [5, 3], seed=8).state_dict()


def test_init_ranges_and_zero_bias():
    he = MLP(100, [50], output_activation="relu", seed=0)  # relu -> He: U(±sqrt(6/100))
    ws = [w.data for n in he.layers[0].neurons for w in n.w]
    assert max(map(abs, ws)) <= math.sqrt(6 / 100) and max(map(abs, ws)) > 0.9 * math.sqrt(6 / 100)
    xav = MLP(100, [50], seed=0)  # linear output layer -> Xavier: U(±sqrt(6/150))
    ws = [w.data for n in xav.layers[0].neurons for w in n.w]
    assert max(map(abs, ws)) <= math.sqrt(6 / 150) and max(map(abs, ws)) > 0.9 * math.sqrt(6 / 150)
    uni = MLP(100, [50], init="uniform", seed=0)
    ws = [w.data for n in uni.layers[0].neurons for w in n.w]
    assert max(map(abs, ws)) <= 1 and max(map(abs, ws)) > 0.9
    assert all(n.b.data == 0.0 for m in (he, xav, uni) for n in m.layers[0].neurons)


def _run(model, xs):
    vals = [Value(x) for x in xs]
    out = model(vals)
    outs = out if isinstance(out, list) else [out]
    total = outs[0]
    for i, o in enumerate(outs[1:], 2):
        total = total + o * float(i)  # distinct weights so every output matters
    total.backward()
    return [o.data for o in outs], [p.grad for p in model.parameters()] + [v.grad for v in vals]


@given(seed=st.integers(0, 2**32 - 1),
       sizes=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       nin=st.integers(1, 6),
       activation=st.sampled_from(list(ACTIVATIONS)),
       data=st.data())
def test_fused_and_unfused_agree(seed, sizes, nin, activation, data):
    xs = data.draw(st.lists(st.floats(-3, 3), min_size=nin, max_size=nin))
    fused = MLP(nin, sizes, activation=activation, output_activation=activation, seed=seed)
    unfused = MLP(nin, sizes, activation=activation, output_activation=activation, seed=seed,
                  fused=False)
    out_f, grads_f = _run(fused, xs)
    out_u, grads_u = _run(unfused, xs)
    assert out_f == out_u  # the engine sums in micrograd's order: bit for bit
    for a, b in zip(grads_f, grads_u):
        assert abs(a - b) <= 1e-12 * max(1.0, abs(a))


def test_float_and_value_inputs_agree():
    m = MLP(3, [4, 2], seed=3)
    a = [o.data for o in m([0.1, 0.2, 0.3])]
    b = [o.data for o in m([Value(0.1), Value(0.2), Value(0.3)])]
    assert a == b


def test_zero_grad():
    m = MLP(2, [2, 1], seed=0)
    m([1.0, -1.0]).backward()
    assert any(p.grad for p in m.parameters())
    m.zero_grad()
    assert all(p.grad == 0.0 for p in m.parameters())


@given(st.lists(st.floats(-2, 2), min_size=3, max_size=3), st.integers(0, 100))
def test_input_gradient_matches_finite_differences(xs, seed):
    from autograd import gradcheck
    m = MLP(3, [4, 3], activation="tanh", seed=seed)
    assert gradcheck(lambda *v: sum(o * (i + 1.0) for i, o in enumerate(m(list(v)))), xs)


def test_repr():
    assert repr(MLP(2, [3, 1])) == ("MLP(nin=2, nouts=[3, 1], activation='relu', "
                                    "output_activation=None, init=None, fused=True)")


def test_nn_submodules_are_attributes_as_in_torch():
    import nn
    assert nn.optim.SGD and nn.optim.Adam and nn.data.load_idx and nn.train.fit and nn.init.he


@pytest.mark.parametrize("inputs", [[0.5, -1.0, 2.0], "values", "interior"])
def test_a_fused_layer_builds_what_its_neurons_build(inputs):
    layer = Layer(3, 4, activation="tanh", seed=3)
    if inputs == "values":
        inputs = [Value(0.5), Value(-1.0), Value(2.0)]
    elif inputs == "interior":
        inputs = [Value(0.5).exp(), Value(-1.0), Value(2.0) * 3]
    together, one_by_one = layer(inputs), [n(inputs) for n in layer.neurons]
    for a, b in zip(together, one_by_one):
        assert (a.data, a.op, a.scope) == (b.data, b.op, b.scope)
        (za,), (zb,) = a.children, b.children
        assert (za.op, za.scope, za.children, za.local_grads) == (zb.op, zb.scope, zb.children, zb.local_grads)


def test_huge_models_are_refused_before_allocating():
    import time
    start = time.perf_counter()
    for make, count in [(lambda **k: MLP(2, [10 ** 9], **k), 3 * 10 ** 9),
                        (lambda **k: Layer(10 ** 5, 10 ** 3, **k), (10 ** 5 + 1) * 10 ** 3),
                        (lambda **k: Neuron(10 ** 12, **k), 10 ** 12 + 1)]:
        with pytest.raises(ValueError, match=f"would have {count:,} parameters, more than "
                           "max_parameters=10,000,000; pass max_parameters=None"):
            make()
    assert time.perf_counter() - start < 1.0  # refused, not allocated
    with pytest.raises(ValueError, match="would have 17 parameters, more than max_parameters=16"):
        MLP(2, [4, 1], max_parameters=16)
    assert len(MLP(2, [4, 1], max_parameters=17).parameters()) == 17
    assert MLP.parameter_count(784, [16, 16, 10]) == 13002
    with pytest.raises(ValueError, match="max_parameters must be a positive int or None"):
        MLP(2, [1], max_parameters=2.5)


@pytest.mark.parametrize("make, message", [
    (lambda: Neuron(2, fan_out=-2), "Neuron fan_out must be a positive int.*got -2"),
    (lambda: Neuron(2, fan_out=10 ** 400), "Neuron fan_out must be a positive int.*a huge int"),
    (lambda: MLP(2, "16"), "nouts must be a list of layer sizes, got str"),
    (lambda: MLP(2, 16), "nouts must be a list of layer sizes, got int"),
    (lambda: MLP(2, [True]), r"nouts\[0\] must be a positive int"),
    (lambda: MLP(10 ** 400, [1]), "MLP nin must be a positive int.*a huge int"),
])
def test_bad_sizes_are_named_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()
