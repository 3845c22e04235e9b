"""`make demo`'s engine and neuron parts print the right numbers and write their files (the
digit-network part is `python -m nn train`, tested in tests/nn/test_cli.py)."""
import re

import demo


def test_demo_prints_micrograds_numbers_and_writes_the_graph(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demo, "OUT", tmp_path)
    demo.engine()
    out = capsys.readouterr().out
    assert "g = 24.7041, dg/da = 138.8338, dg/db = 645.5773" in out
    svg = (tmp_path / "micrograd_example.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "data 24.7<" in svg and "grad 138.8<" in svg


def test_demo_neuron_graph_and_stepper_page(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demo, "OUT", tmp_path)
    demo.neuron()
    out = capsys.readouterr().out
    assert re.search(r"o = 0\.7071; do/dw1 = 1\.0000, do/dx1 = -1\.5000", out), out
    assert "<svg" in (tmp_path / "neuron.svg").read_text(encoding="utf-8")
    page = (tmp_path / "neuron_steps.html").read_text(encoding="utf-8")
    assert "<svg" in page and "<script" in page and "http://" not in page.replace("http://www.w3.org", "")


def test_demo_trains_the_digit_network(capsys):
    """The same call `make demo` makes, cut to one epoch."""
    assert demo.digits(["--epochs", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "model 64-16-16-10 relu, 1482 parameters" in out, out
    accuracy = float(re.search(r"^test accuracy: (\d\.\d+)$", out, re.M).group(1))
    assert accuracy > 0.5, out

