# %% [markdown]
# # 5. Gradient descent on a single-layer perceptron
#
# Learning means lowering a cost. The notes' recipe:
#
# 1. compute the gradient $\nabla C$ (the direction of steepest *ascent*),
# 2. take a small step in the direction $-\nabla C$,
# 3. repeat.
#
# In one dimension this is "if the slope is positive, move left; if negative, move right".
# The worked example in the notes is a single-layer perceptron $\hat y = \sum_j w_j x_j$ on a
# data set $\{(x^{(i)}, y^{(i)})\}_{i=1}^n$ with the cost
#
# $$J(\mathbf w) = \tfrac12\sum_{i=1}^n \big(y^{(i)} - \hat y^{(i)}\big)^2 ,$$
#
# for which they derive by hand
#
# $$\frac{\partial J}{\partial w_j} = -\sum_i \big(y^{(i)}-\hat y^{(i)}\big)\,x_j^{(i)},
# \qquad \Delta w_j = -\eta\frac{\partial J}{\partial w_j} = \eta\sum_i \big(y^{(i)}-\hat y^{(i)}\big)\,x_j^{(i)},
# \qquad \mathbf w \leftarrow \mathbf w + \Delta\mathbf w .$$
#
# Here the engine computes $\partial J/\partial w_j$ from the graph; we check that the step it
# takes is the notes' $\Delta\mathbf w$, then run it to convergence.

# %%
import random

import matplotlib.pyplot as plt
import numpy as np

from autograd import Value, linear, no_grad

plt.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "font.size": 9})
rng = np.random.default_rng(0)

# %% [markdown]
# ## One dimension first
#
# Take $C(w) = (w-3)^2/4 + \tfrac12$. The slope $C'(w) = (w-3)/2$ tells the direction. Each step moves
# against the slope, by $\eta$ times its size, so steps shrink as the minimum nears.

# %%
def C(w):
    return (w - 3) ** 2 / 4 + 0.5


w = Value(-1.0)
path = [w.data]
for _ in range(12):
    w.grad = 0.0
    C(w).backward()
    assert w.grad == (w.data - 3) / 2             # the slope C'(w), from the graph
    with no_grad():
        w.data -= 0.8 * w.grad
    path.append(w.data)
assert abs(path[-1] - 3) < 0.01 and all(a < b for a, b in zip(path, path[1:]))

grid = np.linspace(-1.5, 5, 100)
fig, ax = plt.subplots(figsize=(4.5, 2.6))
ax.plot(grid, C(grid), lw=1)
ax.plot(path, [C(p) for p in path], "o-", ms=4, color="C3", label="gradient descent, η = 0.8")
ax.set_xlabel("w"); ax.set_ylabel("C(w)"); ax.legend(fontsize=7)
fig.tight_layout(); plt.show()

# %% [markdown]
# ## The perceptron and the notes' update rule
#
# A synthetic regression problem: $n=60$ points with three features (the third a constant 1,
# so $w_3$ plays the bias), targets from a known weight vector plus noise.

# %%
n, d = 60, 3
X = np.column_stack([rng.normal(size=(n, 2)), np.ones(n)])
w_true = np.array([1.5, -2.0, 0.5])
Y = X @ w_true + 0.3 * rng.normal(size=n)


def cost(w, rows):
    """J(w) = ½ Σ (y − ŷ)² over the given example indices, as a graph."""
    return 0.5 * sum((float(Y[i]) - linear(w, [float(v) for v in X[i]], 0.0)) ** 2 for i in rows)


w = [Value(0.0, f"w{j}") for j in range(d)]
eta = 0.005
J = cost(w, range(n))
J.backward()
w_before = np.array([v.data for v in w])
with no_grad():
    for v in w:
        v.data -= eta * v.grad          # the graph's step: w ← w − η ∂J/∂w
graph_step = np.array([v.data for v in w]) - w_before

y_hat = X @ w_before
notes_step = eta * ((Y - y_hat) @ X)    # Δw_j = η Σᵢ (y⁽ⁱ⁾ − ŷ⁽ⁱ⁾) x_j⁽ⁱ⁾
print("Δw from the graph:", graph_step)
print("Δw from the notes:", notes_step)
assert np.allclose(graph_step, notes_step, rtol=1e-12, atol=1e-15)

# %% [markdown]
# ## Training to convergence
#
# Repeat the step. For this quadratic cost the minimum is the least-squares solution, so we
# can check where gradient descent ends up.

