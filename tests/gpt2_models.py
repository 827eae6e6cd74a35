"""Small Hugging Face GPT-2 models with random weights, for the tests of the NumPy pass.

Built from a ``GPT2Config`` (nothing is downloaded), in float64 so that agreement can be
tested to rounding. Shared by tests/test_forward.py and tests/test_checkpoints.py.
"""

import torch
from transformers import GPT2Config, GPT2LMHeadModel

CONFIGS = {
    "one layer, one head": dict(vocab_size=13, n_positions=8, n_embd=8, n_layer=1, n_head=1),
    "gpt2-like, scaled down": dict(vocab_size=50, n_positions=16, n_embd=32, n_layer=2, n_head=4),
    "narrow MLP": dict(vocab_size=40, n_positions=12, n_embd=24, n_layer=3, n_head=6, n_inner=40),
    "wide heads, other eps": dict(vocab_size=31, n_positions=20, n_embd=48, n_layer=2, n_head=2,
                                  layer_norm_epsilon=1e-3),
}


def random_gpt2(seed=0, **config):
    """A GPT-2 with random weights, in float64, in evaluation mode."""
    torch.manual_seed(seed)
    config = {"bos_token_id": 0, "eos_token_id": 0, **config}  # GPT-2's 50256 is out of a small vocabulary
    return GPT2LMHeadModel(GPT2Config(**config)).double().eval()


def hf_logits(model, ids):
    """The model's logits for one sequence of token ids, as a ``(T, V)`` array."""
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].numpy()
