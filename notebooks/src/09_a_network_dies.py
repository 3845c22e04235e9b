# %% [markdown]
# # 9. A network dies: dead ReLUs, saturated tanh, and how to see them
#
# A ReLU unit computes $\max(0, z)$ with $z = \mathbf w\cdot\mathbf x + b$. Where $z \le 0$
# its output is 0 **and so is its local derivative**: no gradient flows back to $\mathbf w$
# or $b$. If $z \le 0$ for *every* input, the unit is **dead**: it outputs 0, it learns
# nothing, and nothing will ever bring it back. One step with a learning rate that is too
# large can push a unit's bias far enough negative to kill it.
#
# A tanh (or sigmoid) unit has the opposite problem: when $|z|$ is large its output sits at
# $\pm1$, where $\tanh'(z) = 1 - \tanh^2(z) \approx 0$. The unit is **saturated**: alive, but
# its gradient all but vanishes.
#
# `nn.diagnose(model, X)` runs the model over X (recording no graph) and reports both, per
# layer, with the activations' mean and spread and, once the parameters hold gradients,
# how big the gradients and the last update are next to the weights themselves.

# %%
import random

import matplotlib.pyplot as plt

from autograd import draw
from nn import MLP
from nn.data import load_digits, make_moons, minibatches
from nn.diagnose import diagnose
from nn.optim import SGD
from nn.train import accuracy, loss_for

plt.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "font.size": 9})

X, y = make_moons(200, noise=0.1, seed=0)
healthy = MLP(2, [16, 16, 1], seed=3)
report = diagnose(healthy, X)
print(report)
assert report.dead == []          # every unit fires on some input at the start

# %% [markdown]
# ## Two learning rates, same network
#
# Two copies of the same 2-16-16-1 ReLU network, trained the same way (SGD, batches of 20,
# three epochs on 200 moons points), except for the learning rate: 0.1, and 10. After each
# step we count the dead units.

# %%
def train(lr, epochs=3):
    model = MLP(2, [16, 16, 1], seed=3)
    opt = SGD(model.parameters(), lr)
    rng, dead_counts = random.Random(0), []
    for _ in range(epochs):
        for xb, yb in minibatches(X, y, 20, seed=rng):
            loss = sum(loss_for(model(x), t) for x, t in zip(xb, yb)) / len(xb)
            opt.zero_grad(); loss.backward(); opt.step()
            dead_counts.append(len(diagnose(model, X).dead))
    return model, dead_counts


slow, slow_dead = train(0.1)
fast, fast_dead = train(10.0)
print(f"lr 0.1: {slow_dead[-1]:2d} of 32 units dead, accuracy {accuracy(slow, X, y):.0%}")
print(f"lr 10 : {fast_dead[-1]:2d} of 32 units dead, accuracy {accuracy(fast, X, y):.0%}")

fig, ax = plt.subplots(figsize=(5, 2.6))
ax.plot(slow_dead, label="lr 0.1"); ax.plot(fast_dead, label="lr 10")
ax.set_xlabel("step"); ax.set_ylabel("dead units (of 32)"); ax.legend(); fig.tight_layout(); plt.show()

assert slow_dead[-1] <= 2 and fast_dead[-1] >= 10
assert accuracy(fast, X, y) < accuracy(slow, X, y)

# %% [markdown]
# ## What `diagnose` says
#
# The table flags each layer with dead units; `.dead` names them by their path in the model.

# %%
report = diagnose(fast, X)
print(report)
print(report.dead[:6], "...")
assert "dead" in report.layers[0].flags or "dead" in report.layers[1].flags

# %% [markdown]
# ## Dead means no gradient, on every input
#
# The claim is strong: for a dead unit the gradient of the loss with respect to its weights
# and bias is exactly zero, whatever the input. Check it on the whole data set at once: one
# graph for the mean loss over all 200 points, one `backward()`.

