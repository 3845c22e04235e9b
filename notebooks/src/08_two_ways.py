# %% [markdown]
# # 8. Two ways to apply the chain rule
#
# A network is a composition, $f = f_3 \circ f_2 \circ f_1$, and the chain rule makes its
# derivative a product of the pieces' derivatives (their Jacobians):
#
# $$\frac{\partial f}{\partial x} = J_3\,J_2\,J_1 .$$
#
# A product of matrices can be multiplied in any order and gives the same numbers. Two orders
# are natural:
#
# - **forward mode**, right to left, $J_3\,(J_2\,(J_1\,v))$: start at the inputs with a
#   direction $v$ (a *tangent*) and carry "how much does this node move when the inputs move
#   along $v$" forward, node by node, to the output;
# - **reverse mode**, left to right, $((u^\top J_3)\,J_2)\,J_1$: start at the output with
#   $\partial L/\partial L = 1$ and carry "how much does the output move when this node moves"
#   backward. This is backpropagation, what `backward()` does.
#
# Both read the same edges of the same graph and multiply the same local derivatives
# ∂node/∂child (the numbers the op table stores on each node). They differ in cost: a
# forward sweep gives the derivative of **every output** with respect to **one input
# direction** (a column of the Jacobian); a reverse pass gives the derivative of **one
# output** with respect to **every input** (a row). This lesson runs both on the same graphs,
# counts what each costs, takes second derivatives by combining them, and ends with a tool
# built on the same graph walk: finding where a nan or an infinity first appeared.

# %%
import math
import random
import time

import matplotlib.pyplot as plt
import numpy as np

from autograd import Value, draw, grad, step_through, topo_order
from autograd.anomaly import AnomalyError, detect_anomaly
from autograd.forward import forward_order, hessian, jacobian, jvp
from nn import MLP, mse_loss
from nn.data import make_moons

plt.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "font.size": 9})


def close(a, b, tol=1e-12):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))

# %% [markdown]
# ## One graph, both directions
#
# $L = a\cdot\tanh(a b + a)$ at $a = 1.5$, $b = -0.5$. Reverse mode, as in lesson 3: one
# backward pass fills in $\partial L/\partial a$ **and** $\partial L/\partial b$.

# %%
a, b = Value(1.5, label="a"), Value(-0.5, label="b")
h = a * b;            h.label = "h"
s = h + a;            s.label = "s"
t = s.tanh();         t.label = "t"
L = t * a;            L.label = "L"
L.backward()
print(step_through(L))
dL_da = (1 - t.data ** 2) * (b.data + 1) * a.data + t.data   # by hand
dL_db = (1 - t.data ** 2) * a.data * a.data
assert close(a.grad, dL_da) and close(b.grad, dL_db)

# %% [markdown]
# Forward mode with respect to $a$: seed $da/da = 1$ (and $db/da = 0$: $b$ is held fixed),
# then visit the nodes in the order the forward pass computed them, each time adding
# (local derivative) × (the child's tangent). The products are the same numbers as above,
# met in the opposite order; at the end we know $dL/da$, and nothing about $b$.

# %%
forward = step_through(L, mode="forward", wrt=a)
print(forward)
last = forward.steps[-1]
assert last["phase"] == "tangent" and last["node"] == "n0"     # n0 is the root, L
assert close(last["tangent"], a.grad)
forward

# %% [markdown]
# `jvp(f, inputs, tangents)` does the same for any function, without the stepper: it records
# the graph once and pushes the tangents through the stored local derivatives (no reverse
# pass, no finite differences). For $b$ we need a second sweep, with the tangent on $b$; a
# general direction $v$ gives $\nabla L\cdot v$ in one sweep.

# %%
f = lambda a, b: (a * b + a).tanh() * a
value, d_da = jvp(f, [1.5, -0.5], [1.0, 0.0])
_, d_db = jvp(f, [1.5, -0.5], [0.0, 1.0])
_, d_v = jvp(f, [1.5, -0.5], [0.6, 0.8])
print(f"L = {value:.6f}   dL/da = {d_da:.6f}   dL/db = {d_db:.6f}   ∇L·(0.6, 0.8) = {d_v:.6f}")
assert value == L.data
assert close(d_da, a.grad) and close(d_db, b.grad)
assert close(d_v, 0.6 * a.grad + 0.8 * b.grad)

