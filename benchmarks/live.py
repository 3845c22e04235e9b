"""`python -m benchmarks.live [--digits-epochs N] [--moons-epochs N]`: what watching costs.

Trains moons and digits with the CLI's default recipes three ways: plain, with the Jupyter
live view at its default rate (its output captured instead of sent to a front end, but every
frame drawn and encoded as in a notebook), and recording the replay page. Prints each
run's training time, the view's or recorder's share of it, frames drawn and page size.

The goal: the live view at its default rate, and recording the replay page, each cost at most
25 % of the training time. Both recipes run their CLI epochs (30) by default: the recorder
takes about 100 frames whatever the run's length, so a shorter run would overstate its share.
"""
import argparse
import os
import sys
import tempfile
import time

from nn import MLP
from nn.cli import DEFAULTS
from nn.data import load_digits, make_moons, train_test_split
from nn.live import LiveView, Recorder
from nn.train import fit


def data(name):
    if name == "moons":
        X, y = make_moons(500, noise=0.1, seed=0)
        return train_test_split(X, y, 0.2, seed=0), [16, 16, 1]
    X, y = load_digits()
    return train_test_split(X, y, 0.2, seed=0), [16, 16, 10]


def train(name, epochs, view):
    """fit with the CLI's defaults for `name`, driving `view` (or None)."""
    ((Xtr, ytr), (Xte, yte)), sizes = data(name)
    d = DEFAULTS[name]
    model = MLP(len(Xtr[0]), sizes, seed=0)
    start = time.perf_counter()
    history = fit(model, Xtr, ytr, Xte, yte, epochs=epochs, batch_size=d["batch_size"],
                  lr=d["lr"], optimizer=d["optimizer"], momentum=d["momentum"],
                  weight_decay=d["weight_decay"], lr_decay="linear", progress=False, log=None,
                  callbacks=[view] if view is not None else [])
    return time.perf_counter() - start, history[-1]


class Sink:
    """Stands in for IPython's display: keeps the number and size of the frames."""

    def __init__(self):
        self.frames, self.bytes = 0, 0

    def display(self, data, raw=True, display_id=True):
        self.update(data)
        return self

    def update(self, data, raw=True):
        self.frames += 1
        self.bytes = sum(len(v) for v in data.values())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--moons-epochs", type=int, default=DEFAULTS["moons"]["epochs"])
    p.add_argument("--digits-epochs", type=int, default=DEFAULTS["digits"]["epochs"])
    args = p.parse_args(argv)
    import IPython.display
    folder = tempfile.mkdtemp(prefix="live-bench-")
    print(f"{'run':<28}{'seconds':>9}{'share':>8}{'frames':>8}  notes")
    for name, epochs in (("moons", args.moons_epochs), ("digits", args.digits_epochs)):
        plain, row = train(name, epochs, None)
        print(f"{name + ' plain':<28}{plain:>9.2f}{'':>8}{'':>8}  test acc {row['test_accuracy']:.3f}")
        # The first view in a process also imports Pillow and starts Graphviz for the first time: "cold";
        # in a notebook that has drawn a plot before, every view runs "warm".
        for state in (("cold", "warm") if name == "moons" else ("warm",)):
            sink = Sink()
            IPython.display.display = sink.display
            view = LiveView(show=True)
            seconds, _ = train(name, epochs, view)
            print(f"{name + ' live view, ' + state:<28}{seconds:>9.2f}"
                  f"{view.seconds / (seconds - view.seconds):>8.0%}{view.shown:>8}  last frame "
                  f"{sink.bytes / 1e3:.0f} kB; vs plain run {seconds / plain - 1:+.0%}")
        path = os.path.join(folder, f"{name}.html")
        rec = Recorder(path)
        seconds, _ = train(name, epochs, rec)
        print(f"{name + ' replay page':<28}{seconds:>9.2f}{rec.seconds / (seconds - rec.seconds):>8.0%}"
              f"{len(rec.frames):>8}  every {rec.k} steps, page {os.path.getsize(path) / 1e6:.2f} MB")
    print("share = time in the view or recorder / time training without it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
