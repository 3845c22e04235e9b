# %% [markdown]
# # 3. Backpropagation, one chain-rule product at a time
#
# The notes' calculus section starts from the smallest possible network: one neuron per layer,
# so the last two layers form a single chain
#
# $$a^{(L-1)} \xrightarrow{\;w^{(L)},\,b^{(L)}\;} z^{(L)} = w^{(L)}a^{(L-1)} + b^{(L)}
#   \;\longrightarrow\; a^{(L)} = \sigma(z^{(L)})
#   \;\longrightarrow\; C_0 = (a^{(L)} - y)^2 .$$
#
# A small nudge to $w^{(L)}$ changes $z^{(L)}$, which changes $a^{(L)}$, which changes $C_0$; the
# chain rule multiplies the three sensitivities:
#
# $$\frac{\partial C_0}{\partial w^{(L)}}
#   = \frac{\partial z^{(L)}}{\partial w^{(L)}}\,
#     \frac{\partial a^{(L)}}{\partial z^{(L)}}\,
#     \frac{\partial C_0}{\partial a^{(L)}}
#   = a^{(L-1)}\;\sigma'(z^{(L)})\;2\,(a^{(L)}-y).$$
#
# Below we build exactly this graph, watch backward compute it one product at a time, and
# check the notes' formula against the number the graph produces.

# %%
import math

from autograd import Value, draw, gradcheck, step_through
from autograd.backprop import topo_order


def sigma(z):
    return 1.0 / (1.0 + math.exp(-z))


def close(a, b, tol=1e-12):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def chain(a_prev, w, b, y):
    """The notes' single-chain example; returns every intermediate so we can inspect it."""
    wa = w * a_prev;      wa.label = "w·a"
    z = wa + b;           z.label = "z"
    a = z.sigmoid();      a.label = "a"
    err = a - y;          err.label = "a−y"
    C = err ** 2;         C.label = "C₀"
    return z, a, C

# %%
a_prev = Value(0.6, "a(L-1)")
w = Value(1.3, "w(L)")
b = Value(-0.4, "b(L)")
y = 1.0                       # the desired output: a constant, not a parameter
z, a, C = chain(a_prev, w, b, y)
print(f"forward:  z = {z.data:.6f}   a = σ(z) = {a.data:.6f}   C₀ = {C.data:.6f}")
C.backward()
draw(C)

# %% [markdown]
# ## Backward, edge by edge
#
# Every node stores, for each of its operands, the local derivative ∂node/∂operand (computed
# during the forward pass). Backward visits the nodes from the output down, and for each edge
# does one multiply-add:
#
# $$\frac{\partial C_0}{\partial\,\text{child}} \mathrel{+}= \frac{\partial\,\text{node}}{\partial\,\text{child}} \times \frac{\partial C_0}{\partial\,\text{node}}.$$
#
# The loop below replays that, printing each product, using only the graph's public
# structure (`topo_order`, `.children`, `.local_grads`), and checks it lands on the same
# gradients that `backward()` stored.

# %%
def name(v):
    return v.label or v.op


replayed, running = {C: 1.0}, []
for node in topo_order(C):
    for child, local in zip(node.children, node.local_grads):
        before = replayed.get(child, 0.0)
        replayed[child] = before + local * replayed[node]
        running.append((local, replayed[node], replayed[child]))
        print(f"∂C₀/∂{name(child):<7} += {local:+.6f} × {replayed[node]:+.6f}   (∂{name(node)}/∂{name(child)} × ∂C₀/∂{name(node)})"
              f"  = {replayed[child]:+.6f}")
for v, g in replayed.items():
    assert g == v.grad, name(v)   # the same arithmetic in the same order: exactly equal

# %% [markdown]
# The same walk as an interactive stepper (forward values first, then each chain-rule
# product; use the buttons, the slider or, after clicking it once, the arrow keys; try
# `step_through(C, quiz=True)` to work out each product yourself):

# %%
stepper = step_through(C)
stepper

# %% [markdown]
# The stepper's backward steps are exactly the products printed above, in the same order:

# %%
products = [s for s in stepper.steps if s["phase"] == "backward" and "parent" in s]
assert [(s["local"], s["upstream"], s["grad"]) for s in products] == running
print(products[-1]["text"])

# %% [markdown]
# ## The notes' formula against the graph
#
# The three factors, written out as in the notes:
#
# * $\partial C_0/\partial a^{(L)} = 2(a^{(L)}-y)$
# * $\partial a^{(L)}/\partial z^{(L)} = \sigma'(z^{(L)}) = \sigma(z)(1-\sigma(z))$
# * $\partial z^{(L)}/\partial w^{(L)} = a^{(L-1)}$, and $\partial z^{(L)}/\partial b^{(L)} = 1$, and $\partial z^{(L)}/\partial a^{(L-1)} = w^{(L)}$

# %%
zz = w.data * a_prev.data + b.data
s = sigma(zz)
dC_da = 2 * (s - y)
da_dz = s * (1 - s)
notes_dw = a_prev.data * da_dz * dC_da
notes_db = 1.0 * da_dz * dC_da
notes_dprev = w.data * da_dz * dC_da