# %% [markdown]
# ## What each costs: n inputs, m outputs
#
# A pass of either kind walks the edges of the graph once, one multiply-add per edge. The
# whole Jacobian ($m$ rows, $n$ columns) therefore costs
#
# | | passes | edges walked |
# |---|---|---|
# | reverse | $m$, one per output | each output's own graph, summed over the outputs |
# | forward | $n$, one per input | the whole graph, $n$ times |
#
# **A loss and its parameters** ($m = 1$, $n$ large). A network of the shape of micrograd's
# (lesson 7), 2-16-16-1, here with tanh, and a mean-squared-error loss on 16 points. To differentiate with respect to the
# parameters, `loss_of(*params)` puts the Values it is given into the model's neurons.

# %%
X, y = make_moons(16, 0.1, 0)
targets = [2.0 * t - 1.0 for t in y]
model = MLP(2, [16, 16, 1], activation="tanh", seed=0)
theta = [p.data for p in model.parameters()]


def loss_function(model, X, targets):
    """The model's MSE on (X, targets) as a function of its parameters, each given as an
    argument (what jvp, jacobian and hessian differentiate)."""
    neurons = [n for layer in model.layers for n in layer.neurons]

    def loss(*params):
        k = 0
        for n in neurons:
            n.w, n.b = list(params[k:k + n.nin]), params[k + n.nin]
            k += n.nin + 1
        return mse_loss([model(x) for x in X], targets)
    return loss


loss_of = loss_function(model, X, targets)


def edges(nodes):
    """Multiply-adds of one pass over these nodes: one per edge."""
    return sum(len(node.children) for node in nodes)


loss = loss_of(*[Value(t) for t in theta])
E = edges(topo_order(loss))
n, m = len(theta), 1
timings = {}
for mode in ("rev", "fwd"):
    start = time.perf_counter()
    J = jacobian(loss_of, theta, mode=mode)
    timings[mode] = (time.perf_counter() - start, J)
(t_rev, J_rev), (t_fwd, J_fwd) = timings["rev"], timings["fwd"]
print(f"n = {n} parameters, m = {m} output, {E:,} edges in the graph")
print(f"reverse: {m} pass  × {E:,} edges = {m * E:>10,} multiply-adds   {t_rev * 1e3:7.1f} ms")
print(f"forward: {n} sweeps × {E:,} edges = {n * E:>10,} multiply-adds   {t_fwd * 1e3:7.1f} ms")
assert n == 337 and len(J_rev) == len(J_fwd) == 1
assert all(close(r, f_) for r, f_ in zip(J_rev[0], J_fwd[0]))
assert edges(forward_order([loss])) == E    # a forward sweep walks the same edges

# %% [markdown]
# Same gradient to the last digits, and forward mode did 337 times the work. This is why
# training uses reverse mode: a loss is one number, and there are many parameters.
#
# **One input, many outputs** ($n = 1$, $m$ large). A recurrence
# $h_{k+1} = \tanh(0.9\,h_k + 0.5\,x)$, watched at every one of 200 steps: the outputs are
# $h_1, \dots, h_{200}$ and we want each $dh_k/dx$. Output $k$'s graph holds the first $k$
# steps, so the $m$ reverse passes walk $1 + 2 + \dots + 200$ steps' worth of edges, while
# one forward sweep walks the chain once.

# %%
STEPS = 200


def trajectory(x):
    h, out = x, []
    for _ in range(STEPS):
        h = (h * 0.9 + x * 0.5).tanh()
        out.append(h)
    return out


hs = trajectory(Value(0.3))
rev_cost = sum(edges(topo_order(h_k)) for h_k in hs)   # one reverse pass per output
fwd_cost = edges(forward_order(hs))                    # one sweep reaches every output
timings = {}
for mode in ("rev", "fwd"):
    start = time.perf_counter()
    J = jacobian(trajectory, [0.3], mode=mode)
    timings[mode] = (time.perf_counter() - start, J)
(t_rev, J_rev), (t_fwd, J_fwd) = timings["rev"], timings["fwd"]
print(f"n = 1 input, m = {STEPS} outputs")
print(f"reverse: {STEPS} passes = {rev_cost:>8,} multiply-adds   {t_rev * 1e3:7.1f} ms")
print(f"forward:   1 sweep  = {fwd_cost:>8,} multiply-adds   {t_fwd * 1e3:7.1f} ms")
per_step = fwd_cost // STEPS
assert fwd_cost == per_step * STEPS and rev_cost == per_step * STEPS * (STEPS + 1) // 2
assert all(close(r[0], f_[0]) for r, f_ in zip(J_rev, J_fwd))

