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


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for the module: the test machine is shared, and torch's default
    thread pool made refinement ~3x slower under load."""
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
