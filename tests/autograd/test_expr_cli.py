import math
import os
import pathlib
import signal
import subprocess
import sys

import pytest

from autograd.expr import ExprError, evaluate

ROOT = pathlib.Path(__file__).resolve().parents[2]


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "autograd", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_happy_path_prints_value_and_every_gradient(tmp_path):
    svg, page = tmp_path / "g.svg", tmp_path / "steps.html"
    r = cli("tanh(w*x + b)", "x=1.0", "w=-2", "b=0.5", "--svg", str(svg), "--html", str(page))
    assert r.returncode == 0, r.stderr
    t = math.tanh(-1.5)
    assert r.stdout.splitlines()[:4] == [
        f"tanh(w*x + b) = {t!r}", f"d/dx = {-2 * (1 - t * t)!r}",
        f"d/dw = {1 - t * t!r}", f"d/db = {1 - t * t!r}"]
    assert svg.read_bytes().startswith(b"<?xml") and b"<b>w</b>" not in svg.read_bytes()
    assert b">w</text>" in svg.read_bytes()
    assert page.read_text(encoding="utf-8").count("<svg") == 1
    assert r.stderr == ""


def test_rankdir_and_functions_with_a_second_argument(tmp_path):
    svg = tmp_path / "g.svg"
    r = cli("leaky_relu(x, 0.1) * elu(y, 1.5) + abs(x) + +x", "x=-2", "y=-1",
            "--svg", str(svg), "--rankdir", "TB")
    assert r.returncode == 0, r.stderr
    x, y = -2.0, -1.0
    value = 0.1 * x * 1.5 * math.expm1(y) + abs(x) + x
    assert math.isclose(float(r.stdout.splitlines()[0].split(" = ")[1]), value, rel_tol=1e-12)
    assert svg.exists()


def test_help_has_examples():
    r = cli("--help")
    assert r.returncode == 0 and "examples:" in r.stdout and 'python -m autograd "tanh(w*x + b)"' in r.stdout


@pytest.mark.parametrize("args, problem, col", [
    (["x +* 2", "x=1"], "syntax error", 4),
    (["tanh(x", "x=1"], "syntax error", 5),
    (["foo(x)", "x=1"], "unknown function 'foo'", 1),
    (["x + y", "x=1"], "unknown name 'y'", 5),
    (["x * y", "x=1", "y=abc"], "is not a number", 5),
    (["x + 1", "x=1", "x=2"], "given twice", 1),
    (["x.real", "x=1"], "attribute access", 1),
    (["x[0]", "x=1"], "subscripts", 1),
    (["1 + (lambda: x)", "x=1"], "lambda", 6),
    (["(lambda: 1)()"], "lambda not allowed", 2),
    (["tanh(x)(2)", "x=1"], "only calls of named functions", 1),
    (["leaky_relu(x, negative_slope=0.1)", "x=1"], "keyword arguments", 15),
    (["__import__('os').system('echo hi')"], "attribute access", 1),
    (["__import__('os')"], "unknown function '__import__'", 1),
    (["9**9**9"], "exponent 387420489 too large", 4),
    (["2 ** x", "x=5000"], "exponent 5000 too large", 6),
    (["+".join(["x"] * 6000), "x=1"], "expression too large: nested too deeply", 1),
    (["+".join(["x*x"] * 2000), "x=1"], "syntax nodes (limit 10000)", 1),
    (["x % 2", "x=1"], "operator not supported", 3),
    (["'a' + x", "x=1"], "strings are not allowed", 1),
    (["x < 2", "x=1"], "comparisons", 1),
    (["1 + log(x)", "x=-1"], "log: operand must be > 0", 5),
    (["1 / (x - 1)", "x=1"], "division by zero", 3),
    (["exp(x)", "x=1000"], "overflow: this operation gives inf", 1),
    (["x*x + 1", "x=1e200"], "overflow: this operation gives inf", 2),
    (["tanh(x, 2)", "x=1"], "takes 1 argument", 1),
])
def test_every_error_is_one_line_with_column_and_status_2(args, problem, col):
    r = cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"python -m autograd: error: column {col}: ") and problem in lines[0], lines[0]
    assert "Traceback" not in r.stderr


def test_malformed_input_and_option_errors_are_one_line():
    for args, problem in ((["x", "x"], "not of the form name=number"),
                          (["x", "x=nan"], "not a finite number"),
                          (["x", "x=1", "--rankdir", "XX"], "invalid choice")):
        r = cli(*args)
        assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and problem in r.stderr, r.stderr


def test_import_attempt_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    r = cli(f"__import__('os').system('touch {marker}')")
    assert r.returncode == 2 and not marker.exists()


def test_missing_graphviz_is_one_clear_line_with_status_1(tmp_path):
    env = {"PATH": str(tmp_path), "PYTHONPATH": str(ROOT)}
    r = cli("x*x", "x=2", "--svg", str(tmp_path / "g.svg"), env=env)
    assert r.returncode == 1
    assert r.stdout.splitlines()[:2] == ["x*x = 4.0", "d/dx = 4.0"]
    assert len(r.stderr.splitlines()) == 1 and "apt-get install graphviz" in r.stderr