# %%
def full_batch(eta, steps):
    w = [Value(0.0) for _ in range(d)]
    losses = []
    for _ in range(steps):
        for v in w:
            v.grad = 0.0
        J = cost(w, range(n))
        J.backward()
        losses.append(J.data)
        with no_grad():
            for v in w:
                v.data -= eta * v.grad
    return np.array([v.data for v in w]), losses


w_gd, losses = full_batch(eta=0.005, steps=150)
w_ls = np.linalg.lstsq(X, Y, rcond=None)[0]
J_min = 0.5 * np.sum((Y - X @ w_ls) ** 2)
print("gradient descent:", w_gd.round(4), "  least squares:", w_ls.round(4))
assert np.allclose(w_gd, w_ls, atol=1e-6)
# small enough η: the cost never rises (up to rounding once converged)
assert all(b <= a * (1 + 1e-12) for a, b in zip(losses, losses[1:]))

# %% [markdown]
# ## Minibatch SGD versus full batch
#
# The notes point out that computing the gradient over the whole training set for every step
# is slow; in practice each step uses a small random *minibatch*. Each step is cheaper and
# noisier. Below, both methods see the same number of examples (one epoch = $n$ examples):
# full batch takes one step per epoch, minibatches of 6 take ten. The minibatch gradient is
# averaged over its examples (cost per example $\tfrac12(y-\hat y)^2$), so a larger learning
# rate is fair.

# %%
def sgd(eta, epochs, batch, seed=0):
    order_rng = random.Random(seed)
    w = [Value(0.0) for _ in range(d)]
    idx = list(range(n))
    history = []
    for _ in range(epochs):
        order_rng.shuffle(idx)
        for start in range(0, n, batch):
            rows = idx[start:start + batch]
            for v in w:
                v.grad = 0.0
            (cost(w, rows) / len(rows)).backward()
            with no_grad():
                for v in w:
                    v.data -= eta * v.grad
        with no_grad():
            history.append(cost(w, range(n)).data)
    return np.array([v.data for v in w]), history


epochs = 15
_, fb = full_batch(eta=0.005, steps=epochs + 1)
fb = fb[1:]                                   # the cost after each full-batch step
w_sgd, mb = sgd(eta=0.1, epochs=epochs, batch=6)
print(f"after {epochs} epochs: full batch J = {fb[-1]:.3f}, minibatch J = {mb[-1]:.3f}, optimum {J_min:.3f}")
assert mb[-1] < fb[-1]                        # same examples seen, ten times as many steps
assert mb[-1] < 1.1 * J_min and np.allclose(w_sgd, w_ls, atol=0.1)

fig, ax = plt.subplots(figsize=(5, 3))
ax.semilogy(range(1, epochs + 1), np.array(fb) - J_min + 1e-3, "o-", ms=3, label="full batch (1 step/epoch)")
ax.semilogy(range(1, epochs + 1), np.array(mb) - J_min + 1e-3, "o-", ms=3, label="minibatch of 6 (10 steps/epoch)")
ax.set_xlabel("epoch"); ax.set_ylabel("J − J_min (+1e-3)"); ax.legend(fontsize=7)
fig.tight_layout(); plt.show()

# %% [markdown]
# The minibatch curve flattens a little above the optimum instead of reaching it: with a
# constant learning rate the noise in each step keeps the weights jittering around the
# minimum. Decaying $\eta$ (or averaging the iterates) removes that floor.
#
# ## With an activation
#
# If the perceptron has an output non-linearity, $\hat y = \sigma(z)$ with $z=\sum_j w_j x_j$,
# the chain rule inserts one more factor and the notes' rule becomes
# $\Delta w_j = \eta\sum_i (y^{(i)}-\hat y^{(i)})\,\sigma'(z^{(i)})\,x_j^{(i)}$. The graph
# produces it without being told:

# %%
Yb = (Y > 0).astype(float)                    # targets in [0, 1] for a sigmoid output
w = [Value(v) for v in (0.3, -0.2, 0.1)]
J = 0.5 * sum((float(Yb[i]) - linear(w, [float(v) for v in X[i]], 0.0).sigmoid()) ** 2 for i in range(n))
J.backward()
w0 = np.array([v.data for v in w])
s = 1 / (1 + np.exp(-(X @ w0)))
notes_step = eta * ((Yb - s) * s * (1 - s)) @ X
graph_step = -eta * np.array([v.grad for v in w])
assert np.allclose(graph_step, notes_step, rtol=1e-12, atol=1e-15)
print("Δw with a sigmoid output, graph vs notes:", graph_step, notes_step)
