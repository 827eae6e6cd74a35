"""A small GPT: every dot product of chapters 3-6 in about a hundred lines of PyTorch.

The layout follows GPT-2 (Radford et al. 2019) module for module, under the same
names Hugging Face's ``GPT2LMHeadModel`` uses (``transformer.wte``, ``h.0.attn.c_attn``,
``h.0.mlp.c_fc``, ...), so a later chapter can load GPT-2's real weights by renaming.
One difference to keep in mind: Hugging Face stores those projections as ``Conv1D``
with the weight transposed, ``(in, out)``, where ``nn.Linear`` here keeps ``(out, in)``.

Shape legend, used in every comment, the course's notation (chapters/notation.md):
B = batch (sequences side by side), T = tokens, d_model = the residual stream's width,
H = heads, d_head = one head's width (d_model / H), d_ff = the MLP's hidden width,
L = layers, V = vocabulary size. (nanoGPT writes C, nh and hs for d_model, H and d_head.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class GPTConfig:
    """The shapes of the model; the names match ``dotlab.cost.TransformerShape``."""

    vocab_size: int = 125  # the grammar's words (corpus.vocabulary()); no padding, no <unk>
    block_size: int = 48  # context length T: a few units of the corpus, pronoun and antecedent included
    n_layers: int = 3  # two would do for the pronoun, the third gives the MLPs room for each noun's verb
    n_heads: int = 4
    d_model: int = 96  # must split evenly into heads: d_head = d_model / n_heads = 24
    layer_norm_eps: float = 1e-5  # GPT-2's value

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layers", "n_heads", "d_model"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"GPTConfig.{name}={value!r} must be a positive int")
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model={self.d_model} must be divisible by n_heads={self.n_heads}: "
                "every head gets an equal slice of the residual stream"
            )

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    @property
    def d_ff(self) -> int:
        return 4 * self.d_model  # the MLP's hidden width, 4x as in GPT-2 and Vaswani et al.


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention, written out so the weights can be returned."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_heads = config.n_heads
        self.c_attn = nn.Linear(config.d_model, 3 * config.d_model)  # q, k and v in one matmul
        self.c_proj = nn.Linear(config.d_model, config.d_model)
        mask = torch.tril(torch.ones(config.block_size, config.block_size, dtype=torch.bool))
        # a buffer, not a parameter: never trained, and left out of the checkpoint
        self.register_buffer("mask", mask.view(1, 1, config.block_size, config.block_size), persistent=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B, T, d_model = x.size()
        H = self.n_heads
        d_head = d_model // H
        q, k, v = self.c_attn(x).split(d_model, dim=2)  # each (B, T, d_model)
        q = q.view(B, T, H, d_head).transpose(1, 2)  # (B, H, T, d_head)
        k = k.view(B, T, H, d_head).transpose(1, 2)  # (B, H, T, d_head)
        v = v.view(B, T, H, d_head).transpose(1, 2)  # (B, H, T, d_head)
        # every query meets every key in one dot product; 1/sqrt(d_head) keeps their variance ~1 (chapter 4)
        att = q @ k.transpose(-2, -1) * d_head**-0.5  # (B, H, T, d_head) x (B, H, d_head, T) -> (B, H, T, T)
        att = att.masked_fill(~self.mask[:, :, :T, :T], float("-inf"))  # no peeking at later tokens
        att = F.softmax(att, dim=-1)  # (B, H, T, T), each row sums to 1
        y = att @ v  # (B, H, T, T) x (B, H, T, d_head) -> (B, H, T, d_head)
        y = y.transpose(1, 2).contiguous().view(B, T, d_model)  # heads side by side again: (B, T, d_model)
        return self.c_proj(y), att  # (B, T, d_model), (B, H, T, T)


class MLP(nn.Module):
    """Position-wise feed-forward: d_ff dot products up, d_model dot products down."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.d_model, config.d_ff)
        self.c_proj = nn.Linear(config.d_ff, config.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.gelu(self.c_fc(x), approximate="tanh")  # (B, T, d_ff); GPT-2's tanh form of GELU
        return self.c_proj(h)  # (B, T, d_model)


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x)) (GPT-2, section 2.3)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, att = self.attn(self.ln_1(x))  # (B, T, d_model), (B, H, T, T)
        x = x + a  # the residual stream: each block only adds to it
        x = x + self.mlp(self.ln_2(x))  # (B, T, d_model)
        return x, att


class GPT(nn.Module):
    """Token + position embeddings, ``n_layers`` blocks, a final LayerNorm, tied unembedding.

    Examples
    --------
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> model = GPT(GPTConfig(vocab_size=10, block_size=8, n_layers=1, n_heads=2, d_model=16))
    >>> logits, att = model(torch.tensor([[1, 2, 3]]), return_attention=True)
    >>> tuple(logits.shape), tuple(att.shape)
    ((1, 3, 10), (1, 1, 2, 3, 3))
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.d_model),  # token -> vector (a row lookup)
                wpe=nn.Embedding(config.block_size, config.d_model),  # position -> vector, learned
                h=nn.ModuleList(Block(config) for _ in range(config.n_layers)),
                ln_f=nn.LayerNorm(config.d_model, eps=config.layer_norm_eps),
            )
        )
        self.apply(self._init_weights)
        # GPT-2 (section 2.3) scales the projections that write into the residual stream by
        # 1/sqrt(number of residual additions), so the stream's variance does not grow with depth.
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)  # GPT-2's initial scale
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.bias)

    def num_parameters(self) -> int:
        """Trainable parameters; the tied unembedding is counted once."""
        return sum(p.numel() for p in self.parameters())

    def _check_ids(self, idx: torch.Tensor) -> None:
        if not isinstance(idx, torch.Tensor):
            raise TypeError(f"idx must be a torch.Tensor of token ids, not {type(idx).__name__}")
        if idx.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"idx must hold integer token ids, but idx.dtype={idx.dtype}")
        if idx.dim() != 2:
            raise ValueError(f"idx must have shape (B, T), but idx.shape={tuple(idx.shape)}")
        T = idx.size(1)
        if not 1 <= T <= self.config.block_size:
            raise ValueError(f"idx holds T={T} tokens; the model's context is 1..block_size={self.config.block_size}")
        if idx.numel() and (idx.min() < 0 or idx.max() >= self.config.vocab_size):
            raise ValueError(f"token ids must lie in 0..{self.config.vocab_size - 1}, got {idx.min()}..{idx.max()}")

    def forward(self, idx: torch.Tensor, return_attention: bool = False):
        """Logits ``(B, T, V)`` for ids ``(B, T)``; with ``return_attention`` also the
        weights of every head, stacked to ``(B, L, H, T, T)``."""
        self._check_ids(idx)
        B, T = idx.size()
        pos = torch.arange(T, device=idx.device)  # (T,)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)  # (B, T, d_model) + (T, d_model) -> (B, T, d_model)
        weights = []
        for block in self.transformer.h:
            x, att = block(x)  # (B, T, d_model), (B, H, T, T)
            weights.append(att)
        x = self.transformer.ln_f(x)  # (B, T, d_model)
        # weight tying (Press & Wolf 2017): each logit is h . (that token's embedding)
        logits = x @ self.transformer.wte.weight.T  # (B, T, d_model) x (d_model, V) -> (B, T, V)
        if return_attention:
            return logits, torch.stack(weights, dim=1)  # (B, L, H, T, T)
        return logits
