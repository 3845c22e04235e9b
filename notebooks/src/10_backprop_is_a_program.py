# %% [markdown]
# # 10. Backpropagation is a program
#
# Every lesson so far built a graph, one `Value` per operation, and walked it backwards. But a
# training step builds *the same graph* every time: the same neurons, the same additions, the
# same activation, only the numbers change. So the graph can be written down once as ordinary
# code:
#
# * the **forward pass** becomes a list of assignments, one per node, each reading earlier
#   ones (a *Wengert list*: `v0 = w1 * x0`, `v1 = v0 + b`, …);
# * the **backward pass** becomes the *adjoint program*: for every edge, one line
#   `d_child += ∂node/∂child × d_node`, in the order `backward()` visits the nodes.
#
# `autograd.trace` records one call of a function, writes that program out as Python and
# compiles it. Below we read the program for a neuron and for a small loss, put it next to the
# stepper's chain-rule products for the same graph, and check that they compute the same
# numbers.

# %%
import re
import time

from autograd import Value, step_through
from autograd.backprop import topo_order
from autograd.trace import TraceError, trace
from nn import MLP, cross_entropy, hinge_loss
from nn.data import make_moons

# %% [markdown]
# ## A neuron
#
# $y = \tanh(w_1x_0 + w_2x_1 + b)$, with every node labelled so the program and the stepper use
# the same names. `trace` is given the function, the parameters it reads (`w1, w2, b`) and
# example inputs; the inputs reach the function as Values named `x0`, `x1`.

# %%
w1, w2, b = Value(0.5, label="w1"), Value(-1.0, label="w2"), Value(0.1, label="b")


def neuron(x0, x1):
    p1 = w1 * x0;  p1.label = "w1x0"
    p2 = w2 * x1;  p2.label = "w2x1"
    s = p1 + p2;   s.label = "s"
    z = s + b;     z.label = "z"
    y = z.tanh();  y.label = "y"
    return y


step = trace(neuron, [w1, w2, b], (2.0, 1.0))
print(step.source)

# %% [markdown]
# Read it top to bottom. The parameters come in as `_P` and their gradients as `_G`; then five
# forward lines, one per node, and the adjoint: `d_y` starts at 1 (the seed), and each
# `if d_…:` block is one node of `backward()`, adding its local derivative times its own
# gradient into each child. Multiplication's local derivatives are the other operand
# (`x0 * d_w1x0`), addition's are 1 (`d_s += d_z`); tanh's, $1 - y^2$, is not retyped by
# hand: it is the op table's own formula, which `trace` evaluated on placeholders to get the
# text `1.0 - (y * y)`. The inputs get no gradient line: nothing asks for $\partial y/\partial x$.
#
# The stepper shows the same graph as chain-rule products:

# %%
x0, x1 = Value(2.0, label="x0"), Value(1.0, label="x1")
y = neuron(x0, x1)
stepper = step_through(y)
print(stepper)


# %% [markdown]
# Now line them up. Each `+=` line of the program is an edge (child ← node); the stepper's
# backward steps are edges too. Apart from the inputs, they are the same edges in the same
# order, and the numbers agree exactly: the replay returns the stepper's forward value for
# $y$ and puts into `w1.grad`, `w2.grad`, `b.grad` the stepper's final totals.

# %%
def program_edges(source):
    """(child, node) for every `d_child += … d_node` line of a traced program."""
    return re.findall(r"^\s+d_(\w+) \+= (?:.* \* )?d_(\w+)$", source, re.M)


def stepper_edges(stepper, skip=()):
    """(child, node) for every chain-rule product of a stepper, and each child's final total."""
    name_of = {s["node"]: s["text"].split(" = ")[0]
               for s in stepper.steps if s["phase"] == "forward"}
    edges, totals = [], {}
    for s in stepper.steps:
        if s["phase"] == "backward" and "parent" in s:
            child = re.match(r"∂\S+/∂(\S+) \+=", s["text"]).group(1)
            totals[child] = s["grad"]
            if child not in skip:
                edges.append((child, name_of[s["parent"]]))
    return edges, totals


edges, totals = stepper_edges(stepper, skip={"x0", "x1"})
for (child, node), line in zip(edges, re.findall(r"^\s+(d_\w+ \+= .*)$", step.source, re.M)):
    print(f"{'∂y/∂' + child + ' += ∂' + node + '/∂' + child + ' × ∂y/∂' + node:<34}  {line}")
assert program_edges(step.source) == edges

for p in (w1, w2, b):
    p.grad = 0.0
loss = step(2.0, 1.0)
forward_steps = [s for s in stepper.steps if s["phase"] == "forward"]
assert loss == y.data == forward_steps[-1]["value"]
assert [w1.grad, w2.grad, b.grad] == [totals["w1"], totals["w2"], totals["b"]]
print("replay:", loss, [w1.grad, w2.grad, b.grad])

# %% [markdown]
# The compiled step never builds a Value: called with new inputs it runs those lines on plain
# floats. It adds into `.grad` exactly what `backward()` would, to the last bit:

