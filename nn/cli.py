"""`python -m nn train ...`: train an MLP on moons, digits or Fashion-MNIST from the shell.

    $ python -m nn train --dataset digits --layers 16,16
    ...
    test accuracy: 0.9611

The last line is always `test accuracy: <fraction>`, for scripts.

Every error is one line on stderr, `python -m nn train: error: <what was wrong>`, and the exit
status says what kind it was (`EXIT_STATUS`): 2 usage (a bad flag, a flag combination
that cannot work, a --save path that cannot be written, checked before any training),
1 environment or data (a missing dataset or package, a corrupt file, a run that
diverged), 130 interrupted by Ctrl-C: the model as it was after the last finished epoch is
saved first (to --save's path, or to a new interrupted-<dataset>.json here) and the line
says where. If the --save path cannot be written at the end after all (a full disk, a
folder removed meanwhile), the model goes to a new trained-<dataset>.json here or in the
temporary folder, the error line says where, and the status is 1: a finished run is never
thrown away. Output piped into `head` stops quietly; the run still trains and saves.
"""
import argparse
import math
import os
import signal
import sys
import tempfile
import time

from autograd.files import UnwritablePath, check_writable

from .init import SCHEMES
from .mlp import ACTIVATIONS, MLP
from .module import MAX_PARAMETERS
from .optim import OPTIMIZERS
from .torch_train import MAX_WORKERS  # imports no torch
from .train import Diverged, fit

EXIT_STATUS = {"usage": 2, "failure": 1, "interrupted": 130}

# Per-dataset defaults for the flags left unset. Digits' recipe reaches 96.9% test
# accuracy (seed 0) in about 70 s of CPU, and weight decay keeps it above 95% across
# seeds; Fashion-MNIST's is the classic one epoch of per-sample SGD.
DEFAULTS = {
    "moons":         {"epochs": 30, "batch_size": 16, "lr": 0.02, "optimizer": "adam",
                      "momentum": 0.0, "weight_decay": 0.0, "lr_decay": "linear"},
    "digits":        {"epochs": 30, "batch_size": 16, "lr": 0.05, "optimizer": "sgd",
                      "momentum": 0.9, "weight_decay": 5e-4, "lr_decay": "linear"},
    "fashion-mnist": {"epochs": 1, "batch_size": 1, "lr": 0.01, "optimizer": "sgd",
                      "momentum": 0.0, "weight_decay": 0.0, "lr_decay": "none"},
}
# (inputs, outputs) of each dataset's network, known before the data is loaded
SHAPES = {"moons": (2, 1), "digits": (64, 10), "fashion-mnist": (784, 10)}
MAX_SAMPLES = 1_000_000  # moons points --samples may ask for (a typo must not fill the memory)


class UsageError(ValueError):
    """Flags that cannot work together (found after parsing): exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line: the usage block would bury the message, and --help has it.
        message = " ".join(message.split())
        self.exit(EXIT_STATUS["usage"], f"{self.prog}: error: {message}\n")


def _layers(text):
    try:
        sizes = [int(s) for s in text.split(",")] if text.strip() else []
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated ints like 16,16, got {text!r}")
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive, got {text!r}")
    return sizes


def _number(kind, text):
    try:
        v = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an int' if kind is int else 'a number'}, "
                                         f"got {text!r}") from None
    if kind is float and not math.isfinite(v):  # --lr inf trains to nan, looking like success
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return v


def _positive(kind):
    def parse(text):
        v = _number(kind, text)
        if not v > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
        return v
    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _nonnegative_float(text):
    v = _number(float, text)
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return v


def _fraction(text):
    v = _number(float, text)
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text!r}")
    return v


def _save_path(text):
    if not text:
        raise argparse.ArgumentTypeError("the path is empty")
    return text


def build_parser():
    """The `python -m nn` parser; each subcommand's parser is built by its own function."""
    p = _Parser(prog="python -m nn", description="Train small MLPs built from scalar autograd "
                "Values.", epilog=_EXIT_HELP)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_train_parser(sub)
    return p