# %%
fast.zero_grad()
(sum(loss_for(fast(x), t) for x, t in zip(X, y)) / len(X)).backward()
params = dict(fast.named_parameters())
for path in report.dead:
    grads = [p.grad for name, p in params.items() if name.startswith(path + ".")]
    assert grads and all(g == 0.0 for g in grads), path
alive = [n.path for layer in fast.layers[:2] for n in layer.neurons if n.path not in report.dead]
moving = [path for path in alive
          if any(p.grad != 0.0 for name, p in params.items() if name.startswith(path + "."))]
print(f"{len(report.dead)} dead units: all their gradients are 0")
print(f"{len(moving)} of the {len(alive)} units still alive get any gradient")

# %% [markdown]
# Worse: a unit that is alive but feeds only dead units downstream gets no gradient either,
# since the chain rule multiplies by their zero local derivatives. Here the network has
# stopped learning altogether.
#
# In the graph of one point's loss, the dead units are greyed: each box shows its output,
# 0, and the gradient that reaches it, which stops there.

# %%
x0, t0 = X[0], y[0]
loss0 = loss_for(fast(x0), t0)
fast.zero_grad(); loss0.backward()
draw(loss0, max_nodes=60, dead=report.dead)

# %% [markdown]
# ## The update-to-data ratio
#
# How big is one step next to the weights it changes? Andrej Karpathy's rule of thumb: the
# standard deviation of the update over that of the weights, per layer, should settle around
# $10^{-3}$ during training. `diagnose(model, X, previous=state)` measures it from the
# weights before the step (`state = model.state_dict()`). On the very first step, when the
# gradients are largest, lr 0.1 moves the weights by about 1 % of themselves; lr 10 moves them
# by about as much as they are: `diagnose` flags those layers as *exploding*.

# %%
def first_step(lr):
    model = MLP(2, [16, 16, 1], seed=3)
    before = model.state_dict()
    opt = SGD(model.parameters(), lr)
    loss = sum(loss_for(model(x), t) for x, t in zip(X[:20], y[:20])) / 20
    opt.zero_grad(); loss.backward(); opt.step()
    return diagnose(model, X, previous=before)


import math

for lr in (0.1, 10.0):
    r = first_step(lr)
    ratios = [math.log10(h.update_data) for h in r.layers]
    print(f"lr {lr:4}: log10 update:data per layer " + ", ".join(f"{v:.1f}" for v in ratios))
    if lr == 10.0:
        assert any("exploding" in h.flags for h in r.layers)
        assert min(ratios) > -0.5
    else:
        assert all(-4 < v < -1 for v in ratios) and not r.flagged

# %% [markdown]
# ## Saturation: tanh with weights that are too large
#
# On the 8×8 digits, a 64-16-16-10 tanh network with micrograd's weights, $U(-1, 1)$, times
# ten puts almost every hidden output within 0.03 of ±1; Xavier's initialisation, which
# scales the weights to the layer's width, keeps them in tanh's responsive middle.

# %%
digits = load_digits()[0][:300]
big = MLP(64, [16, 16, 10], activation="tanh", init="uniform", seed=0)
for name, p in big.named_parameters():
    if ".w." in name:
        p.data *= 10
xavier = MLP(64, [16, 16, 10], activation="tanh", seed=0)
r_big, r_xavier = diagnose(big, digits), diagnose(xavier, digits)
print(r_big, "\n")
print(r_xavier)
assert all(f > 0.9 for f in r_big.saturated.values())
assert all(f < 0.1 for f in r_xavier.saturated.values())

fig, axes = plt.subplots(1, 2, figsize=(7, 2.4), sharey=True)
for ax, model, title in ((axes[0], big, "U(-10, 10) weights"), (axes[1], xavier, "Xavier")):
    outs = []
    for x in digits[:100]:
        h = model.layers[0]([float(v) for v in x])
        outs += [v.data for v in model.layers[1](h)]
    ax.hist(outs, bins=40, range=(-1, 1)); ax.set_title(f"layer 1 tanh outputs, {title}")
fig.tight_layout(); plt.show()

# %% [markdown]
# In a notebook, `report` on its own displays as a table with the flagged layers in red:

# %%
r_big
