# %% [markdown]
# # 6. The digit network: 784-16-16-10
#
# The network the notes describe: a 28×28 image enters as 784 input activations (one per
# pixel), two hidden layers of 16 neurons, and 10 outputs, one per class. The notes count
# its parameters as 13,002 weights and biases — the "knobs" gradient descent turns.
#
# Two changes from the notes' version, both the ones the notes themselves recommend:
# hidden layers use **ReLU** instead of the sigmoid ("sigmoid is almost never used now"), and
# the cost is the **cross-entropy of the softmax** (lesson 4) rather than the squared error,
# which learns faster when the network is confidently wrong.
#
# The data is **Fashion-MNIST** (same format as MNIST: 28×28 grey images, 10 classes, but
# clothes instead of digits, and harder), read from Debian's `dataset-fashion-mnist` package
# with `nn.data.load_fashion_mnist()`.
#
# **A subset, on purpose.** Every number here is a Python `Value`, so one training example
# costs a few milliseconds (a forward and backward pass through 13,002 parameters, node by
# node). To keep this notebook at about a minute we train on the first 3,000 of the 60,000
# training images for 2 epochs, and measure accuracy on 2,000 of the 10,000 test images.
# Training longer, on everything, gets higher accuracy; the point here is that a scalar engine
# whose every gradient you can inspect trains a real image classifier.
#
# No Fashion-MNIST on this machine? Then the next cell says so and falls back to the 8×8
# digits bundled with scikit-learn (a 64-16-16-10 network, a few seconds); install it with
# `apt-get install dataset-fashion-mnist`. You can also choose the digits yourself below.

# %%
DATASET = "fashion-mnist"        # or "digits" (scikit-learn's 8x8 digits, 64-16-16-10)
N_TRAIN, N_TEST, EPOCHS, BATCH, LR = 3000, 2000, 2, 16, 0.005

# %%
import random
import time

import matplotlib.pyplot as plt
import numpy as np

from autograd import no_grad
from nn import MLP, cross_entropy
from nn.data import load_digits, load_fashion_mnist, minibatches, train_test_split
from nn.optim import Adam

plt.rcParams.update({"figure.dpi": 80, "savefig.dpi": 80, "font.size": 9})

if DATASET == "fashion-mnist":
    try:
        (train_X, train_y), (test_X, test_y) = load_fashion_mnist()
    except FileNotFoundError as e:  # the message names the package to install
        print(f"NOTE: {e}\nFalling back to scikit-learn's 8x8 digits (64-16-16-10).\n")
        DATASET = "digits"
if DATASET == "fashion-mnist":
    Xtr, ytr = [train_X[i] for i in range(N_TRAIN)], train_y[:N_TRAIN]
    Xte, yte = [test_X[i] for i in range(N_TEST)], test_y[:N_TEST]
    SIDE = 28
    CLASSES = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
elif DATASET == "digits":
    (Xtr, ytr), (Xte, yte) = train_test_split(*load_digits(), test_fraction=0.2, seed=0)
    SIDE = 8
    CLASSES = [str(d) for d in range(10)]
else:
    raise ValueError(f"DATASET must be 'fashion-mnist' or 'digits', got {DATASET!r}")

counts = np.bincount(ytr, minlength=10)
print(f"{DATASET}: {len(Xtr)} training and {len(Xte)} test images of {SIDE}x{SIDE} pixels")
print("training images per class:", dict(zip(CLASSES, counts.tolist())))
assert all(len(x) == SIDE * SIDE for x in Xtr[:10]) and all(0 <= p <= 1 for p in Xtr[0])
assert counts.min() > 0.05 * len(Xtr)            # every class is well represented

# %%
fig, axes = plt.subplots(2, 8, figsize=(8, 2.4))
for ax, i in zip(axes.flat, range(16)):
    ax.imshow(np.reshape(Xtr[i], (SIDE, SIDE)), cmap="gray_r")
    ax.set_title(CLASSES[ytr[i]], fontsize=7); ax.axis("off")
fig.tight_layout(); plt.show()

# %% [markdown]
# ## The network
#
# `MLP(784, [16, 16, 10])`: ReLU on the hidden layers, no activation on the output (the 10
# outputs are *logits*; softmax turns them into probabilities inside the loss). He
# initialization, seeded, so this notebook gives the same numbers every run.