print(f"∂C₀/∂w       notes: {notes_dw:+.15f}   graph: {w.grad:+.15f}")
print(f"∂C₀/∂b       notes: {notes_db:+.15f}   graph: {b.grad:+.15f}")
print(f"∂C₀/∂a(L-1)  notes: {notes_dprev:+.15f}   graph: {a_prev.grad:+.15f}")
assert close(a.grad, dC_da) and close(z.grad, da_dz * dC_da)
assert close(w.grad, notes_dw)
assert close(b.grad, notes_db)
assert close(a_prev.grad, notes_dprev)
assert gradcheck(lambda ap, w_, b_: chain(ap, w_, b_, y)[2], [0.6, 1.3, -0.4])

# %% [markdown]
# The gradient with respect to the *previous activation* $a^{(L-1)}$ is the interesting one:
# we cannot change an activation directly, but it is what gets passed further back. One more
# layer, $a^{(L-1)} = \sigma(w^{(L-1)}a^{(L-2)} + b^{(L-1)})$, and the chain grows by two
# factors:
#
# $$\frac{\partial C_0}{\partial w^{(L-1)}} = a^{(L-2)}\,\sigma'(z^{(L-1)})\;w^{(L)}\,\sigma'(z^{(L)})\;2(a^{(L)}-y).$$

# %%
a2 = Value(-0.9, "a(L-2)")
w1 = Value(0.7, "w(L-1)")
b1 = Value(0.2, "b(L-1)")
z1 = w1 * a2 + b1
a1 = z1.sigmoid()
w = Value(1.3, "w(L)"); b = Value(-0.4, "b(L)")
z, a, C = chain(a1, w, b, y)
C.backward()

s1, s = sigma(z1.data), sigma(z.data)
notes_dw1 = a2.data * s1 * (1 - s1) * w.data * s * (1 - s) * 2 * (s - y)
print(f"∂C₀/∂w(L-1)  notes: {notes_dw1:+.15f}   graph: {w1.grad:+.15f}")
assert close(w1.grad, notes_dw1)
draw(C)

# %% [markdown]
# ## Many training examples
#
# $C_0$ is the cost of one example. The cost the network is trained on is the average over
# the $n$ training examples, so its gradient is the average of the per-example gradients:
# $\partial C/\partial w = \frac1n\sum_k \partial C_k/\partial w$. Building the average in
# the graph makes backward do that sum for us, because the shared $w$ collects gradient from
# every example's chain.

# %%
examples = [(0.6, 1.0), (-0.3, 0.0), (1.1, 1.0), (0.05, 0.0)]   # (a(L-1), y) pairs
w = Value(1.3, "w"); b = Value(-0.4, "b")
costs = [chain(Value(x), w, b, t)[2] for x, t in examples]
C = sum(costs) / len(costs)
C.backward()

per_example = []
for x, t in examples:
    s = sigma(w.data * x + b.data)
    per_example.append(x * s * (1 - s) * 2 * (s - t))
mean_dw = sum(per_example) / len(per_example)
print("per-example ∂C_k/∂w:", [round(g, 6) for g in per_example])
print(f"mean: {mean_dw:+.15f}   graph: {w.grad:+.15f}")
assert close(w.grad, mean_dw)

# %% [markdown]
# ## Several neurons in the last layer
#
# With several output neurons the cost sums over them, $C_0 = \sum_j (a_j^{(L)} - y_j)^2$, and
# weights get two indices: $w_{jk}^{(L)}$ connects neuron $k$ of layer $L-1$ to neuron $j$ of
# layer $L$. The derivative for one weight has the same three factors,
#
# $$\frac{\partial C_0}{\partial w_{jk}^{(L)}} = a_k^{(L-1)}\,\sigma'(z_j^{(L)})\,2(a_j^{(L)}-y_j),$$
#
# but an activation of the previous layer now influences *every* output neuron, so its
# derivative is a sum over $j$:
#
# $$\frac{\partial C_0}{\partial a_k^{(L-1)}} = \sum_j w_{jk}^{(L)}\,\sigma'(z_j^{(L)})\,2(a_j^{(L)}-y_j).$$

# %%
prev = [Value(v, f"a{k}") for k, v in enumerate([0.2, -0.5, 0.9])]
W = [[Value(v) for v in row] for row in ([0.4, -0.6, 0.1], [-0.3, 0.8, 0.5])]
bias = [Value(0.1), Value(-0.2)]
target = [1.0, 0.0]
outs = [sum((wjk * ak for wjk, ak in zip(row, prev)), bj).sigmoid() for row, bj in zip(W, bias)]
C = sum((aj - yj) ** 2 for aj, yj in zip(outs, target))
C.backward()

zs = [sum(wjk.data * ak.data for wjk, ak in zip(row, prev)) + bj.data for row, bj in zip(W, bias)]
delta = [sigma(zj) * (1 - sigma(zj)) * 2 * (sigma(zj) - yj) for zj, yj in zip(zs, target)]
for j, row in enumerate(W):
    for k, wjk in enumerate(row):
        assert close(wjk.grad, prev[k].data * delta[j])
for k, ak in enumerate(prev):
    by_hand = sum(W[j][k].data * delta[j] for j in range(len(W)))
    print(f"∂C₀/∂a{k}: sum over outputs = {by_hand:+.12f}   graph = {ak.grad:+.12f}")
    assert close(ak.grad, by_hand)

# %% [markdown]
# The factor $\sigma'(z_j)\,2(a_j-y_j)$ appears in every weight of neuron $j$ and again in the
# sum for the previous layer. Lesson 4 gives it a name, $\delta_j^{(L)}$, and turns this
# pattern into the four equations of backpropagation.
