import re
import subprocess
import sys

import pytest

from nn import MLP
from nn.cli import build_parser, main


def _run(*args):
    return subprocess.run([sys.executable, "-m", "nn", *args], capture_output=True, text=True,
                          timeout=300)


def test_help_documents_every_flag():
    r = _run("train", "--help")
    assert r.returncode == 0
    for flag in ["--dataset", "--layers", "--activation", "--init", "--epochs", "--batch-size",
                 "--lr", "--optimizer", "--lr-decay", "--momentum", "--weight-decay", "--seed", "--limit",
                 "--test-limit", "--test-fraction", "--samples", "--noise", "--unfused",
                 "--no-progress", "--save"]:
        assert flag in r.stdout, flag
    train = next(a for a in build_parser()._actions if a.dest == "command").choices["train"]
    assert all(a.help for a in train._actions), "every flag has help text"


@pytest.mark.parametrize("args, message", [
    (["train", "--dataset", "cifar"], "invalid choice: 'cifar'"),
    (["train", "--layers", "16,x"], "comma-separated ints"),
    (["train", "--layers", "16,0"], "must be positive"),
    (["train", "--epochs", "0"], "must be > 0"),
    (["train", "--lr", "fast"], "expected a float"),
    (["train", "--optimizer", "rmsprop"], "invalid choice"),
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    ([], "required: COMMAND"),
    (["train", "--save", "/no/such/dir/m.json"], "directory /no/such/dir does not exist"),
    (["train", "--save", "/"], "is a directory"),
])
def test_bad_flags_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    assert re.search(message, capsys.readouterr().err)


def test_tiny_training_run_and_save(tmp_path):
    path = tmp_path / "moons.json"
    r = _run("train", "--dataset", "moons", "--samples", "120", "--layers", "8", "--epochs", "3",
             "--seed", "1", "--save", str(path))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert re.fullmatch(r"test accuracy: [01]\.\d{4}", lines[-1])
    assert sum(line.startswith("epoch ") for line in lines) == 3
    model = MLP.load(path)
    assert model.nouts == [8, 1] and model.nin == 2


def test_digits_run_in_process(capsys):
    assert main(["train", "--dataset", "digits", "--layers", "8", "--epochs", "2", "--limit",
                 "200", "--test-limit", "100", "--no-progress", "--optimizer", "sgd",
                 "--batch-size", "4", "--momentum", "0.9", "--lr", "0.01", "--unfused"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "200 train / 100 test" in lines[0] and "64-8-10" in lines[0]
    losses = [float(re.search(r"loss (\S+)", l).group(1)) for l in lines if l.startswith("epoch")]
    assert len(losses) == 2 and losses[1] < losses[0] < 2.5  # learning; chance is ln 10 = 2.30
    assert 0.0 <= float(lines[-1].split(": ")[1]) <= 1.0


def test_data_refused_by_the_split_is_one_line_and_exit_2(capsys):
    code = main(["train", "--dataset", "moons", "--samples", "3", "--test-fraction", "0.9",
                 "--no-progress"])
    assert code == 2
    assert capsys.readouterr().err.strip() == \
        "error: train_test_split: 3 samples leave none for training with test_fraction=0.9"