# %%
model = MLP(SIDE * SIDE, [16, 16, 10], activation="relu", seed=0)
n_params = len(model.parameters())
print(f"{SIDE * SIDE}-16-16-10: {n_params:,} parameters")
assert n_params == 16 * (SIDE * SIDE + 1) + 16 * (16 + 1) + 10 * (16 + 1)
if SIDE == 28:
    assert n_params == 13_002                    # the notes' count
W0 = np.array([[w.data for w in n.w] for n in model.layers[0].neurons])   # kept for later
b0 = np.array([n.b.data for n in model.layers[0].neurons])

# %% [markdown]
# Before training, one sanity check that the gradients the graph delivers are right: in each
# layer take the parameter with the largest gradient for the first training image, and compare
# its `.grad` with a central finite difference of the loss.

# %%
def loss_on(x, t):
    return cross_entropy(model(x), t)


loss = loss_on(Xtr[0], ytr[0])
model.zero_grad()
loss.backward()
picks = [max(layer.parameters(), key=lambda p: abs(p.grad)) for layer in model.layers]
assert all(p.grad != 0 for p in picks)
eps = 1e-6
for p in picks:
    old = p.data
    with no_grad():
        p.data = old + eps; up = loss_on(Xtr[0], ytr[0]).data
        p.data = old - eps; down = loss_on(Xtr[0], ytr[0]).data
    p.data = old
    numeric = (up - down) / (2 * eps)
    print(f"{p.label:<26} graph {p.grad:+.9f}   finite difference {numeric:+.9f}")
    assert abs(p.grad - numeric) <= 1e-6 + 1e-4 * abs(numeric)
print(f"initial loss {loss.data:.3f} (ln 10 = {np.log(10):.3f} would be a uniform guess)")

# %% [markdown]
# ## Training
#
# Minibatch gradient descent as in lesson 5: for each batch of 16 images, build the graph of
# the mean cross-entropy, run `backward()`, and let the optimizer move every parameter against
# its gradient. We use Adam, a gradient-descent variant that scales each parameter's step by
# a running estimate of its gradient's size; plain `SGD` works too, just more slowly.

# %%
def accuracy_and_predictions(X, y):
    with no_grad():
        preds = [int(np.argmax([o.data for o in model(x)])) for x in X]
    return float(np.mean(np.array(preds) == np.array(y))), preds


optimizer = Adam(model.parameters(), lr=LR)
order = random.Random(0)
batch_losses, test_acc = [], []
start = time.perf_counter()
for epoch in range(EPOCHS):
    for xb, yb in minibatches(Xtr, ytr, BATCH, seed=order):
        loss = cross_entropy([model(x) for x in xb], yb)   # the batch mean
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.data)
    acc, _ = accuracy_and_predictions(Xte, yte)
    test_acc.append(acc)
    print(f"epoch {epoch + 1}: mean training loss {np.mean(batch_losses[-len(Xtr) // BATCH:]):.3f}, "
          f"test accuracy {acc:.1%}")
elapsed = time.perf_counter() - start
print(f"trained on {EPOCHS} x {len(Xtr)} images in {elapsed:.0f} s "
      f"({1e3 * elapsed / (EPOCHS * len(Xtr)):.1f} ms per image, forward + backward + eval)")

# %%
assert np.mean(batch_losses[-50:]) < 0.6 * np.mean(batch_losses[:20])
assert test_acc[-1] > (0.70 if DATASET == "fashion-mnist" else 0.85)   # chance is 10%

window = 25
smooth = np.convolve(batch_losses, np.ones(window) / window, mode="valid")
fig, ax = plt.subplots(figsize=(5, 2.8))
ax.plot(batch_losses, lw=0.5, alpha=0.4, label="per minibatch")
ax.plot(np.arange(window - 1, len(batch_losses)), smooth, label=f"mean of {window}")
ax.set_xlabel("step (minibatch of 16)"); ax.set_ylabel("cross-entropy"); ax.legend(fontsize=7)
fig.tight_layout(); plt.show()

# %% [markdown]
# ## Where it goes wrong: the confusion matrix
#
# Row = true class, column = predicted class; the diagonal are the correct answers.

# %%
acc, preds = accuracy_and_predictions(Xte, yte)
confusion = np.zeros((10, 10), dtype=int)
for t, p in zip(yte, preds):
    confusion[t, p] += 1
assert confusion.sum() == len(yte) and np.isclose(np.trace(confusion) / len(yte), acc)
assert (confusion.sum(axis=1) == np.bincount(yte, minlength=10)).all()

