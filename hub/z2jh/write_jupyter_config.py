"""Write the instructor's and the learners' Jupyter settings into the servers' image.

The same files the class hub writes for ``make hub`` (hub/course_hub.py): nbgrader's
exchange root and course id for everyone; for the instructor also the course folder
``~/course`` and the collect that checks who owns each submission; for learners the
formgrader off. hub/z2jh/Dockerfile runs this at build time, and each server reads one
of the two folders (``JUPYTER_CONFIG_PATH``, set per account in hub/z2jh/values.yaml)::

    python hub/z2jh/write_jupyter_config.py /etc/dotlab-hub
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import course_hub  # noqa: E402 - the class hub's own settings writer

# Where hub/z2jh/values.yaml mounts the exchange volume.
EXCHANGE_ROOT = Path("/srv/nbgrader/exchange")


def write(state: Path, exchange_root: Path = EXCHANGE_ROOT) -> Path:
    """Write ``state/jupyter/{instructor,learner}/``; returns ``state/jupyter``."""
    settings = course_hub.Settings(
        ip="0.0.0.0", port=8000, api_port=8081, proxy_api_port=8001, state=state,
        instructor="instructor", learners=(), exchange_root=exchange_root)
    # course_hub's writer, not a copy of it, so both hubs give nbgrader one configuration.
    course_hub._write_hub_files(settings)
    return state / "jupyter"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: write_jupyter_config.py STATE_FOLDER")
    print(write(Path(sys.argv[1])))
