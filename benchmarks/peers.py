"""The peers we race, imported only when installed.

PyTorch and micrograd are benchmark extras, never runtime dependencies: a missing one turns
its rows into "missing" instead of stopping the suite.
"""
import math

try:
    import torch
except ImportError:
    torch = None
else:
    # One thread, like the scalar engines, and the machine is shared: tiny tensors gain
    # nothing from more threads anyway.
    torch.set_num_threads(1)

try:
    import micrograd.engine
    import micrograd.nn
except ImportError:
    micrograd = None


def torch_mlp(layers):
    """(params, forward) for PyTorch float64 from [(W rows, b), ...]: ReLU on hidden layers,
    the last linear, as our MLP and the floor compute it."""
    F = torch.nn.functional
    params = []
    for W, b in layers:
        params += [torch.tensor(W, dtype=torch.float64, requires_grad=True),
                   torch.tensor(b, dtype=torch.float64, requires_grad=True)]
    pairs = list(zip(params[::2], params[1::2]))
    last = len(pairs) - 1

    def forward(h):
        for k, (W, b) in enumerate(pairs):
            h = F.linear(h, W, b)
            if k != last:
                h = torch.relu(h)
        return h
    return params, forward


def missing():
    """{peer name: what to install} for each absent peer."""
    out = {}
    if torch is None:
        out["torch"] = "pip install torch==2.13.0 (CPU build)"
    if micrograd is None:
        out["micrograd"] = "pip install micrograd==0.1.0"
    return out


def versions():
    return {"torch": torch.__version__ if torch else None,
            "micrograd": "0.1.0" if micrograd else None}


# micrograd 0.1.0 has only + * ** relu; W2's cross-entropy needs exp and log. Added here in
# micrograd's own style (a node plus a backward closure), so its cost model stays micrograd's.
def mg_exp(v):
    Value = micrograd.engine.Value
    out = Value(math.exp(v.data), (v,), "exp")

    def _backward():
        v.grad += out.data * out.grad
    out._backward = _backward
    return out


def mg_log(v):
    Value = micrograd.engine.Value
    out = Value(math.log(v.data), (v,), "log")

    def _backward():
        v.grad += out.grad / v.data
    out._backward = _backward
    return out
