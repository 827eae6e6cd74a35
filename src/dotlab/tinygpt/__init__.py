"""The course's own small trained GPT: real predictions and real attention patterns.

The model (``model.py``) is a three-layer GPT trained for a couple of minutes by
``python -m dotlab.tinygpt.train`` on a synthetic corpus (``corpus.py``) of short
sentences whose pronouns point back to one earlier noun:

    the girl saw the dogs . they barked .

Its checkpoint ships with the package, so chapters load it in a fraction of a second.

Examples
--------
>>> model, tok = load()
>>> [word for word, p in next_token_distribution(model, tok, "the girl saw the dogs . they", k=1)]
['barked']
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dotlab.tinygpt.corpus import Tokenizer
from dotlab.tinygpt.model import GPT, GPTConfig

__all__ = ["GPT", "GPTConfig", "Tokenizer", "attention_weights", "decode", "encode", "load", "next_token_distribution"]

CHECKPOINT = Path(__file__).with_name("tinygpt.pt")


def load(path: str | Path | None = None) -> tuple[GPT, Tokenizer]:
    """Load the trained model and its tokenizer from the committed checkpoint.

    Parameters
    ----------
    path : str or Path, optional
        A checkpoint written by ``dotlab.tinygpt.train``; by default the one shipped
        with the package.

    Returns
    -------
    model : GPT
        In evaluation mode, on the CPU.
    tok : Tokenizer
        The word-level tokenizer the model was trained with.

    Raises
    ------
    ValueError
        If the file does not exist.

    Examples
    --------
    >>> model, tok = load()
    >>> model.config.n_layers, len(tok) == model.config.vocab_size
    (3, True)
    """
    path = Path(CHECKPOINT if path is None else path)
    if not path.is_file():
        raise ValueError(f"no checkpoint at {path}; train one with `python -m dotlab.tinygpt.train`")
    # weights_only: the file holds only plain data and tensors, so nothing in it can run code
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = GPT(GPTConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["state_dict"])
    return model.eval(), Tokenizer(ckpt["vocab"])


def encode(tok: Tokenizer, text: str) -> list[int]:
    """Token ids of ``text`` (lower-cased; ``.`` is a word of its own).

    Raises
    ------
    ValueError
        If a word is not in the vocabulary (the message names it).
    TypeError
        If ``text`` is not a string.

    Examples
    --------
    >>> tok = Tokenizer(["barked", "dog", "the"])
    >>> encode(tok, "The dog barked")
    [2, 1, 0]
    """
    return tok.encode(text)


def decode(tok: Tokenizer, ids) -> str:
    """The words for token ids, joined by spaces.

    Examples
    --------
    >>> tok = Tokenizer(["barked", "dog", "the"])
    >>> decode(tok, [2, 1, 0])
    'the dog barked'
    """
    return tok.decode(ids)


def _ids(model: GPT, tok: Tokenizer, text: str) -> torch.Tensor:
    """``text`` as a (1, T) batch, checked against the model's context length."""
    ids = tok.encode(text)
    if not ids:
        raise ValueError(f"text={text!r} has no words; the model needs at least one token to condition on")
    if len(ids) > model.config.block_size:
        raise ValueError(
            f"text has {len(ids)} tokens but the model's context holds at most "
            f"block_size={model.config.block_size}; shorten the prompt"
        )
    return torch.tensor([ids])  # (1, T)


@torch.no_grad()
def next_token_distribution(model: GPT, tok: Tokenizer, text: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` most probable next words after ``text``, with their probabilities.

    Parameters
    ----------
    model, tok
        As returned by :func:`load`.
    text : str
        The prompt, at most ``model.config.block_size`` words.
    k : int
        How many candidates to return (at most the vocabulary size).

    Returns
    -------
    list of (str, float)
        Most probable first; the probabilities come from a softmax over all V logits.

    Raises
    ------
    ValueError
        For an unknown word, an empty or too long prompt, or ``k`` out of range.

    Examples
    --------
    >>> model, tok = load()
    >>> top = next_token_distribution(model, tok, "the boy fed the cat . it", k=3)
    >>> top[0][0], top[0][1] > 0.5, len(top)
    ('meowed', True, 3)
    """
    if not isinstance(k, int) or not 1 <= k <= len(tok):
        raise ValueError(f"k={k!r} must be an int between 1 and the vocabulary size {len(tok)}")
    logits = model(_ids(model, tok, text))[0, -1]  # (V,): the last position scores the next word
    probs = torch.softmax(logits, dim=-1)  # (V,)
    top = torch.topk(probs, k)
    return [(tok.words[i], float(p)) for p, i in zip(top.values.tolist(), top.indices.tolist())]


@torch.no_grad()
def attention_weights(model: GPT, tok: Tokenizer, text: str) -> np.ndarray:
    """Every head's attention weights over ``text``.

    Returns
    -------
    numpy.ndarray, shape (n_layers, n_heads, T, T)
        Row ``t`` of ``[layer, head]`` holds how much token ``t`` takes from each token
        ``0..t``; it sums to 1, and the entries above the diagonal are 0 (causal mask).

    Raises
    ------
    ValueError
        For an unknown word, an empty prompt, or one longer than the context.

    Examples
    --------
    >>> model, tok = load()
    >>> att = attention_weights(model, tok, "the dog saw the girl . she laughed")
    >>> att.shape
    (3, 4, 8, 8)
    >>> bool(np.allclose(att.sum(axis=-1), 1.0, atol=1e-5))
    True
    """
    _, att = model(_ids(model, tok, text), return_attention=True)  # (1, L, H, T, T)
    return att[0].numpy()
