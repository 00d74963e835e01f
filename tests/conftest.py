import os

import numpy as np
import pytest

try:
    from hypothesis import settings

    # deterministic property tests; numba compiles on first call, so no deadline
    settings.register_profile("graphgeo", derandomize=True, deadline=None, max_examples=50)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "graphgeo"))
except ImportError:  # pragma: no cover
    pass


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
