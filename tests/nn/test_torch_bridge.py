import random
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st

from nn import MLP, binary_cross_entropy, cross_entropy
from nn.mlp import ACTIVATIONS
from nn.optim import SGD, Adam
from nn.torch_bridge import from_torch, parameter_map, to_torch
from nn.torch_modules import Softplus

ALL_ACTIVATIONS = list(ACTIVATIONS)  # None included
SHAPES = [(3, [5, 1]), (64, [16, 16, 10]), (784, [16, 16, 10])]


def batch(nin, nout, n, seed):
    rng = random.Random(seed)
    X = [[rng.uniform(-1.0, 1.0) for _ in range(nin)] for _ in range(n)]
    y = [rng.randrange(nout) if nout > 1 else rng.randrange(2) for _ in range(n)]
    return X, y


def chainrule_loss(model, X, y):
    outs = [model(x) for x in X]
    return (cross_entropy(outs, y) if isinstance(outs[0], list)
            else binary_cross_entropy(outs, y)), outs


def torch_loss(net, X, y, nout):
    out = net(torch.tensor(X, dtype=torch.float64))
    if nout > 1:
        return F.cross_entropy(out, torch.tensor(y)), out
    return F.binary_cross_entropy_with_logits(out[:, 0], torch.tensor(y, dtype=torch.float64)), out


def assert_close(ours, theirs, rel, what):
    """Every pair within `rel` of the larger of the two, and entries below 1 % of the
    largest within `rel` of that 1 %: an entry that is a sum with cancellation (a gradient
    near 0) can only be as exact as the terms it was summed from."""
    scale = max(max(abs(a), abs(b)) for a, b in zip(ours, theirs))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert abs(a - b) <= rel * max(abs(a), abs(b), scale * 1e-2), \
            f"{what}[{i}]: chainrule {a!r}, torch {b!r}"


def compare_grads(model, net, rel):
    params = dict(net.named_parameters())
    mapping = parameter_map(model)
    ours, theirs, names = [], [], []
    for name, p in model.named_parameters():
        tname, index = mapping[name]
        ours.append(p.grad)
        theirs.append(params[tname].grad[index].item())
        names.append(name)
    # per tensor, so a layer with small gradients is held to its own scale
    by_tensor = {}
    for name, a, b in zip(names, ours, theirs):
        by_tensor.setdefault(mapping[name][0], []).append((a, b))
    for tname, pairs in by_tensor.items():
        assert_close([a for a, _ in pairs], [b for _, b in pairs], rel, f"grad of {tname}")


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
@pytest.mark.parametrize("nin,nouts", SHAPES)
def test_outputs_and_gradients_equal_pytorchs(activation, nin, nouts):
    model = MLP(nin, nouts, activation=activation, seed=1)
    net = to_torch(model)
    X, y = batch(nin, nouts[-1], 3, seed=2)
    loss, outs = chainrule_loss(model, X, y)
    loss.backward()
    tloss, tout = torch_loss(net, X, y, nouts[-1])
    tloss.backward()
    flat = [o.data for out in outs for o in (out if isinstance(out, list) else [out])]
    assert_close(flat, tout.flatten().tolist(), 1e-12, "output")
    assert abs(loss.data - tloss.item()) <= 1e-12 * abs(loss.data)
    compare_grads(model, net, 1e-12)


@pytest.mark.parametrize("output_activation", ALL_ACTIVATIONS)
@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
def test_every_activation_and_output_activation(activation, output_activation):
    model = MLP(3, [6, 5, 4], activation=activation, output_activation=output_activation, seed=3)
    net = to_torch(model)
    # inputs large enough to reach softplus's region above 20, where torch.nn.Softplus differs
    X = [[25.0, -3.0, 0.5], [-30.0, 2.0, -0.25], [0.1, 0.2, 0.3]]
    outs = [model(x) for x in X]
    total = sum(o for out in outs for o in out)
    total.backward()
    tout = net(torch.tensor(X, dtype=torch.float64))
    tout.sum().backward()
    assert_close([o.data for out in outs for o in out], tout.flatten().tolist(), 1e-12, "output")
    compare_grads(model, net, 1e-12)


def test_layout_and_parameter_map_are_as_documented():
    model = MLP(3, [4, 2], activation="leaky_relu", seed=0)
    net = to_torch(model)
    assert [type(m).__name__ for m in net] == ["Linear", "LeakyReLU", "Linear"]
    assert net[1].negative_slope == 0.01
    assert all(p.dtype == torch.float64 for p in net.parameters())
    mapping = parameter_map(model)
    assert mapping["layers.1.neurons.1.w.3"] == ("2.weight", (1, 3))
    assert mapping["layers.0.neurons.2.b"] == ("0.bias", (2,))
    params = dict(net.named_parameters())
    for name, p in model.named_parameters():
        tname, index = mapping[name]
        assert params[tname][index].item() == p.data
    linear_only = parameter_map(MLP(3, [4, 2], activation=None, seed=0))
    assert linear_only["layers.1.neurons.0.b"] == ("1.bias", (0,))


def test_torch_module_is_a_copy():
    model = MLP(2, [3, 1], seed=0)
    net = to_torch(model)
    with torch.no_grad():
        net[0].weight.add_(1.0)
    assert model.layers[0].neurons[0].w[0].data != net[0].weight[0, 0].item()


@settings(max_examples=40, deadline=None)
@given(nin=st.integers(1, 6), nouts=st.lists(st.integers(1, 6), min_size=1, max_size=4),
       activation=st.sampled_from(ALL_ACTIVATIONS), output=st.sampled_from(ALL_ACTIVATIONS),
       seed=st.integers(0, 2**32 - 1), fused=st.booleans())
