"""Every example in a docstring of `autograd` and `nn` runs and prints what it shows."""
import doctest
import importlib
import pkgutil

import pytest

import autograd
import nn

MODULES = []
for pkg in (autograd, nn):
    MODULES.append(pkg.__name__)
    MODULES += [f"{pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__)
                if m.name != "__main__"]  # importing __main__ would run the CLI


def test_the_examples_are_found():
    counts = {name: len([e for t in doctest.DocTestFinder().find(importlib.import_module(name))
                         for e in t.examples]) for name in MODULES}
    assert sum(counts.values()) >= 40, counts


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples may save files
    result = doctest.testmod(importlib.import_module(name), report=True,
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