fig, ax = plt.subplots(figsize=(5, 2.4))
ax.plot(range(1, STEPS + 1), [row[0] for row in J_fwd])
ax.set_xlabel("step k"); ax.set_ylabel("dh_k / dx"); ax.set_title("one forward sweep, every output")
plt.tight_layout(); plt.show()

# %% [markdown]
# Now the roles are swapped: $m(m+1)/2$ against $m$, a hundredfold here. Forward mode wins
# when there are few inputs and many outputs (sensitivities of a simulation to one
# parameter); reverse mode when there are many inputs and few outputs (every loss).
#
# ## Second derivatives: forward over reverse
#
# The Hessian $H_{ij} = \partial^2 L/\partial x_i \partial x_j$ is the Jacobian of the
# gradient. `grad(L, params, create_graph=True)` records the gradient itself as a graph
# (lesson 2 used it for $\sigma''$); `hessian` then runs one forward sweep per input through
# that graph, a column of $H$ each: **forward over reverse**, the combination JAX's `hessian`
# uses too. Here: a 2-3-1 tanh network's loss on 8 points, 13 parameters.

# %%
small = MLP(2, [3, 1], activation="tanh", seed=3)
theta_small = [p.data for p in small.parameters()]
small_loss = loss_function(small, X[:8], targets[:8])


H = np.array(hessian(small_loss, theta_small))
size = np.abs(H).max()
asymmetry = np.abs(H - H.T).max()
print(f"{H.shape[0]}×{H.shape[1]} Hessian, largest |entry| {size:.4f}, "
      f"largest |H - Hᵀ| {asymmetry:.2e}")
assert asymmetry <= 1e-12 * size   # ∂²L/∂xᵢ∂xⱼ = ∂²L/∂xⱼ∂xᵢ, from two different products


def gradient_at(params):
    vs = [Value(p) for p in params]
    return np.array([g.data for g in grad(small_loss(*vs), vs)])


eps = 1e-6
numeric = np.empty_like(H)
for j in range(len(theta_small)):
    up, down = list(theta_small), list(theta_small)
    up[j] += eps; down[j] -= eps
    numeric[:, j] = (gradient_at(up) - gradient_at(down)) / (2 * eps)
assert np.all(np.abs(H - numeric) <= 1e-5 * (1 + np.abs(numeric)))
eigenvalues = np.linalg.eigvalsh(H)
print("eigenvalues:", np.round(eigenvalues, 4))

fig, ax = plt.subplots(figsize=(3.6, 3.2))
im = ax.imshow(H, cmap="RdBu_r", vmin=-size, vmax=size)
ax.set_title("Hessian of the 2-3-1 loss"); fig.colorbar(im, ax=ax)
plt.tight_layout(); plt.show()

# %% [markdown]
# Symmetric to the last bits, and equal to finite differences of the gradient. Its
# eigenvalues are the curvatures along its eigenvectors: a negative one means this point is
# not a minimum along that direction.
#
# ## How big a step? The Hessian decides
#
# For a quadratic loss, such as least squares on a linear model, the Hessian is the same
# everywhere, and gradient descent with learning rate η multiplies the error along each
# eigenvector by $1 - \eta\lambda$ per step. It converges exactly when every
# $|1 - \eta\lambda| < 1$, that is when $\eta < 2/\lambda_{\max}$.

# %%
rng = random.Random(0)
points = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(20)]
labels = [1.5 * p - 0.5 * q + 0.3 + rng.gauss(0, 0.1) for p, q in points]


def regression_loss(w0, w1, b):
    total = 0.0
    for (p, q), target in zip(points, labels):
        d = w0 * p + w1 * q + b - target
        total = total + d * d
    return total * (1.0 / len(points))


H_lin = np.array(hessian(regression_loss, [0.0, 0.0, 0.0]))
assert np.allclose(H_lin, hessian(regression_loss, [1.0, -2.0, 3.0]), rtol=1e-12, atol=1e-12)
lam_max = float(np.linalg.eigvalsh(H_lin).max())
critical = 2.0 / lam_max
print(f"λ_max = {lam_max:.4f}, so gradient descent converges for η < {critical:.4f}")


def train(lr, steps, history):
    """Gradient descent from zero; appends each step's loss to `history`."""
    params = [Value(0.0, label=name) for name in ("w0", "w1", "b")]
    for step in range(steps):
        loss = regression_loss(*params)
        history.append(loss.data)
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= lr * p.grad