def test_round_trip_is_bit_identical(nin, nouts, activation, output, seed, fused):
    model = MLP(nin, nouts, activation=activation, output_activation=output, seed=seed,
                fused=fused)
    back = from_torch(to_torch(model), fused=fused)
    assert [(n, p.data.hex()) for n, p in back.named_parameters()] == \
           [(n, p.data.hex()) for n, p in model.named_parameters()]
    expect = model.config()
    if len(nouts) == 1:  # a single layer has no hidden activation to carry over
        expect["activation"] = "relu"
    assert back.config() == expect


def test_float32_module_is_read_exactly():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1))
    model = from_torch(net)
    assert model.config()["activation"] == "tanh"
    assert model.layers[0].neurons[1].w[2].data == float(net[0].weight[1, 2].item())
    assert model.layers[1].neurons[0].b.data == float(net[2].bias[0].item())


def test_torch_softplus_is_accepted_and_ours_is_exact_above_20():
    from autograd import Value
    net = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Softplus(), torch.nn.Linear(1, 1))
    assert from_torch(net).activation == "softplus"
    x = torch.tensor([30.0, -800.0, 800.0, 0.0], dtype=torch.float64)
    assert Softplus()(x).tolist() == [Value(v).softplus().data for v in x.tolist()]


L, R, T = torch.nn.Linear, torch.nn.ReLU, torch.nn.Tanh


@pytest.mark.parametrize("module,message", [
    (lambda: torch.nn.Sequential(L(2, 3), torch.nn.Dropout()), "layer 1 (Dropout"),
    (lambda: torch.nn.Sequential(L(2, 3, bias=False)), "layer 0 (Linear"),
    (lambda: torch.nn.Sequential(L(2, 3), torch.nn.LeakyReLU(0.2)), "layer 1 (LeakyReLU"),
    (lambda: torch.nn.Sequential(L(2, 3), torch.nn.ELU(alpha=0.5)), "layer 1 (ELU"),
    (lambda: torch.nn.Sequential(L(2, 3), torch.nn.GELU("tanh")), "layer 1 (GELU"),
    (lambda: torch.nn.Sequential(L(2, 3), torch.nn.Softplus(beta=2)), "layer 1 (Softplus"),
    (lambda: torch.nn.Sequential(R(), L(2, 3)), "layer 0 (ReLU"),
    (lambda: torch.nn.Sequential(L(2, 3), R(), T()), "layer 2 (Tanh"),
    (lambda: torch.nn.Sequential(L(2, 3), L(4, 1)), "layer 1 (Linear"),
    (lambda: torch.nn.Sequential(L(2, 3), R(), L(3, 3), T(), L(3, 1)),
     "layer 2's activation is 'tanh'"),
    (lambda: torch.nn.Sequential(), "no Linear"),
])
def test_from_torch_refuses_what_an_mlp_cannot_be(module, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        from_torch(module())


def test_from_torch_refuses_non_finite_weights_naming_them():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2, dtype=torch.float64))
    with torch.no_grad():
        net[0].weight[1, 0] = float("nan")
    with pytest.raises(ValueError, match=r"layer 0's weight\[1, 0\] is nan"):
        from_torch(net)


def test_wrong_types_are_refused():
    with pytest.raises(TypeError, match="expected an nn.MLP, got list"):
        to_torch([1, 2])
    with pytest.raises(TypeError, match="expected a torch.nn.Sequential, got Linear"):
        from_torch(torch.nn.Linear(2, 2))


def run_steps(make_ours, make_theirs, steps=20):
    model = MLP(64, [16, 16, 10], activation="tanh", seed=5)
    net = to_torch(model)
    X, y = batch(64, 10, 8, seed=6)
    opt, topt = make_ours(model.parameters()), make_theirs(net.parameters())
    for _ in range(steps):
        opt.zero_grad()
        chainrule_loss(model, X, y)[0].backward()
        opt.step()
        topt.zero_grad()
        torch_loss(net, X, y, 10)[0].backward()
        topt.step()
    params = dict(net.named_parameters())
    mapping = parameter_map(model)
    for name, p in model.named_parameters():
        tname, index = mapping[name]
        t = params[tname][index].item()
        assert abs(p.data - t) <= 1e-10 * max(1.0, abs(t)), f"{name}: {p.data!r} vs {t!r}"
    # the steps did something: the final weights are not the initial ones
    start = MLP(64, [16, 16, 10], activation="tanh", seed=5).state_dict()
    assert sum(start[n] != p.data for n, p in model.named_parameters()) > 1000


def test_twenty_sgd_steps_match_torch_optim():
    run_steps(lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3),
              lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3))


def test_twenty_adam_steps_match_torch_optim():
    run_steps(lambda ps: Adam(ps, lr=0.01, weight_decay=1e-4),
              lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=1e-4))


def test_without_torch_each_entry_point_names_the_extra():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from nn import MLP\n"
        "from nn.torch_bridge import to_torch, from_torch\n"
        "for f, arg in ((to_torch, MLP(2, [1], seed=0)), (from_torch, None)):\n"
        "    try:\n"
        "        f(arg)\n"
        "    except ImportError as e:\n"
        "        print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines == [
        "nn.to_torch needs PyTorch, which is not installed: pip install 'chainrule[torch]'",
        "nn.from_torch needs PyTorch, which is not installed: pip install 'chainrule[torch]'",
    ]
