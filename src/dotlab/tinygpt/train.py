"""Train the course's tiny GPT on the synthetic corpus and write ``tinygpt.pt``.

Run it with ``python -m dotlab.tinygpt.train`` (a few minutes on two CPU cores). The
run is seeded end to end: the corpus comes from a seeded grammar, the weights from
``torch.manual_seed`` and the batches from a seeded ``torch.Generator``.

The evaluation helpers here (held-out windows, accuracy, baselines, the pronoun
heads) are shared with the tests and the chapters, so every number quoted about the
model is computed the same way.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from dotlab.tinygpt import corpus
from dotlab.tinygpt.corpus import Tokenizer
from dotlab.tinygpt.model import GPT, GPTConfig

CHECKPOINT = Path(__file__).with_name("tinygpt.pt")
N_TRAIN_UNITS = 120_000  # ~1.2M tokens: more than the run reads, so it hardly repeats a window
N_HELDOUT_UNITS = 3_000


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    steps: int = 2500
    batch_size: int = 32
    lr: float = 3e-3  # small models tolerate (and need) a larger step than GPT-2's 6e-4
    warmup: int = 100  # steps of linear warm-up: Adam's early moment estimates are noisy
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    seed: int = 0


def stream(units: list[corpus.Unit], tok: Tokenizer) -> tuple[torch.Tensor, torch.Tensor]:
    """All units' ids end to end, and the offset where each unit starts.

    Examples
    --------
    >>> tok = Tokenizer(corpus.vocabulary())
    >>> ids, starts = stream(corpus.generate(3, seed=0), tok)
    >>> int(starts[0]), len(ids) > int(starts[-1])
    (0, True)
    """
    ids, starts = [], []
    for unit in units:
        starts.append(len(ids))
        ids.extend(tok.ids[w] for w in unit.words)
    return torch.tensor(ids), torch.tensor(starts)


def _usable_starts(ids: torch.Tensor, starts: torch.Tensor, block_size: int) -> torch.Tensor:
    """Unit starts far enough from the end to read block_size + 1 tokens (inputs and targets)."""
    return starts[starts + block_size + 1 <= len(ids)]


def sample_batch(ids, starts, block_size, batch_size, generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A random batch of windows, each beginning at the start of a unit.

    Starting at a unit boundary matches how the model is used: a reader's prompt
    begins with a sentence, never in the middle of one.
    """
    usable = _usable_starts(ids, starts, block_size)
    pick = usable[torch.randint(len(usable), (batch_size,), generator=generator)]  # (B,)
    rows = pick[:, None] + torch.arange(block_size + 1)  # (B, T+1)
    window = ids[rows]  # (B, T+1)
    return window[:, :-1], window[:, 1:]  # inputs and the next token at every position


def learning_rate(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def _optimizer(model: GPT, cfg: TrainConfig) -> torch.optim.Optimizer:
    # decay matrices only: shrinking biases and LayerNorm gains towards 0 has no reason
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95))


def train(model: GPT, ids: torch.Tensor, starts: torch.Tensor,
          cfg: TrainConfig, progress: bool = True) -> float:
    """Train ``model`` in place; return the last 100 steps' mean loss."""
    opt = _optimizer(model, cfg)
    gen = torch.Generator().manual_seed(cfg.seed)
    losses = []
    bar = tqdm(range(cfg.steps), desc="training", disable=not progress)
    model.train()
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, cfg)
        # x, y: (B, T) each
        x, y = sample_batch(ids, starts, model.config.block_size,
                            cfg.batch_size, gen)
        logits = model(x)  # (B, T, V)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        losses.append(loss.item())
        if step % 50 == 0:
            recent = losses[-50:]
            bar.set_postfix(loss=f"{sum(recent) / len(recent):.3f}")
    model.eval()
    return sum(losses[-100:]) / len(losses[-100:])


@dataclasses.dataclass(frozen=True)
class HeldOut:
    """Held-out windows and, for every pronoun in them, where its antecedent is.

    ``pronouns`` rows are ``(window, pronoun position, antecedent position, position
    of the most recent noun before the pronoun)``, the last one for a recency baseline.
    """

    inputs: torch.Tensor  # (N, T)
    targets: torch.Tensor  # (N, T)
    pronouns: torch.Tensor  # (P, 4)


def _pronoun_rows(units, unit_offsets, window: int, lo: int, hi: int) -> list[list[int]]:
    """Pronouns whose unit lies inside tokens lo..hi-1 of the stream, in window coordinates."""
    rows = []
    for unit, off in zip(units, unit_offsets):
        if unit.pronoun is None or off < lo or off + len(unit.words) > hi:
            continue
        recent = max(p for p in unit.nouns if p < unit.pronoun)
        rows.append([window, off + unit.pronoun - lo, off + unit.antecedent - lo, off + recent - lo])
    return rows