def test_evaluate_builds_the_graph_with_labelled_inputs():
    root, leaves = evaluate("a*a + 3*b - b/2", {"a": 2.0, "b": 4.0})
    root.backward()
    assert root.data == 14.0 and leaves["a"].grad == 4.0 and leaves["b"].grad == 2.5
    assert [v.label for v in leaves.values()] == ["a", "b"]
    with pytest.raises(ExprError) as e:
        evaluate("exp(a) + q", {"a": 1.0})
    assert e.value.col == 10


def test_expression_module_never_evaluates_code():
    source = (ROOT / "autograd" / "expr.py").read_text()
    for forbidden in ("eval(", "exec(", "compile(", "__import__", "getattr(__builtins__"):
        assert forbidden not in source


def cli_bytes(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "autograd", *args], cwd=ROOT,
                          capture_output=True, timeout=60, **kwargs)


def one_error_line(r, status):
    assert r.returncode == status, (r.returncode, r.stdout, r.stderr)
    err = r.stderr.decode() if isinstance(r.stderr, bytes) else r.stderr
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m autograd: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_a_byte_that_is_not_utf8_is_one_error_line():
    line = one_error_line(cli_bytes(b"x + \xff", b"x=1"), 2)
    assert "column 5: byte 0xff is not valid UTF-8" in line
    line = one_error_line(cli_bytes(b"x", b"x\xfe=1"), 2)
    assert "not of the form name=number" in line and "\\xfe" in line
    line = one_error_line(cli_bytes(b"x", b"x=1\xfe"), 2)
    assert "is not a number" in line


def test_an_output_path_that_is_not_utf8_is_written(tmp_path):
    target = os.fsencode(tmp_path) + b"/g\xff.svg"
    r = cli_bytes(b"x*x", b"x=2", b"--svg", target)
    assert r.returncode == 0, r.stderr
    assert os.path.exists(target) and b"wrote " in r.stdout


def test_a_closed_pipe_exits_quietly_with_the_sigpipe_status():
    # `| head -0`: the reader is gone before anything is written
    reader, writer = os.pipe()
    os.close(reader)
    try:
        r = subprocess.run([sys.executable, "-m", "autograd", "tanh(x)", "x=1"], cwd=ROOT,
                           stdout=writer, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(writer)
    assert r.returncode == 128 + signal.SIGPIPE and r.stderr == b"", r.stderr


@pytest.mark.parametrize("flag", ["--svg", "--html"])
def test_an_empty_file_name_is_refused(flag):
    assert "file name is empty" in one_error_line(cli("x", "x=1", flag, ""), 2)


def test_full_width_names_are_the_names_python_reads():
    r = cli("ｘ * 2 + y", "ｘ=1.5", "ｙ=1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["ｘ * 2 + y = 4.0", "d/dx = 2.0", "d/dy = 1.0"]


def test_the_function_list_comes_from_the_op_table():
    from autograd import ops
    from autograd.expr import FUNCTIONS
    assert set(FUNCTIONS) == (set(ops.UNARY) - {"neg"}) | (set(ops.BINARY) - set(ops.INFIX))
    help_text = cli("--help").stdout
    assert all(name in help_text for name in FUNCTIONS)
    for name, (lo, hi) in FUNCTIONS.items():
        args = ", ".join(["x"] * hi)
        r = cli(f"{name}({args})", "x=0.5")
        assert r.returncode == 0, (name, r.stderr)


def special_files(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    return [(str(fifo), "a FIFO"), (str(tmp_path), "a directory"), ("/dev/null", "a device")]


@pytest.mark.parametrize("flag", ["--svg", "--html"])
def test_devices_fifos_and_directories_are_refused_before_any_work(tmp_path, flag):
    for path, kind in special_files(tmp_path):
        r = cli("x*x", "x=2", flag, path)
        line = one_error_line(r, 1)
        assert f"{flag}: cannot write {path}: it is {kind}" in line
        assert r.stdout == ""   # refused before evaluating


@pytest.mark.parametrize("flag", ["--svg", "--html"])
def test_outputs_go_through_the_atomic_writer(tmp_path, flag, monkeypatch, capsys):
    """A full disk leaves the old file whole and names the file, not None."""
    import errno
    from autograd import __main__ as cli_main
    from autograd import files
    target = tmp_path / "out"
    target.write_text("old contents")
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, f):
            self.f = f
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.f.close()
        def write(self, data):
            self.f.write(data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    with pytest.raises(SystemExit) as info:
        cli_main.main(["x*x", "x=2", flag, str(target)])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert f"cannot write {target}: No space left on device" in err and "None" not in err
    assert target.read_text() == "old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_graphviz_that_hangs_is_stopped_with_one_line(tmp_path, monkeypatch, capsys):
    import time
    from autograd import __main__ as cli_main
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dot").write_text("#!/bin/sh\nexec sleep 60\n")
    (fake / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(cli_main, "DRAW_SECONDS", 1)
    started = time.monotonic()
    with pytest.raises(SystemExit) as info:
        cli_main.main(["x*x", "x=2", "--svg", str(tmp_path / "g.svg")])
    assert info.value.code == 1 and time.monotonic() - started < 30
    err = capsys.readouterr().err.splitlines()
    assert err == ["python -m autograd: error: Graphviz took longer than 1 s to draw the graph"]
    assert not (tmp_path / "g.svg").exists()