calm, wild = [], []
train(0.9 * critical, 600, calm)
train(1.5 * critical, 600, wild)
first_bad = next(k for k, v in enumerate(wild) if not math.isfinite(v))
print(f"η = 0.9 × 2/λ_max: loss {calm[0]:.3f} → {calm[-1]:.5f}")
print(f"η = 1.5 × 2/λ_max: loss {wild[0]:.3f} → {wild[50]:.3g} (step 50) → "
      f"{wild[first_bad]} from step {first_bad} on; last: {wild[-1]}")
assert calm[-1] < 0.02 and all(later <= earlier * (1 + 1e-12) for earlier, later in zip(calm, calm[1:]))
assert 100 < first_bad < 600 and not math.isfinite(wild[-1])

fig, ax = plt.subplots(figsize=(5, 2.4))
ax.semilogy(calm[:200], label="η = 0.9 × 2/λ_max")
ax.semilogy(wild[:200], label="η = 1.5 × 2/λ_max")
ax.set_xlabel("step"); ax.set_ylabel("loss"); ax.legend()
plt.tight_layout(); plt.show()

# %% [markdown]
# ## Where did the infinity come from? `detect_anomaly()`
#
# The engine follows IEEE arithmetic, as PyTorch does: a number too large for a float becomes
# `inf`, and `inf - inf` or `0 × inf` is `nan`, which then spreads through everything after
# it. The diverging run above only tells us that the loss is no longer finite. Inside
# `detect_anomaly()` every op checks its result and `backward()` checks every gradient, and
# the **first** nan or ±inf raises `AnomalyError`, naming the op, its operands, and a path
# back to the inputs that produced it. (Outside the block nothing is checked and nothing
# costs extra.)

# %%
checked = []
try:
    with detect_anomaly():
        train(1.5 * critical, 600, checked)
except AnomalyError as e:
    err = e
print(f"stopped in step {len(checked)}:\n{err}")
assert len(checked) == first_bad and checked == wild[:first_bad]
start, end = err.path[0], err.path[-1]
assert end is err.node and not math.isfinite(err.node.data)
assert all(math.isfinite(c.data) for c in err.node.children)   # finite in, inf out
assert start.label in ("w0", "w1", "b") and abs(start.data) > 1e150   # the runaway weights

# %% [markdown]
# The weights had grown to about $10^{153}$, each squared residual to about $10^{307}$, and
# the running sum over the data is the op that crossed the largest float, about
# $1.8\times 10^{308}$. `err.node` is that sum, and `err.path[0]` the weight the message
# starts from; `draw(..., highlight=w)` marks a value and every path from it to the root,
# here all the ways $w_0$ fed the sum (the drawing folds what does not fit).

# %%
draw(err.node, highlight=start, show_grad=False, max_nodes=60)

# %% [markdown]
# Gradients can go bad too. The length $\sqrt{x^2}$ is perfectly finite at $x = 0$, but
# $\frac{d}{du}\sqrt u = \frac{1}{2\sqrt u}$ is infinite there, and in backward
# $0 \times \infty$ becomes nan. `detect_anomaly()` names the edge where the first
# non-finite gradient appears, and the path from there to the root.

# %%
x = Value(0.0, label="x")
sq = x * x;         sq.label = "x²"
length = sq ** 0.5; length.label = "|x|"
try:
    with detect_anomaly():
        length.backward()
except AnomalyError as e:
    err = e
print(err)
assert err.node is sq and err.path == [sq, length]
assert x.grad == 0.0            # checked before anything was written
length.backward()               # outside the block: IEEE arithmetic, no questions asked
print(f"without detect_anomaly: dx = {x.grad}")
assert math.isnan(x.grad)

# %% [markdown]
# ## Summary
#
# - Forward and reverse mode multiply the same local derivatives along the same edges, in
#   opposite orders; they agree to rounding (checked above on every Jacobian).
# - A forward sweep costs one pass per **input** direction, a reverse pass one per
#   **output**: 337 parameters and one loss favour reverse 337 to 1; one input and 200
#   outputs favour forward by $m(m+1)/2 \,/\, m$.
# - Forward over reverse gives Hessians: symmetric to the last bits, equal to finite
#   differences, and their largest eigenvalue bounds the learning rate ($\eta < 2/\lambda_{\max}$
#   on a quadratic).
# - `detect_anomaly()` turns "the loss is nan" into "this op, with these operands, made the
#   first infinity", in the forward pass or in backward.