_EXIT_HELP = ("Errors are one line on stderr. Exit status: 0 done, 2 usage error, 1 "
              "environment or data error (missing dataset, corrupt file, diverged run), 130 "
              "interrupted by Ctrl-C (the finished epochs are saved first).")


def add_train_parser(sub):
    t = sub.add_parser("train", help="train an MLP classifier and report test accuracy",
                       description="Train an MLP classifier. Flags left unset take the "
                       "dataset's defaults: " + "; ".join(
                           f"{d}: " + ", ".join(f"{k.replace('_', '-')} {v}" for k, v in o.items())
                           for d, o in DEFAULTS.items()) + ".", epilog=_EXIT_HELP)
    t.add_argument("--dataset", choices=list(DEFAULTS), default="digits",
                   help="moons (2-D, 2 classes; one logit, binary cross-entropy), digits "
                   "(scikit-learn's 8x8, 10 classes) or fashion-mnist (28x28, 10 classes, "
                   "needs apt-get install dataset-fashion-mnist); default %(default)s")
    t.add_argument("--layers", type=_layers, default=[16, 16], metavar="N,N,...",
                   help="hidden layer sizes; the output layer is added to fit the dataset "
                   f"(default 16,16; at most {MAX_PARAMETERS:,} parameters in all)")
    t.add_argument("--activation", choices=[a for a in ACTIVATIONS if a], default="relu",
                   help="hidden-layer activation (default %(default)s); the output is linear")
    t.add_argument("--init", choices=list(SCHEMES), default=None,
                   help="weight initialisation (default: he for the ReLU family, xavier "
                   "for tanh/sigmoid)")
    t.add_argument("--epochs", type=_positive(int), help="passes over the training set")
    t.add_argument("--batch-size", type=_positive(int),
                   help="samples per gradient step (1 = per-sample SGD)")
    t.add_argument("--lr", type=_positive(float), help="learning rate (a finite number > 0)")
    t.add_argument("--optimizer", choices=list(OPTIMIZERS), help=" or ".join(OPTIMIZERS))
    t.add_argument("--lr-decay", choices=["none", "linear"],
                   help="none: constant lr; linear: lr falls linearly to 0 over the run")
    t.add_argument("--momentum", type=_nonnegative_float,
                   help="SGD momentum (0 for moons and fashion-mnist; sgd only)")
    t.add_argument("--weight-decay", type=_nonnegative_float,
                   help="L2 weight decay added to the gradients (5e-4 for digits, else 0)")
    t.add_argument("--seed", type=int, default=0,
                   help="seed for initialisation, data split and shuffling (default 0)")
    t.add_argument("--limit", type=_positive(int), default=None, metavar="N",
                   help="train on the first N training samples only (quick runs)")
    t.add_argument("--test-limit", type=_positive(int), default=None, metavar="N",
                   help="evaluate on the first N test samples only")
    t.add_argument("--test-fraction", type=_fraction, default=0.2,
                   help="share of moons/digits held out for testing (default 0.2; "
                   "Fashion-MNIST has its own 10,000-image test set)")
    t.add_argument("--samples", type=_positive(int), default=500,
                   help=f"moons: number of points to generate (default 500, at most "
                   f"{MAX_SAMPLES:,})")
    t.add_argument("--noise", type=_nonnegative_float, default=0.1,
                   help="moons: standard deviation of the noise (default 0.1)")
    t.add_argument("--unfused", action="store_true",
                   help="build micrograd's one-node-per-multiply graph instead of one n-ary "
                   "node per neuron (same numbers, slower)")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    t.add_argument("--save", metavar="PATH", type=_save_path, default=None,
                   help="write the trained model to PATH as JSON (load with MLP.load); the "
                   "path is checked before training, and Ctrl-C saves the finished epochs there")
    t.add_argument("--live", metavar="PATH", type=_save_path, default=None,
                   help="record the run and write a self-contained replay page (HTML: play, "
                   "step, slider, losses, layer health, the decision boundary for moons) to "
                   "PATH; the path is checked before training")
    t.add_argument("--diagnose", action="store_true",
                   help="after each epoch, print each layer's health: dead ReLU units, "
                   "tanh/sigmoid saturation, activation mean/std, grad:data and update:data "
                   "ratios")
    t.add_argument("--traced", action="store_true",
                   help="replay each minibatch from compiled traces of the step "
                   "(autograd.trace): the same numbers, about twice as fast")
    t.add_argument("--backend", choices=["scalar", "torch"], default="scalar",
                   help="scalar: chainrule's Values (default); torch: the same model, loss, "
                   "optimiser, schedule and shuffling in PyTorch, batched (needs "
                   "pip install 'chainrule[torch]'); --save writes a chainrule model file "
                   "either way")
    t.add_argument("--workers", type=_positive(int), default=1, metavar="N",
                   help="with --backend torch: train in N processes through "
                   "torch.distributed (DDP, gloo on 127.0.0.1), each batch split between "
                   f"them (default 1, at most {MAX_WORKERS})")
    t.set_defaults(run=train, check=check_train_args)
    return t


