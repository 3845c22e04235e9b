# %% [markdown]
# # 7. micrograd's demo: two moons, a 2-16-16-1 network, a max-margin loss
#
# Andrej Karpathy's micrograd ends with a demo that fits in one screen: a binary classifier
# on scikit-learn's "moons" data set, trained by full-batch gradient descent on an SVM-style
# loss. Every piece of it is something the earlier lessons checked by hand; here they work
# together. We rebuild it with this project's `nn` package.
#
# The setup, as in micrograd:
#
# * 100 points, noise 0.1, labels $y\in\{-1,+1\}$;
# * `MLP(2, [16, 16, 1])`: two ReLU layers and one linear output, the **score** $s(\mathbf x)$;
#   weights drawn from $U(-1, 1)$ as micrograd does;
# * the **max-margin (hinge) loss** $\frac1n\sum_i \max(0,\, 1 - y_i s(\mathbf x_i))$ plus an
#   L2 penalty $\alpha\sum_p p^2$ with $\alpha = 10^{-4}$;
# * 100 steps of gradient descent with the learning rate falling linearly from 1.0 to 0.1.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from autograd import draw, grad, no_grad
from autograd.backprop import topo_order
from nn import MLP, hinge_loss
from nn.data import make_moons

plt.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "font.size": 9})

X, labels = make_moons(100, noise=0.1, seed=1337)
y = [2 * t - 1 for t in labels]                   # {0, 1} -> {-1, +1}
assert sorted(set(y)) == [-1, 1] and sum(t == 1 for t in y) == 50

Xa = np.array(X)
fig, ax = plt.subplots(figsize=(4, 3))
ax.scatter(Xa[:, 0], Xa[:, 1], c=y, cmap="coolwarm", s=14, edgecolors="k", linewidths=0.3)
ax.set_title("make_moons(100, noise=0.1)"); fig.tight_layout(); plt.show()

# %% [markdown]
# ## The model, and two ways to build its graph
#
# A neuron's $\sum_i w_ix_i + b$ can be recorded micrograd's way, one `*` node per weight and a
# chain of `+` nodes (`fused=False`), or as one n-ary `linear` node (`fused=True`, the
# default). Both add in the same order, so they give the same numbers to the last bit — the
# fused graph is just smaller.

# %%
model = MLP(2, [16, 16, 1], init="uniform", seed=1337)
unfused = MLP(2, [16, 16, 1], init="uniform", seed=1337, fused=False)
print(model, f"with {len(model.parameters())} parameters")
assert len(model.parameters()) == 16 * 3 + 16 * 17 + 17 == 337

s_f, s_u = model(X[0]), unfused(X[0])
print(f"score of the first point: fused {s_f.data!r}, unfused {s_u.data!r}")
print(f"interior nodes: fused {len(topo_order(s_f))}, unfused {len(topo_order(s_u))}")
assert s_f.data == s_u.data
g_f = [g.data for g in grad(s_f, model.parameters())]
g_u = [g.data for g in grad(s_u, unfused.parameters())]
assert g_f == g_u                                  # identical gradients too

# %% [markdown]
# Drawn node by node, even this small network is hundreds of boxes. `draw` collapses a graph
# above `max_nodes` into one box per neuron (it knows which neuron made each node):

# %%
draw(s_f, max_nodes=60, rankdir="LR")

# %% [markdown]
# ## The loss
#
# The hinge loss of one point is $\max(0,\, 1 - y_i s_i)$: zero once the point is on the right
# side *with margin* ($y_i s_i \ge 1$), linear otherwise. So its gradient with respect to the
# score is $-y_i/n$ for points inside the margin and exactly $0$ for the others: only the
# points that are wrong or barely right push on the weights. The graph shows exactly that.

# %%
ALPHA = 1e-4


def total_loss(model):
    scores = [model(x) for x in X]
    data_loss = hinge_loss(scores, y)             # the batch mean
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    accuracy = np.mean([(t > 0) == (s.data > 0) for t, s in zip(y, scores)])
    return data_loss + reg_loss, data_loss, scores, accuracy


loss, data_loss, scores, acc = total_loss(model)
d_scores = grad(data_loss, scores)
inside = [t * s.data < 1 for t, s in zip(y, scores)]
for t, s, g, ins in zip(y, scores, d_scores, inside):
    assert g.data == (-t / len(X) if ins else 0.0)
