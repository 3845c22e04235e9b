"""Speed and memory of chainrule against micrograd, PyTorch and hand-written Python.

    $ python -m benchmarks            # the four workloads, about two minutes
    $ python -m benchmarks --quick    # reduced sizes, a smoke run of a few seconds

Workloads: `moons` (W1), micrograd's moons demo; `fashion` (W2), the 784-16-16-10 network on
Fashion-MNIST; `chain` (W3), a 1,000,000-op chain; `memory` (W4), bytes per recorded op. Contenders run in one process, interleaved,
on identical inputs and identical initial weights; the table shows medians, ratios and the
targets. `python -m benchmarks.profiling` profiles our engine on the same workloads.
"""