def fill_defaults(args):
    """Give every recipe option left unset the dataset's default; returns the names set
    explicitly."""
    explicit = {key for key in DEFAULTS[args.dataset] if getattr(args, key) is not None}
    for key, value in DEFAULTS[args.dataset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return explicit


def recipe_line(args, n_train, n_test, nin, n_out, n_params):
    """The first line of a training run: data, model and recipe (momentum only for an
    optimiser that has it; an unknown one is refused later, where the optimiser is made)."""
    options = getattr(OPTIMIZERS.get(args.optimizer), "OPTIONS", ())
    momentum = args.momentum if "momentum" in options else 0.0
    return (f"{args.dataset}: {n_train} train / {n_test} test samples; model "
            f"{'-'.join(map(str, [nin] + args.layers + [n_out]))} {args.activation}, "
            f"{n_params} parameters; {args.optimizer} lr {args.lr}"
            f"{f' momentum {momentum}' if momentum else ''}"
            f"{f' weight decay {args.weight_decay}' if args.weight_decay else ''} "
            f"({args.lr_decay} decay), batch size {args.batch_size}, {args.epochs} epoch(s)")


def split_data(args):
    """The run's dataset, cut to --limit training and --test-limit test samples:
    (Xtr, ytr, Xte, yte, number of classes)."""
    Xtr, ytr, Xte, yte, n_out = _dataset(args)
    if args.limit is not None:
        Xtr, ytr = Xtr[:args.limit], ytr[:args.limit]
    if args.test_limit is not None:
        Xte, yte = Xte[:args.test_limit], yte[:args.test_limit]
    return Xtr, ytr, Xte, yte, n_out


def check_train_args(args):
    """Fill in the dataset's defaults and refuse what cannot work, before any data is loaded.
    Raises UsageError (or UnwritablePath for --save)."""
    explicit = fill_defaults(args)
    if "momentum" in explicit and "momentum" not in OPTIMIZERS[args.optimizer].OPTIONS \
            and args.momentum:
        raise UsageError(f"--momentum {args.momentum} is for sgd; {args.optimizer} has none")
    if args.samples > MAX_SAMPLES:
        raise UsageError(f"--samples {args.samples}: at most {MAX_SAMPLES:,} moons points")
    nin, n_out = SHAPES[args.dataset]
    sizes = args.layers + [n_out]
    try:
        count = MLP.parameter_count(nin, sizes)
    except ValueError as e:  # a size beyond any int the machine can index
        raise UsageError(f"--layers: {e}") from None
    if count > MAX_PARAMETERS:
        raise UsageError(f"--layers {','.join(map(str, args.layers))}: a "
                         f"{'-'.join(map(str, [nin] + sizes))} network has {count:,} parameters, "
                         f"more than the {MAX_PARAMETERS:,} allowed")
    if args.workers > 1 and args.backend != "torch":
        raise UsageError(f"--workers {args.workers} needs --backend torch")
    if args.workers > MAX_WORKERS:
        raise UsageError(f"--workers {args.workers}: at most {MAX_WORKERS}")
    if args.traced and (args.backend != "scalar" or args.unfused):
        raise UsageError("--traced replays the scalar engine's fused graph: drop --backend "
                         "torch or --unfused")
    if (args.live or args.diagnose) and args.backend != "scalar":
        raise UsageError("--live and --diagnose watch the scalar engine: drop --backend torch")
    for path in (args.save, args.live):
        if path is not None:  # find out now, not after an hour of training
            check_writable(path)


class _Console:
    """stdout that survives `| head`: once the reader is gone, lines are dropped and the
    run goes on (training and --save), instead of dying with the model unsaved."""

    def __init__(self):
        self.closed = False

    def __call__(self, line):
        if self.closed:
            return
        try:
            print(line, flush=True)
        except BrokenPipeError:
            self.closed = True
            # Python flushes stdout at exit too; point it at /dev/null so that cannot fail.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


class _Health:
    """A `fit` callback printing `nn.diagnose`'s table after each epoch, on up to 1,000 training
    samples. update:data compares the epoch's last step with the weights just before it, so
    the numbers are kept once per epoch, not at every step."""

    def __init__(self, model, X, epochs, say):
        self.model, self.X, self.epochs, self.say = model, X[:1000], epochs, say
        self.per_epoch, self.before = None, None

    def on_start(self, model, X, y, X_test, y_test, total_steps):
        self.per_epoch = total_steps // self.epochs

    def on_step(self, step, loss):
        if (step + 1) % self.per_epoch == 0:  # the next step is the epoch's last
            self.before = self.model.state_dict()

    def on_epoch(self, record):
        from .diagnose import diagnose
        before = self.before if self.per_epoch > 1 else None
        report = diagnose(self.model, self.X, previous=before)
        self.say(f"health after epoch {record['epoch']}:\n{report}")


class _LastEpoch:
    """A `fit` callback keeping the parameters as they were after the last finished epoch."""

    def __init__(self, model):
        self.model, self.epoch, self.state = model, 0, None

    def on_epoch(self, record):
        state = self.model.state_dict()
        self.epoch, self.state = record["epoch"], state


def _dataset(args):
    from . import data
    if args.dataset == "fashion-mnist":
        (Xtr, ytr), (Xte, yte) = data.load_fashion_mnist()
        return Xtr, ytr, Xte, yte, 10
    if args.dataset == "digits":
        X, y = data.load_digits()
        n_out = 10
    else:
        X, y = data.make_moons(args.samples, noise=args.noise, seed=args.seed)
        n_out = 1
    try:
        (Xtr, ytr), (Xte, yte) = data.train_test_split(X, y, args.test_fraction, seed=args.seed)
    except ValueError as e:  # e.g. --samples 3 --test-fraction 0.9
        raise UsageError(str(e)) from None
    return Xtr, ytr, Xte, yte, n_out


def train(args, say=None):
    """Run `nn train` on parsed and checked `args`; returns the exit status."""
    say = say or _Console()
    if args.backend == "torch":
        from .torch_train import train_torch
        return train_torch(args, say)
    Xtr, ytr, Xte, yte, n_out = split_data(args)
    nin = len(Xtr[0])
    model = MLP(nin, args.layers + [n_out], activation=args.activation, init=args.init,
                seed=args.seed, fused=not args.unfused)
    momentum = args.momentum if "momentum" in OPTIMIZERS[args.optimizer].OPTIONS else 0.0
    say(recipe_line(args, len(Xtr), len(Xte), nin, n_out, len(model.parameters())))
    last = _LastEpoch(model)
    callbacks = [last] + ([_Health(model, Xtr, args.epochs, say)] if args.diagnose else [])
    start = time.perf_counter()
    try:
        history = fit(model, Xtr, ytr, Xte, yte, epochs=args.epochs, batch_size=args.batch_size,
                      lr=args.lr, optimizer=args.optimizer, momentum=momentum,
                      weight_decay=args.weight_decay, seed=args.seed,
                      lr_decay=None if args.lr_decay == "none" else args.lr_decay,
                      progress=not args.no_progress, log=say, callbacks=callbacks,
                      traced=args.traced, live=args.live or False)
    except KeyboardInterrupt:
        return _save_interrupted(model, last, args)
    say(f"trained in {time.perf_counter() - start:.1f}s")
    if args.live:
        say(f"wrote replay page {args.live}")
    if args.save:
        with _no_interrupt():
            try:
                model.save(args.save)
            except OSError as e:  # the disk filled up or the folder went away while training
                fallback = _save_elsewhere(model, f"trained-{args.dataset}.json")
                _error(f"error: {_one_line(e)}; " + (f"saved the trained model to {fallback} "
                       "instead" if fallback else "the trained model could not be saved"))
                return EXIT_STATUS["failure"]
        say(f"saved model to {args.save}")
    say(f"test accuracy: {history[-1]['test_accuracy']:.4f}")
    return 0


def _save_interrupted(model, last, args):
    """Ctrl-C during training: save the finished epochs and say where; exit status 130."""
    with _no_interrupt():
        if last.state is None:
            _error(f"interrupted in epoch 1 of {args.epochs}: no finished epoch to save")
            return EXIT_STATUS["interrupted"]
        model.load_state_dict(last.state)
        done = f"after epoch {last.epoch} of {args.epochs}"
        path = args.save or _unused_path(f"interrupted-{args.dataset}.json")
        try:
            model.save(path)
        except OSError as e:
            path = _save_elsewhere(model, f"interrupted-{args.dataset}.json")
            if path is None:
                _error(f"interrupted {done}; could not save the model: {_one_line(e)}")
                return EXIT_STATUS["interrupted"]
        _error(f"interrupted: saved the model {done} to {path}")
        return EXIT_STATUS["interrupted"]


class _no_interrupt:
    """Ctrl-C is ignored inside: a second one must not cut a save short."""

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, signal.SIG_IGN)

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)