# %%
for p in (w1, w2, b):
    p.grad = 0.0
replayed = step(-0.3, 0.8)
grads = [w1.grad, w2.grad, b.grad]
for p in (w1, w2, b):
    p.grad = 0.0
fresh = neuron(Value(-0.3), Value(0.8))
fresh.backward()
assert replayed == fresh.data and grads == [w1.grad, w2.grad, b.grad]
print(replayed, grads)

# %% [markdown]
# ## A small loss: cross-entropy of two neurons
#
# Cross-entropy subtracts the largest logit before exponentiating (lesson 4), a number read
# from the data. Written as a constant into the program it would be wrong as soon as another
# logit became the largest, so `nn.losses` computes it with `stop_gradient`: a leaf the graph
# treats as a constant, which the program recomputes on every call (the line marked
# `stop_gradient`). The class index picks the graph's shape (which logit is subtracted), so
# it is passed as an int and each class gets its own program.

# %%
u = [Value(0.3, label="u1"), Value(-0.2, label="u2")]
c = [Value(0.0, label="c1"), Value(0.1, label="c2")]


def loss_fn(x, target):
    z1 = u[0] * x + c[0];  z1.label = "z1"
    z2 = u[1] * x + c[1];  z2.label = "z2"
    L = cross_entropy([z1, z2], target);  L.label = "L"
    # name the nodes cross_entropy made (t0, t1, … in forward order), for both views alike
    for i, v in enumerate(reversed(topo_order(L))):
        v.label = v.label or f"t{i}"
    return L


ce = trace(loss_fn, u + c, (1.5, 0))
print(ce.source)

# %%
xv = Value(1.5, label="x0")
L = loss_fn(xv, 0)
ce_stepper = step_through(L)
edges, totals = stepper_edges(ce_stepper, skip={"x0", "max"})
assert sorted(program_edges(ce.source)) == sorted(edges)   # the same edges ...
for p in u + c:
    p.grad = 0.0
assert ce(1.5, 0) == L.data
assert [p.grad for p in u + c] == [totals[p.label] for p in u + c]   # ... and the same numbers
print("∂L/∂(u1, u2, c1, c2) =", [p.grad for p in u + c])

# %% [markdown]
# (The two walks may visit a node's children in a different order when a node feeds several
# others; the set of products and every total are the same.)
#
# At $x = -4$ the second logit is the larger one; the replay follows, because it recomputes the
# shift:

# %%
for p in u + c:
    p.grad = 0.0
at_minus_4 = ce(-4.0, 0)
got = [p.grad for p in u + c]
for p in u + c:
    p.grad = 0.0
ref = loss_fn(Value(-4.0), 0)
ref.backward()
assert at_minus_4 == ref.data and got == [p.grad for p in u + c]
print(at_minus_4, got)

# %% [markdown]
# ## When a program is not enough
#
# A trace is only right while the function does the same thing every call. `trace` refuses or
# guards whatever could change that. Reading a number out of the graph is refused, naming the
# line:

# %%
try:
    trace(lambda x: x * w1.data, [w1], (1.0,))
except TraceError as e:
    print(str(e)[:160], "…")

# %% [markdown]
# A Python `if` on a comparison of Values is recorded; the program checks it, and when it goes
# the other way the function is traced again for that branch:

# %%
def kinked(x):
    return (x * w1).tanh() if x > w1 else (x - w1) ** 2


k = trace(kinked, [w1], (2.0,))
k(3.0); k(-1.0)
print(k.traces, "programs, one per side of the comparison")
assert k.traces == 2

# %% [markdown]
# ## Why bother: speed
#
# micrograd's moons demo, 2-16-16-1 with the max-margin loss, 20 full-batch steps: once by
# building the graph every step, once by replaying the traced step. Same numbers, every
# parameter, to the last bit.

# %%
X, y01 = make_moons(60, 0.1, 1)
Y = [2 * t - 1 for t in y01]


def train(traced, steps=20):
    model = MLP(2, [16, 16, 1], seed=1337)
    params = model.parameters()
    loss = lambda X: sum(hinge_loss(model(x), t) for x, t in zip(X, Y)) * (1.0 / len(X))
    start = time.perf_counter()
    run = trace(loss, params, (X,)) if traced else None
    traced_at = time.perf_counter()
    for k in range(steps):
        for p in params:
            p.grad = 0.0
        if traced:
            run(X)
        else:
            loss([[Value(v) for v in x] for x in X]).backward()
        for p in params:
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
    done = time.perf_counter()
    return [p.data for p in params], traced_at - start, done - traced_at


built, _, t_built = train(False)
replayed, t_trace, t_replay = train(True)
assert built == replayed
print(f"graph every step: {t_built:.2f} s;  traced: {t_trace:.2f} s to trace and compile once, "
      f"then {t_replay:.2f} s for the steps ({t_built / t_replay:.0f}× faster)")

# %% [markdown]
# The program is the hand-written training loop a student would write after lesson 4, except
# that nobody wrote it: the graph did.
