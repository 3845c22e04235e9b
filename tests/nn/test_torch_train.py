import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from nn import MLP
from nn.cli import build_parser, fill_defaults, split_data
from nn.torch_train import run, train_torch
from nn.train import fit


def parse(*flags, workers=1):
    args = build_parser().parse_args(["train", "--no-progress", *flags])
    args.backend, args.workers = "torch", workers
    return args


def filled(args):
    fill_defaults(args)
    return args


def scalar_run(args):
    """The scalar backend's run for the same flags: the model and its history."""
    Xtr, ytr, Xte, yte, n_out = split_data(args)
    model = MLP(len(Xtr[0]), args.layers + [n_out], activation=args.activation,
                init=args.init, seed=args.seed)
    history = fit(model, Xtr, ytr, Xte, yte, epochs=args.epochs, batch_size=args.batch_size,
                  lr=args.lr, optimizer=args.optimizer, momentum=args.momentum,
                  weight_decay=args.weight_decay, seed=args.seed,
                  lr_decay=None if args.lr_decay == "none" else args.lr_decay,
                  progress=False, log=None)
    return model, history


def assert_same_run(ours, theirs, history, theirs_history, tol):
    a, b = ours.state_dict(), theirs.state_dict()
    assert a.keys() == b.keys()
    worst = max(abs(a[k] - b[k]) for k in a)
    assert worst <= tol, worst
    for h, g in zip(history, theirs_history):
        assert h["train_accuracy"] == g["train_accuracy"]
        assert h["test_accuracy"] == g["test_accuracy"]
        assert abs(h["loss"] - g["loss"]) <= 1e-12 * abs(g["loss"])


@pytest.mark.parametrize("flags", [
    ("--dataset", "digits", "--epochs", "2", "--limit", "160"),  # SGD, momentum, wd, decay
    ("--dataset", "moons", "--epochs", "3", "--activation", "tanh"),  # Adam, one logit
    ("--dataset", "digits", "--epochs", "1", "--limit", "50", "--batch-size", "7",
     "--optimizer", "adam", "--momentum", "0", "--weight-decay", "0.01", "--activation", "gelu"),
])
def test_one_process_trains_what_the_scalar_backend_trains(flags):
    args = filled(parse(*flags))
    threads = torch.get_num_threads()
    result = run(args, 1)
    assert torch.get_num_threads() == threads  # the caller's setting is left alone
    model, history = scalar_run(args)
    assert result["checksums"] and len(result["checksums"]) == 1
    assert_same_run(result["model"], model, result["history"], history, 1e-12)


def test_two_processes_end_identical_and_save_a_model_file(tmp_path, capfd):
    path = tmp_path / "digits.json"
    args = parse("--dataset", "digits", "--epochs", "2", "--limit", "320", "--save", str(path),
                 workers=2)
    assert train_torch(args) == 0
    out = capfd.readouterr().out.splitlines()
    epochs = [line for line in out if line.startswith("epoch ")]
    assert [line.split()[1] for line in epochs] == ["1/2", "2/2"]
    assert "train acc" in epochs[0] and "test acc" in epochs[0]
    assert out[-2] == f"saved model to {path}" and out[-1].startswith("test accuracy: ")
    saved = MLP.load(path)
    result = run(filled(parse("--dataset", "digits", "--epochs", "2", "--limit", "320")), 2)
    a, b = result["checksums"]
    assert a == b and len(a) == 64
    assert saved.state_dict() == result["model"].state_dict()
    # and the two processes trained the model one process trains
    model, history = scalar_run(filled(parse("--dataset", "digits", "--epochs", "2",
                                             "--limit", "320")))
    assert_same_run(saved, model, result["history"], history, 1e-12)
    assert float(out[-1].split()[-1]) == round(history[-1]["test_accuracy"], 4)


def test_a_failing_worker_stops_the_run_without_hanging():
    args = filled(parse("--dataset", "moons", "--epochs", "1"))
    args.optimizer = "rmsprop"  # refused inside each worker
    start = time.monotonic()
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        run(args, 2)
    assert time.monotonic() - start < 120


def test_bad_worker_counts_and_live_are_refused():
    for workers in (0, -1, 2.0, 65):
        with pytest.raises(ValueError, match="--workers must be an int from 1 to 64"):
            train_torch(parse("--dataset", "moons", workers=workers))
    args = parse("--dataset", "moons")
    args.live = "run.html"
    with pytest.raises(ValueError, match="--live"):
        train_torch(args)


def test_ctrl_c_stops_every_process_and_saves_the_last_epoch(tmp_path):
    script = tmp_path / "long_run.py"
    script.write_text(
        "import sys\n"
        "from nn.cli import build_parser\n"
        "from nn.torch_train import train_torch\n"
        "if __name__ == '__main__':\n"
        "    a = build_parser().parse_args(['train', '--dataset', 'digits', '--epochs', '500',\n"
        "                                   '--save', 'run.json'])\n"
        "    a.backend, a.workers = 'torch', 2\n"
        "    sys.exit(train_torch(a))\n")
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        # wait until training runs: the second epoch line
        deadline = time.monotonic() + 120
        line = ""
        while time.monotonic() < deadline and not line.startswith("epoch 2/500"):
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "the run ended before training"
        children = _children(proc.pid)
        assert len(children) >= 2
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130
        time.sleep(1)
        assert not [pid for pid in children if _alive(pid)]
        epoch = int(err.split("saved the model after epoch ")[1].split()[0])
        assert epoch >= 2 and err.rstrip().endswith("to run.json")
        assert len(MLP.load(tmp_path / "run.json").parameters()) == 1482
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_ctrl_c_in_one_process_saves_the_last_finished_epoch(tmp_path, capfd):
    path = tmp_path / "run.json"
    args = parse("--dataset", "digits", "--epochs", "5", "--limit", "100", "--save", str(path))

    def say(line):
        print(line)
        if line.startswith("epoch 2/5"):
            raise KeyboardInterrupt

    assert train_torch(args, say) == 130
    err = capfd.readouterr().err
    assert f"saved the model after epoch 2 of 5 to {path}" in err
    expected = run(filled(parse("--dataset", "digits", "--epochs", "5", "--limit", "100")))
    assert MLP.load(path).state_dict() != expected["model"].state_dict()  # not the end


def _children(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True, timeout=10).stdout
    return [int(p) for p in out.split()]


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_without_torch_it_names_the_extra():
    code = ("import sys; sys.modules['torch'] = None\n"
            "from nn.cli import build_parser\n"
            "from nn.torch_train import train_torch\n"
            "a = build_parser().parse_args(['train', '--dataset', 'moons'])\n"
            "a.backend, a.workers = 'torch', 1\n"
            "try:\n"
            "    train_torch(a)\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("--backend torch needs PyTorch, which is not installed: "
                                  "pip install 'chainrule[torch]'")


def test_torch_is_the_version_the_extra_pins():
    assert torch.__version__.split("+")[0] == "2.13.0"