def heldout(tok: Tokenizer, block_size: int, n_units: int = N_HELDOUT_UNITS) -> HeldOut:
    """Non-overlapping held-out windows from the ``HELDOUT_SEED`` split.

    Examples
    --------
    >>> data = heldout(Tokenizer(corpus.vocabulary()), block_size=16, n_units=50)
    >>> data.inputs.shape[1], data.pronouns.shape[1]
    (16, 4)
    """
    units = corpus.generate(n_units, corpus.HELDOUT_SEED)
    ids, starts = stream(units, tok)
    offsets, rows, windows = starts.tolist(), [], []
    next_free = 0
    for s in _usable_starts(ids, starts, block_size).tolist():
        if s < next_free:
            continue
        rows += _pronoun_rows(units, offsets, len(windows), s, s + block_size)
        windows.append(ids[s : s + block_size + 1])
        next_free = s + block_size + 1
    w = torch.stack(windows)  # (N, T+1)
    return HeldOut(w[:, :-1], w[:, 1:], torch.tensor(rows).reshape(-1, 4))


@torch.no_grad()
def next_token_accuracy(model: GPT, data: HeldOut) -> float:
    """Fraction of held-out positions where the model's top token is the true next one."""
    predictions = model(data.inputs).argmax(dim=-1)  # (N, T)
    return (predictions == data.targets).float().mean().item()


def baselines(data: HeldOut, vocab_size: int) -> dict[str, float]:
    """Accuracies that need no model: uniform guessing and always the most frequent token.

    The most frequent token is counted on the held-out targets themselves, which can
    only flatter the baseline.
    """
    counts = torch.bincount(data.targets.flatten(), minlength=vocab_size)
    return {"uniform": 1.0 / vocab_size, "most_frequent": (counts.max() / counts.sum()).item()}


@torch.no_grad()
def pronoun_attention(model: GPT, data: HeldOut) -> dict[str, torch.Tensor | float]:
    """How often each head's attention from a pronoun lands on its antecedent.

    Returns ``argmax_rate`` and ``majority_rate``, both ``(n_layers, n_heads)``: the
    fraction of held-out pronouns whose largest weight is on the antecedent, and whose
    weight on it exceeds one half. ``recency_rate`` is what a head that always looked at
    the nearest preceding noun would score; ``verb_accuracy`` is how often the model's
    top guess after the pronoun is the antecedent's own verb.
    """
    w, p, a, r = data.pronouns.T  # (P,) each
    logits, att = model(data.inputs, return_attention=True)  # (N, T, V), (N, L, H, T, T)
    rows = att[w, :, :, p, :]  # (P, L, H, T): each pronoun's attention row, every head
    on_antecedent = rows[torch.arange(len(w)), :, :, a]  # (P, L, H)
    argmax_hit = rows.argmax(dim=-1) == a[:, None, None]  # (P, L, H)
    verb_hit = logits[w, p].argmax(dim=-1) == data.targets[w, p]  # (P,)
    return {
        "argmax_rate": argmax_hit.float().mean(0),
        "majority_rate": (on_antecedent > 0.5).float().mean(0),
        "recency_rate": (r == a).float().mean().item(),
        "verb_accuracy": verb_hit.float().mean().item(),
    }


def save(model: GPT, tok: Tokenizer, path: Path = CHECKPOINT) -> None:
    """Write config, vocabulary and weights: plain types only, so ``weights_only=True`` loads it."""
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    torch.save({"config": dataclasses.asdict(model.config), "vocab": list(tok.words), "state_dict": state}, path)


def _report(model: GPT, tok: Tokenizer, loss: float, seconds: float) -> None:
    data = heldout(tok, model.config.block_size)
    base = baselines(data, len(tok))
    pa = pronoun_attention(model, data)
    best = pa["majority_rate"].argmax().item()
    layer, head = divmod(best, model.config.n_heads)
    print(f"parameters: {model.num_parameters():,}   training time: {seconds:.0f} s")
    print(f"train loss (last 100 steps): {loss:.3f}")
    print(f"held-out next-token accuracy: {next_token_accuracy(model, data):.3f}  "
          f"(most frequent token {base['most_frequent']:.3f}, uniform {base['uniform']:.4f})")
    print(f"token after a pronoun = antecedent's verb: {pa['verb_accuracy']:.3f} of {len(data.pronouns)} pronouns")
    print(f"best pronoun head: layer {layer} head {head}: most of the weight on the antecedent for "
          f"{pa['majority_rate'].flatten()[best]:.3f}, top weight for {pa['argmax_rate'].flatten()[best]:.3f} "
          f"(nearest-noun baseline {pa['recency_rate']:.3f})")
    print("majority rate per layer (rows) and head (columns):")
    print(pa["majority_rate"].numpy().round(3))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=TrainConfig.steps)
    parser.add_argument("--seed", type=int, default=TrainConfig.seed)
    parser.add_argument("--out", type=Path, default=CHECKPOINT)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)  # the course's budget: a laptop's two cores
    torch.manual_seed(args.seed)
    cfg = TrainConfig(steps=args.steps, seed=args.seed)
    tok = Tokenizer(corpus.vocabulary())
    model = GPT(GPTConfig(vocab_size=len(tok)))
    ids, starts = stream(corpus.generate(N_TRAIN_UNITS, corpus.TRAIN_SEED), tok)
    t0 = time.perf_counter()
    loss = train(model, ids, starts, cfg)
    seconds = time.perf_counter() - t0
    _report(model, tok, loss, seconds)
    save(model, tok, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
