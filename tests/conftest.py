"""Settings shared by every test module."""

import os

from hypothesis import settings

# Property tests run on shared, busy machines: no per-example deadline (a slow moment is
# not a bug), and a fixed sequence of examples so a run is repeatable. Exploring new
# examples is a developer's job: HYPOTHESIS_PROFILE=explore pytest ...
settings.register_profile("course", deadline=None, derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "course"))
