"""The command line of chapter 2's embedding cache: rebuild it, or check it against the model.

::

    python -m dotlab.embeddings_cli --rebuild   # embed the catalogue and queries, write the cache
    python -m dotlab.embeddings_cli --check     # re-embed and compare with the committed cache

``make embeddings`` runs the first.
"""

from __future__ import annotations

import argparse
import sys

from dotlab.embedding_cache import check, rebuild

__all__ = ["main"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dotlab.embeddings_cli", description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--rebuild", action="store_true", help="embed the catalogue and queries, write the cache")
    action.add_argument("--check", action="store_true", help="re-embed and compare with the committed cache")
    args = parser.parse_args(argv)
    if args.rebuild:
        path = rebuild()
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    else:
        print(f"cache matches the model: largest difference {check():.2g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
