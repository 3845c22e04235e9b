"""`python -m benchmarks --quick` runs end to end and every contender computes the same
numbers (W1 against micrograd, or the floor when micrograd is not installed; W2 against the
floor). Timings are not checked here: the targets are measured by hand with `make bench`."""
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_suite_runs_and_the_numbers_agree(tmp_path):
    out = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    text = run.stdout
    for ours in ("W1 ours fused", "W1 ours unfused", "W2 ours fused"):
        assert re.search(rf"^  PASS  {ours} vs (micrograd|floor)", text, re.M), text
    assert "FAIL" not in text, text
    results = json.loads(out.read_text(encoding="utf-8"))
    assert {"W1", "W2", "W3", "W4"} <= {w[:2] for w in results["workloads"]}, results["workloads"].keys()