print(f"before training: loss {loss.data:.4f}, accuracy {acc:.0%}, "
      f"{sum(inside)} of {len(X)} points inside the margin")

# %% [markdown]
# ## Training: micrograd's loop, watched live
#
# Full batch: every step builds the graph of the loss over all 100 points, runs backward, and
# moves each parameter against its gradient.
#
# `nn.live.LiveView` watches it: the loop tells it when it starts, after each step, and when
# it ends, and the view redraws one output in place while the cell runs: the loss and
# accuracy so far, the decision boundary, each layer's health (dead units, the sizes of
# gradients and updates; lesson 9 explains them), and the graph of one point's loss with its
# current data and gradients. It draws at most twice a second, and only as often as keeps its
# drawing under a fifth of the training time (`budget=0.2`). Given a file name, it also
# records frames (50 here, one every other step) and writes a replay page at the end.
# (`fit(..., live=True)` does all this for the library's own training loop.)

# %%
import tempfile
from pathlib import Path

from nn.live import LiveView

replay = Path(tempfile.mkdtemp()) / "moons_replay.html"
view = LiveView(str(replay), frames=50)
view.on_start(model, X, labels, total_steps=100, title="micrograd's moons: 2-16-16-1, hinge loss",
              loss=lambda score, label: hinge_loss(score, 2 * label - 1))
history = []
start = time.perf_counter()
for k in range(100):
    loss, data_loss, scores, acc = total_loss(model)
    model.zero_grad()
    loss.backward()
    lr = 1.0 - 0.9 * k / 100
    with no_grad():
        for p in model.parameters():
            p.data -= lr * p.grad
    history.append((loss.data, acc))
    view.on_step(k + 1, data_loss.data)
view.on_end()
final_loss, _, _, final_acc = total_loss(model)
print(f"after 100 steps: loss {final_loss.data:.4f}, accuracy {final_acc:.0%} "
      f"({time.perf_counter() - start:.1f} s)")
assert final_acc >= 0.99
assert final_loss.data < 0.1 * history[0][0]

assert [f["step"] for f in view.frames] == list(range(0, 101, 2))   # before the first step, then every other
assert all(f["loss"] == view.losses[f["step"] - 1] for f in view.frames[1:])

# %% [markdown]
# ## The replay
#
# The page the view wrote replays the run offline, in any browser: play, pause, step with the
# arrow keys or drag the slider; each frame shows its step, its losses exactly as training
# computed them, the layer-health table, and the decision boundary: each frame keeps the
# model's weights and biases at that step, and the page runs the network on a fine grid
# itself. It is one self-contained file of a few hundred kB that loads nothing. Here it is inline (it plays once the notebook is trusted, e.g. after
# running it):

# %%
import html

from IPython.display import HTML

page = replay.read_text(encoding="utf-8")
print(f"{replay.name}: {len(page) / 1e3:.0f} kB, {len(view.frames)} frames")
assert len(page) < 5_000_000
HTML(f'<div><iframe srcdoc="{html.escape(page)}" style="width: 100%; height: 640px; '
     f'border: 1px solid #ddd"></iframe></div>')

# %% [markdown]
# ## The decision boundary
#
# Evaluate the trained score on a grid (under `no_grad`: no graph needed) and colour each
# point by its sign. ReLU networks are piecewise linear, so the boundary is made of straight
# segments, bent wherever a hidden unit switches on or off.

# %%
xx, yy = np.meshgrid(np.linspace(-1.6, 2.6, 70), np.linspace(-1.1, 1.6, 50))
with no_grad():
    Z = np.array([model([float(a), float(b)]).data for a, b in zip(xx.ravel(), yy.ravel())])
Z = Z.reshape(xx.shape)
with no_grad():
    train_scores = np.array([model(x).data for x in X])
assert np.mean(np.sign(train_scores) == np.array(y)) >= 0.99

fig, ax = plt.subplots(figsize=(5, 3.4))
ax.contourf(xx, yy, Z > 0, cmap="coolwarm", alpha=0.35)
ax.contour(xx, yy, Z, levels=[-1, 0, 1], colors="k", linewidths=[0.5, 1.2, 0.5], linestyles=["--", "-", "--"])
ax.scatter(Xa[:, 0], Xa[:, 1], c=y, cmap="coolwarm", s=14, edgecolors="k", linewidths=0.3)
ax.set_title("decision boundary (solid) and margins s = ±1 (dashed)")
fig.tight_layout(); plt.show()
