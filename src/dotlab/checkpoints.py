"""Chapter 8's weights from trained models: tinygpt's state dict, and GPT-2 from the local cache.

Both end as :class:`dotlab.forward.GPTWeights`, plain NumPy arrays stored the way
``x @ W`` wants them, ``(d_in, d_out)``: Hugging Face GPT-2's ``Conv1D`` layout is kept
as is, and PyTorch's ``nn.Linear`` (the course's tinygpt) ``(d_out, d_in)`` is transposed.
GPT-2's real weights are only ever read from this machine (the Hugging Face cache or a
saved folder); when they are missing, :class:`WeightsNotAvailable` says how to get them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dotlab.forward import BlockWeights, GPTWeights

__all__ = [
    "GPT2_REPOS",
    "HOW_TO_GET_GPT2",
    "WeightsNotAvailable",
    "from_hf_gpt2",
    "from_state_dict",
    "from_tinygpt",
    "gpt2_available",
    "load_gpt2",
]

_BLOCK_KEYS = {  # our name: (GPT-2's name inside a block, is it a matrix)
    "ln1_g": ("ln_1.weight", False), "ln1_b": ("ln_1.bias", False),
    "w_qkv": ("attn.c_attn.weight", True), "b_qkv": ("attn.c_attn.bias", False),
    "w_o": ("attn.c_proj.weight", True), "b_o": ("attn.c_proj.bias", False),
    "ln2_g": ("ln_2.weight", False), "ln2_b": ("ln_2.bias", False),
    "w_up": ("mlp.c_fc.weight", True), "b_up": ("mlp.c_fc.bias", False),
    "w_down": ("mlp.c_proj.weight", True), "b_down": ("mlp.c_proj.bias", False),
}


def _numpy(tensor, dtype) -> np.ndarray:
    if hasattr(tensor, "detach"):  # a torch tensor; float() first, as NumPy has no bfloat16
        tensor = tensor.detach().float().cpu().numpy()
    return np.asarray(tensor, dtype=dtype)


def from_state_dict(state_dict, n_heads: int, *, layout: str, eps: float = 1e-5, dtype=np.float64) -> GPTWeights:
    """Plain arrays from a GPT-2-style state dict (names ``transformer.h.0.attn.c_attn.weight``, ...).

    Parameters
    ----------
    state_dict : mapping of str to tensor or array
    n_heads : int
    layout : {"conv1d", "linear"}
        How the projection matrices are stored: ``"conv1d"`` is Hugging Face GPT-2's
        ``(d_in, d_out)``, kept as is; ``"linear"`` is ``nn.Linear``'s ``(d_out, d_in)``,
        transposed.
    eps : float
        The layer norms' epsilon.
    dtype : numpy dtype, default float64

    Examples
    --------
    >>> import torch
    >>> from dotlab.tinygpt import load
    >>> model, _ = load()
    >>> w = from_state_dict(model.state_dict(), model.config.n_heads, layout="linear")
    >>> w.blocks[0].w_qkv.shape   # (d_model, 3·d_attn), ready for x @ W
    (96, 288)
    """
    if layout not in ("conv1d", "linear"):
        raise ValueError(f"layout={layout!r} must be 'conv1d' ((d_in, d_out), Hugging Face GPT-2) or 'linear' ((d_out, d_in))")
    sd = {k.removeprefix("transformer."): v for k, v in state_dict.items()}

    def get(name, matrix=False):
        if name not in sd:
            raise KeyError(f"the state dict has no {name!r}; is it a GPT-2-style model? (first keys: {list(sd)[:4]})")
        a = _numpy(sd[name], dtype)
        return a.T.copy() if matrix and layout == "linear" else a

    n_layers = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("h."))
    blocks = tuple(BlockWeights(**{ours: get(f"h.{i}.{theirs}", matrix) for ours, (theirs, matrix) in _BLOCK_KEYS.items()})
                   for i in range(n_layers))
    weights = GPTWeights(get("wte.weight"), get("wpe.weight"), blocks, get("ln_f.weight"), get("ln_f.bias"),
                         int(n_heads), float(eps))
    weights.shape  # noqa: B018 - checks the sizes fit together (raises if not)
    return weights


def from_tinygpt(model, dtype=np.float64) -> GPTWeights:
    """The course's tinygpt (``dotlab.tinygpt.load()[0]``) as plain arrays.

    Examples
    --------
    >>> from dotlab.tinygpt import load
    >>> w = from_tinygpt(load()[0])
    >>> w.shape
    TransformerShape(n_layers=3, d_model=96, n_heads=4, d_head=24, d_ff=384, vocab_size=125, n_kv_heads=4, window=None)
    """
    c = model.config
    return from_state_dict(model.state_dict(), c.n_heads, layout="linear", eps=c.layer_norm_eps, dtype=dtype)


def from_hf_gpt2(model, dtype=np.float64) -> GPTWeights:
    """A Hugging Face ``GPT2LMHeadModel`` (or ``GPT2Model``) as plain arrays.

    Raises
    ------
    ValueError
        If the configuration asks for something this forward pass does not do (another
        activation, unscaled or layer-scaled attention scores).
    """
    c = model.config
    if c.activation_function not in ("gelu_new", "gelu_pytorch_tanh"):
        raise ValueError(f"activation_function={c.activation_function!r}: this forward pass uses GPT-2's tanh GELU")
    if not c.scale_attn_weights or c.scale_attn_by_inverse_layer_idx:
        raise ValueError("this forward pass scales attention scores by 1/sqrt(d_head) only, as GPT-2 does")
    sd = {k: v for k, v in model.state_dict().items() if not k.startswith("lm_head.")}  # tied to wte
    return from_state_dict(sd, c.n_head, layout="conv1d", eps=c.layer_norm_epsilon, dtype=dtype)


# -- GPT-2's real weights, if this machine already has them ----------------------------------

GPT2_REPOS = ("openai-community/gpt2", "gpt2")  # the current name, and the one older caches use

HOW_TO_GET_GPT2 = (
    "GPT-2's weights (about 550 MB) are not on this machine. To get them once, with a network "
    "connection, run\n\n    hf download openai-community/gpt2\n\n(the `hf` command comes with huggingface_hub), "
    "or in Python\n\n    from transformers import AutoTokenizer, GPT2LMHeadModel\n"
    "    GPT2LMHeadModel.from_pretrained('openai-community/gpt2')\n"
    "    AutoTokenizer.from_pretrained('openai-community/gpt2')\n\n"
    "They land in the Hugging Face cache (~/.cache/huggingface/hub), where this code finds them "
    "without ever going online."
)


class WeightsNotAvailable(FileNotFoundError):
    """The weights asked for are not on this machine; the message says how to get them."""


def _is_dir(source) -> bool:
    return isinstance(source, (str, os.PathLike)) and Path(source).is_dir()


def _cached_repo(source, cache_dir) -> str | None:
    """The repository id whose config and weights are in the local cache, or None.

    Only looks: ``try_to_load_from_cache`` reads the cache folder and never downloads.
    """
    from huggingface_hub import try_to_load_from_cache

    repos = GPT2_REPOS if source is None else (str(source),)
    for repo in repos:
        try:
            config = try_to_load_from_cache(repo, "config.json", cache_dir=cache_dir)
            weights = [try_to_load_from_cache(repo, name, cache_dir=cache_dir)
                       for name in ("model.safetensors", "pytorch_model.bin")]
        except ValueError:  # not a repository id (a folder that does not exist, say)
            continue
        if isinstance(config, str) and any(isinstance(w, str) for w in weights):
            return repo
    return None


def gpt2_available(source=None, *, cache_dir=None) -> bool:
    """Whether GPT-2's weights can be loaded without a download.

    Parameters
    ----------
    source : str or path, optional
        A folder written by ``save_pretrained``, or a repository id; by default GPT-2
        small under either of its names on the Hub.
    cache_dir : str or path, optional
        The Hugging Face cache to look in; by default the standard one.

    Examples
    --------
    >>> gpt2_available("/no/such/folder", cache_dir="/no/such/cache")
    False
    """
    if source is not None and _is_dir(source):
        folder = Path(source)
        return (folder / "config.json").is_file() and any(
            (folder / name).is_file() for name in ("model.safetensors", "pytorch_model.bin"))
    return _cached_repo(source, cache_dir) is not None


def load_gpt2(source=None, *, cache_dir=None, dtype=np.float32):
    """GPT-2's weights as :class:`GPTWeights`, and its tokenizer, from local files only.

    Parameters
    ----------
    source, cache_dir
        As in :func:`gpt2_available`.
    dtype : numpy dtype, default float32
        GPT-2's own precision; float64 doubles the memory (about 1 GB for GPT-2 small).

    Returns
    -------
    weights : GPTWeights
    tokenizer : transformers tokenizer or None
        None when the folder holds no tokenizer files (a model saved on its own).

    Raises
    ------
    WeightsNotAvailable
        If the weights are not on this machine; the message says how to get them.
    """
    if source is not None and _is_dir(source):
        if not gpt2_available(source):
            raise WeightsNotAvailable(f"{source} holds no GPT-2 config.json and weights. " + HOW_TO_GET_GPT2)
        name = str(source)
    else:
        name = _cached_repo(source, cache_dir)
        if name is None:
            raise WeightsNotAvailable(HOW_TO_GET_GPT2)
    from transformers import AutoTokenizer, GPT2LMHeadModel
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a page shows what it computes, not a loader's progress bar
    try:
        model = GPT2LMHeadModel.from_pretrained(name, cache_dir=cache_dir, local_files_only=True)
        try:
            tokenizer = AutoTokenizer.from_pretrained(name, cache_dir=cache_dir, local_files_only=True)
        except (OSError, ValueError):
            tokenizer = None
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    weights = from_hf_gpt2(model, dtype=dtype)
    if tokenizer is not None and len(tokenizer) != weights.wte.shape[0]:
        tokenizer = None  # no vocabulary files next to the weights: a placeholder, not GPT-2's tokenizer
    return weights, tokenizer