fig, ax = plt.subplots(figsize=(5.2, 4.6))
ax.imshow(confusion, cmap="Blues")
for i in range(10):
    for j in range(10):
        if confusion[i, j]:
            ax.text(j, i, confusion[i, j], ha="center", va="center", fontsize=6,
                    color="white" if confusion[i, j] > confusion.max() / 2 else "black")
ax.set_xticks(range(10), CLASSES, rotation=60, fontsize=7); ax.set_yticks(range(10), CLASSES, fontsize=7)
ax.set_xlabel("predicted"); ax.set_ylabel("true"); ax.set_title(f"test accuracy {acc:.1%}")
fig.tight_layout(); plt.show()

off = confusion - np.diag(np.diag(confusion))
i, j = np.unravel_index(off.argmax(), off.shape)
print(f"most frequent mistake: {CLASSES[i]} taken for {CLASSES[j]} ({off[i, j]} times)")

# %% [markdown]
# On Fashion-MNIST the mistakes cluster where people would also hesitate: shirts, T-shirts,
# pullovers and coats share a silhouette at 28×28, while trousers, bags and the footwear
# classes are mostly right. The recall per class (the diagonal over the row) says so:

# %%
recall = np.diag(confusion) / confusion.sum(axis=1)
print("recall per class:", {c: round(float(r), 2) for c, r in zip(CLASSES, recall)})
if DATASET == "fashion-mnist":
    tops = [CLASSES.index(c) for c in ("T-shirt", "Pullover", "Coat", "Shirt")]
    distinct = [CLASSES.index(c) for c in ("Trouser", "Sandal", "Sneaker", "Bag", "Ankle boot")]
    print(f"tops {recall[tops].mean():.2f}, trousers/bags/footwear {recall[distinct].mean():.2f}")
    assert recall[distinct].mean() > recall[tops].mean() + 0.1
    assert recall[distinct].mean() > 0.8

# %% [markdown]
# ## What the first layer looks at
#
# Each first-layer neuron computes $\sum_i w_i x_i + b$ over the 784 pixels, so its weights
# can be drawn as a 28×28 image: red pixels excite the neuron, blue ones inhibit it. The
# notes suggest this view, and warn that it is humbling — the patterns are blurry templates
# and noise rather than the clean strokes one might hope for.
#
# Several of the images are pure noise. Those neurons are **dead ReLUs** (lesson 2): at the
# end of training their pre-activation $\sum_i w_ix_i+b$ is $\le 0$ on every training image,
# so they output $0$ and, since $\mathrm{relu}'=0$ there, pass back no gradient at all — their
# weights are frozen close to the random start. They were alive at initialization and died
# during training, a known hazard of ReLU with a large learning rate; leaky ReLU or a smaller
# step would keep them learning.

# %%
weights = np.array([[w.data for w in n.w] for n in model.layers[0].neurons])
assert weights.shape == (16, SIDE * SIDE)
b_end = np.array([n.b.data for n in model.layers[0].neurons])
active_start = ((np.array(Xtr) @ W0.T + b0) > 0).mean(axis=0)     # fraction of images
active_end = ((np.array(Xtr) @ weights.T + b_end) > 0).mean(axis=0)
moved = np.linalg.norm(weights - W0, axis=1) / np.linalg.norm(W0, axis=1)
dead = [k for k in range(16) if active_end[k] == 0]
print("neuron  active at start  active at end  ‖W − W₀‖/‖W₀‖")
for k in range(16):
    print(f"{k:>6} {active_start[k]:>16.1%} {active_end[k]:>14.1%} {moved[k]:>15.2f}" + ("  dead" if k in dead else ""))
if DATASET == "fashion-mnist":
    assert dead, "the text above describes dead neurons in this run"
if dead:
    assert all(active_start[k] > 0 for k in dead)                 # they died during training
    assert moved[dead].mean() < moved[[k for k in range(16) if k not in dead]].mean()
    # The graph confirms it: on a batch of training images no gradient reaches their weights.
    model.zero_grad()
    cross_entropy([model(x) for x in Xtr[:32]], ytr[:32]).backward()
    assert all(w.grad == 0.0 for k in dead for w in model.layers[0].neurons[k].w)

fig, axes = plt.subplots(2, 8, figsize=(8, 2.3))
for k, ax in enumerate(axes.flat):
    lim = np.abs(weights[k]).max()
    ax.imshow(weights[k].reshape(SIDE, SIDE), cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title(f"neuron {k}" + (" (dead)" if k in dead else ""), fontsize=7); ax.axis("off")
fig.tight_layout(); plt.show()
