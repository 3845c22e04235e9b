import math
import random

import pytest
from hypothesis import given, strategies as st

from nn import init


@given(st.sampled_from(["uniform", "xavier", "he"]), st.integers(1, 300), st.integers(1, 300),
       st.integers(0, 2**32 - 1))
def test_draw_stays_in_bound(scheme, fan_in, fan_out, seed):
    bound = {"uniform": 1.0, "xavier": math.sqrt(6 / (fan_in + fan_out)),
             "he": math.sqrt(6 / fan_in)}[scheme]
    ws = init.draw(scheme, fan_in, fan_out, random.Random(seed))
    assert len(ws) == fan_in and all(-bound <= w <= bound for w in ws)
    assert ws == init.draw(scheme, fan_in, fan_out, random.Random(seed))


def test_variance_matches_the_scheme():
    ws = [w for _ in range(50) for w in init.draw("he", 200, 10, random.Random(_))]
    var = sum(w * w for w in ws) / len(ws)
    assert var == pytest.approx(2 / 200, rel=0.05)  # He: Var = 2 / fan_in


def test_defaults_and_errors():
    for a in ["relu", "leaky_relu", "elu", "gelu", "softplus"]:
        assert init.default_for(a) == "he"
    for a in ["tanh", "sigmoid", None]:
        assert init.default_for(a) == "xavier"
    with pytest.raises(ValueError, match="unknown init 'normal'"):
        init.draw("normal", 3, 3, random.Random(0))
    with pytest.raises(TypeError, match="seed must be"):
        init.make_rng("42")
    rng = random.Random(1)
    assert init.make_rng(rng) is rng
