import math
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from nn import MLP, cli
from nn.cli import EXIT_STATUS, build_parser, main
from nn.data import make_moons, train_test_split
from nn.train import fit

TINY = ["train", "--dataset", "moons", "--samples", "60", "--layers", "4", "--epochs", "2",
        "--no-progress"]


def _run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "nn", *args], capture_output=True, text=True,
                          timeout=300, **kw)


def _main(args, capsys):
    """(exit status, stdout, stderr) of main(args) in this process."""
    try:
        code = main(args)
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("python -m nn"), err
    assert "Traceback" not in err
    return lines[0]


def test_help_documents_every_flag_and_the_exit_status():
    r = _run("train", "--help")
    assert r.returncode == 0
    for flag in ["--dataset", "--layers", "--activation", "--init", "--epochs", "--batch-size",
                 "--lr", "--optimizer", "--lr-decay", "--momentum", "--weight-decay", "--seed", "--limit",
                 "--test-limit", "--test-fraction", "--samples", "--noise", "--unfused",
                 "--no-progress", "--save"]:
        assert flag in r.stdout, flag
    assert re.search(r"Exit status: 0 done, 2 usage error, 1\s+environment or data", r.stdout)
    train = next(a for a in build_parser()._actions if a.dest == "command").choices["train"]
    assert all(a.help for a in train._actions), "every flag has help text"


def test_choices_come_from_their_owners():
    from nn.init import SCHEMES
    from nn.mlp import ACTIVATIONS
    from nn.optim import OPTIMIZERS
    train = next(a for a in build_parser()._actions if a.dest == "command").choices["train"]
    choices = {a.dest: a.choices for a in train._actions if a.choices}
    assert list(choices["init"]) == list(SCHEMES)
    assert list(choices["optimizer"]) == list(OPTIMIZERS)
    assert list(choices["activation"]) == [a for a in ACTIVATIONS if a]


@pytest.mark.parametrize("args, message", [
    (["train", "--dataset", "cifar"], "invalid choice: 'cifar'"),
    (["train", "--layers", "16,x"], "comma-separated ints"),
    (["train", "--layers", "16,0"], "must be positive"),
    (["train", "--epochs", "0"], "must be > 0"),
    (["train", "--epochs", "1.5"], "expected an int, got '1.5'"),
    (["train", "--lr", "fast"], "expected a number"),
    (["train", "--lr", "inf"], "--lr: must be a finite number, got 'inf'"),
    (["train", "--lr", "nan"], "--lr: must be a finite number, got 'nan'"),
    (["train", "--weight-decay", "inf"], "--weight-decay: must be a finite number"),
    (["train", "--momentum=-inf"], "--momentum: must be a finite number"),
    (["train", "--noise", "inf"], "--noise: must be a finite number"),
    (["train", "--optimizer", "rmsprop"], "invalid choice"),
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    ([], "required: COMMAND"),
    (["train", "--save", ""], "--save: the path is empty"),
    (["train", "--save", "/no/such/dir/m.json"], "cannot write /no/such/dir/m.json: the folder "
                                                 "/no/such/dir does not exist"),
    (["train", "--save", "/"], "cannot write /: it is a directory"),
    (["train", "--save", "/dev/null"], "cannot write /dev/null: it is a device"),
    (["train", "--layers", "1000000000"], "--layers 1000000000: a 64-1000000000-10 network has "
                                          "75,000,000,010 parameters, more than the 10,000,000"),
    (["train", "--dataset", "moons", "--samples", "1000000000"],
     "--samples 1000000000: at most 1,000,000 moons points"),
    (["train", "--layers", "1" + "0" * 30], "--layers: MLP nouts[0] must be a positive int"),
    (["train", "--optimizer", "adam", "--momentum", "0.9"], "--momentum 0.9 is for sgd; adam has none"),
    (["train", "--dataset", "moons", "--samples", "3", "--test-fraction", "0.9"],
     "train_test_split: 3 samples leave none for training with test_fraction=0.9"),
])
def test_usage_errors_are_one_line_and_exit_2(args, message, capsys):
    start = time.perf_counter()
    code, out, err = _main(args, capsys)
    assert code == EXIT_STATUS["usage"] == 2
    assert message in _one_error_line(err)
    assert out == ""  # refused before any data was loaded or training started
    assert time.perf_counter() - start < 5


def test_dev_null_is_left_a_device(capsys):
    before = os.stat("/dev/null")
    _main(["train", "--dataset", "moons", "--samples", "20", "--epochs", "1", "--no-progress",
           "--save", "/dev/null"], capsys)
    assert os.stat("/dev/null").st_rdev == before.st_rdev and os.path.exists("/dev/null")


