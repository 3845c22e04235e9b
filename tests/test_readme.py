"""The README's Python examples run as written, and say what they claim."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    scope = {"__name__": "readme"}
    exec(compile(code, str(README), "exec"), scope)
    for name, fn in list(scope.items()):
        if name.startswith("test_") and callable(fn):
            fn()      # a Hypothesis test the README defines: run it
    # A comment such as `# 24.7041 138.8338 645.5773` after a print states its output.
    out = capsys.readouterr().out
    for claim in re.findall(r"^print\(.*\)\s+#\s*(.+)$", code, re.M):
        assert claim.strip() in out


def test_micrograd_example_numbers():
    scope = {}
    exec(BLOCKS[0].replace("print(", "result = ("), scope)
    assert scope["result"] == "24.7041 138.8338 645.5773"
