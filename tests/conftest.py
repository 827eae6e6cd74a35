"""Settings shared by every test module."""

import os

import pytest
from hypothesis import settings

# Property tests run on shared, busy machines: no per-example deadline (a slow moment is
# not a bug), and a fixed sequence of examples so a run is repeatable. Exploring new
# examples is a developer's job: HYPOTHESIS_PROFILE=explore pytest ...
settings.register_profile("course", deadline=None, derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "course"))


@pytest.fixture(scope="module")
def one_thread():
    """One BLAS and one torch thread for a module: two cores are shared by everyone, and a
    second thread only waits for the first. Use with ``pytest.mark.usefixtures("one_thread")``."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(before)