def _save_elsewhere(model, name):
    """Save to a new file named like `name` here, or else in the temporary folder; the
    path used, or None if neither can be written."""
    for folder in (os.curdir, tempfile.gettempdir()):
        path = _unused_path(os.path.join(folder, name))
        try:
            model.save(path)
            return path
        except OSError:
            continue
    return None


def _unused_path(name):
    stem, ext = os.path.splitext(name)
    path, k = name, 1
    while os.path.lexists(path):
        path, k = f"{stem}-{k}{ext}", k + 1
    return path


def _error(message):
    print(f"python -m nn train: {message}", file=sys.stderr, flush=True)


def main(argv=None):
    """`python -m nn ...`; returns the exit status (see EXIT_STATUS)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.check(args)
        return args.run(args)
    except (UsageError, UnwritablePath) as e:  # what the flags asked for cannot be done
        _error(f"error: {_one_line(e)}")
        return EXIT_STATUS["usage"]
    except Diverged as e:
        _error(f"error: {e} (--lr)")
        return EXIT_STATUS["failure"]
    except (OSError, ImportError, ValueError) as e:  # missing or corrupt data, a missing package
        _error(f"error: {_one_line(e)}")
        return EXIT_STATUS["failure"]
    except KeyboardInterrupt:  # before training started, or while saving at the end
        _error("interrupted")
        return EXIT_STATUS["interrupted"]


def _one_line(e):
    return " ".join(str(e).split())