def _unwritable_folder(tmp_path):
    """A folder this process cannot create files in (root ignores modes: then /sys)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (folder, "/sys"):
        try:
            with open(os.path.join(candidate, "probe"), "w"):
                pass
            os.unlink(os.path.join(candidate, "probe"))
        except OSError:
            return str(candidate)
    pytest.fail("found no folder this process cannot write to")


def test_an_unwritable_folder_is_found_before_training(tmp_path, capsys):
    folder = _unwritable_folder(tmp_path)
    code, out, err = _main(TINY + ["--save", f"{folder}/m.json"], capsys)
    assert code == 2 and out == ""
    assert re.fullmatch(f"python -m nn train: error: cannot write {folder}/m.json: .+",
                        _one_error_line(err))


def test_a_long_legal_name_and_a_symlink_are_saved(tmp_path, capsys):
    long = tmp_path / ("m" * 240 + ".json")  # 245 characters; the limit is 255
    code, out, err = _main(TINY + ["--save", str(long)], capsys)
    assert code == 0, err
    assert f"saved model to {long}" in out and MLP.load(long).nin == 2
    target, link = tmp_path / "target.json", tmp_path / "link.json"
    target.write_text("old")
    link.symlink_to(target)
    assert _main(TINY + ["--save", str(link)], capsys)[0] == 0
    assert link.is_symlink() and MLP.load(target).nin == 2


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


def test_adam_on_digits_ignores_the_sgd_default_momentum(capsys):
    code, out, err = _main(["train", "--dataset", "digits", "--layers", "4", "--epochs", "1",
                            "--limit", "50", "--test-limit", "20", "--no-progress",
                            "--optimizer", "adam"], capsys)
    assert code == 0, err
    assert "adam lr 0.05 weight decay" in out and "momentum" not in out


def test_a_diverged_run_says_so_and_exits_1(capsys):
    code, out, err = _main(["train", "--dataset", "moons", "--samples", "100", "--layers", "8",
                            "--epochs", "3", "--optimizer", "sgd", "--lr", "1e300",
                            "--no-progress"], capsys)
    assert code == EXIT_STATUS["failure"] == 1
    assert re.fullmatch(r"python -m nn train: error: training diverged in epoch 1, step \d+ of "
                        r"\d+: .+; try a smaller learning rate than 1e\+300 \(--lr\)",
                        _one_error_line(err))
    assert "test accuracy" not in out


def test_a_data_error_is_one_line_and_exit_1(capsys, monkeypatch):
    from nn import data

    def corrupt():
        raise data.IdxFormatError("/data/x.gz: corrupt or truncated gzip data")
    monkeypatch.setattr(data, "load_digits", corrupt)
    code, out, err = _main(["train", "--dataset", "digits", "--no-progress"], capsys)
    assert code == 1
    assert _one_error_line(err) == \
        "python -m nn train: error: /data/x.gz: corrupt or truncated gzip data"


def test_piped_into_head_the_run_still_trains_and_saves(tmp_path):
    path = tmp_path / "m.json"
    proc = subprocess.Popen([sys.executable, "-m", "nn", *TINY, "--epochs", "20", "--save",
                             str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()  # `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, err
    assert first.startswith(b"moons: ") and err == ""
    assert MLP.load(path).nin == 2


def _interrupt_after_first_epoch(args, cwd):
    proc = subprocess.Popen([sys.executable, "-m", "nn", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd)
    lines = []
    while not any(l.startswith("epoch 1/") for l in lines):
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        lines.append(line)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, "".join(lines) + out, err


RUN = ["train", "--dataset", "digits", "--layers", "8", "--epochs", "200", "--limit", "300",
       "--test-limit", "50", "--lr-decay", "none", "--no-progress", "--seed", "2"]


def _epochs_in_process(k):
    """The model a run of RUN stopped after k epochs holds, trained here."""
    from nn.data import load_digits
    (Xtr, ytr), (Xte, yte) = train_test_split(*load_digits(), 0.2, seed=2)
    model = MLP(64, [8, 10], seed=2)
    fit(model, Xtr[:300], ytr[:300], Xte[:50], yte[:50], epochs=k, batch_size=16, lr=0.05,
        optimizer="sgd", momentum=0.9, weight_decay=5e-4, seed=2, progress=False, log=None)
    return model


def test_ctrl_c_saves_the_finished_epochs_and_exits_130(tmp_path):
    path = tmp_path / "m.json"
    code, out, err = _interrupt_after_first_epoch(RUN + ["--save", str(path)], tmp_path)
    assert code == EXIT_STATUS["interrupted"] == 130
    line = _one_error_line(err)
    k = int(re.fullmatch(f"python -m nn train: interrupted: saved the model after epoch "
                         f"(\\d+) of 200 to {path}", line).group(1))
    assert 1 <= k < 200 and f"epoch {k}/200" in out
    assert MLP.load(path).state_dict() == _epochs_in_process(k).state_dict()


def test_ctrl_c_without_save_writes_a_new_file_and_says_where(tmp_path):
    (tmp_path / "interrupted-digits.json").write_text("someone else's")
    code, out, err = _interrupt_after_first_epoch(RUN, tmp_path)
    assert code == 130
    assert re.fullmatch(r"python -m nn train: interrupted: saved the model after epoch \d+ of "
                        r"200 to interrupted-digits-1.json", _one_error_line(err))
    assert (tmp_path / "interrupted-digits.json").read_text() == "someone else's"
    assert MLP.load(tmp_path / "interrupted-digits-1.json").nouts == [8, 10]


def test_ctrl_c_in_the_first_epoch_saves_nothing_and_says_so(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "fit", interrupted)
    monkeypatch.chdir(tmp_path)
    code, out, err = _main(TINY + ["--save", str(tmp_path / "m.json")], capsys)
    assert code == 130
    assert _one_error_line(err) == \
        "python -m nn train: interrupted in epoch 1 of 2: no finished epoch to save"
    assert os.listdir(tmp_path) == []


FLAGS = ["--dataset", "--layers", "--activation", "--init", "--epochs", "--batch-size", "--lr",
         "--optimizer", "--lr-decay", "--momentum", "--weight-decay", "--seed", "--limit",
         "--test-limit", "--test-fraction", "--samples", "--noise", "--save"]


@given(pairs=st.lists(st.tuples(st.sampled_from(FLAGS),
                                st.text(max_size=12) | st.sampled_from(
                                    ["inf", "-inf", "nan", "1e400", "0", "-1", "1.5", "16,16",
                                     "1e-300", "NaN", "Infinity", "0x10", "1_000"])),
                      max_size=4))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_flag_value_parses_to_finite_numbers_or_is_one_line_exit_2(pairs, capsys):
    argv = ["train"] + [f"{flag}={value}" for flag, value in pairs]
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:
        assert e.code == 2
        _one_error_line(capsys.readouterr().err)
        return
    for key in ["lr", "momentum", "weight_decay", "test_fraction", "noise"]:
        v = getattr(args, key)
        assert v is None or math.isfinite(v), (key, v)
    assert args.save != ""


def test_a_save_failing_at_the_end_keeps_the_model_elsewhere_and_says_where(tmp_path, capsys,
                                                                             monkeypatch):
    from autograd.files import UnwritablePath
    from nn.module import Module
    target = tmp_path / "gone" / "m.json"
    target.parent.mkdir()
    real_save = Module.save

    def save(model, path):
        if os.fspath(path) == str(target):  # as if the folder vanished during training
            raise UnwritablePath(str(target), "No space left on device")
        real_save(model, path)
    monkeypatch.setattr(Module, "save", save)
    monkeypatch.chdir(tmp_path)
    code, out, err = _main(TINY + ["--save", str(target)], capsys)
    assert code == 1
    assert _one_error_line(err) == (f"python -m nn train: error: cannot write {target}: No space "
                                    "left on device; saved the trained model to "
                                    "./trained-moons.json instead")
    assert MLP.load(tmp_path / "trained-moons.json").nin == 2


def _epoch_lines(out):
    # the epoch lines without their timing, which differs from run to run
    return [re.sub(r"\s+\(\S+s\)$", "", l) for l in out.splitlines() if l.startswith("epoch ")]


@pytest.mark.parametrize("extra", [["--traced"], ["--backend", "torch"]],
                         ids=["traced", "torch"])
def test_other_backends_print_the_scalar_runs_numbers(extra, tmp_path, capsys):
    """--traced and --backend torch train the same model by the same recipe: the same epoch
    lines, the same accuracy, and a model file MLP.load reads."""
    args = ["train", "--dataset", "digits", "--layers", "8", "--epochs", "2", "--limit", "300",
            "--test-limit", "100", "--no-progress"]
    code, plain, err = _main(args, capsys)
    assert code == 0, err
    code, other, err = _main([*args, *extra, "--save", str(tmp_path / "m.json")], capsys)
    assert code == 0, err
    assert _epoch_lines(other) == _epoch_lines(plain) and len(_epoch_lines(plain)) == 2
    assert other.strip().splitlines()[-1] == plain.strip().splitlines()[-1]
    assert MLP.load(tmp_path / "m.json").nouts == [8, 10]


@pytest.mark.parametrize("args, message", [
    (["--workers", "2"], "--workers 2 needs --backend torch"),
    (["--backend", "torch", "--workers", "65"], "at most 64"),
    (["--traced", "--unfused"], "--traced replays"),
])
def test_backend_flags_are_checked_before_training(args, message, capsys):
    code, _, err = _main([*TINY, *args], capsys)
    assert code == EXIT_STATUS["usage"]
    assert message in _one_error_line(err)


def test_live_page_and_health_table_each_epoch(tmp_path, capsys):
    page = tmp_path / "run.html"
    code, out, err = _main([*TINY, "--live", str(page), "--diagnose"], capsys)
    assert code == 0, err
    assert out.count("health after epoch") == 2
    assert re.search(r"^layers\.0\s+relu\s+4\s", out, re.M), out
    assert f"wrote replay page {page}" in out
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<script" in html


def test_a_diverged_run_still_writes_its_replay_page(tmp_path, capsys):
    page = tmp_path / "run.html"
    code, out, err = _main(["train", "--dataset", "moons", "--samples", "100", "--layers", "8",
                            "--epochs", "3", "--lr", "1e300", "--optimizer", "sgd",
                            "--no-progress", "--live", str(page)], capsys)
    assert code == EXIT_STATUS["failure"] and "diverged" in _one_error_line(err)
    assert page.exists() and page.stat().st_size > 1000
