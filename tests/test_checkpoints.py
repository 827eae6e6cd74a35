"""dotlab.checkpoints: trained weights read into the NumPy pass, and GPT-2 never downloaded.

Layouts: Hugging Face stores ``(in, out)`` and ``nn.Linear`` ``(out, in)``; both must
land as ``(d_in, d_out)``. GPT-2's real weights are never downloaded: the "weights
available" branch is tested with a random model saved to a temporary folder, and laid
out as a Hugging Face cache.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from dotlab import tinygpt
from dotlab.checkpoints import (WeightsNotAvailable, from_hf_gpt2, from_state_dict, from_tinygpt, gpt2_available,
                                load_gpt2)
from dotlab.forward import BlockWeights, forward
from gpt2_models import CONFIGS, random_gpt2

pytestmark = pytest.mark.usefixtures("one_thread")


def test_float32_weights_stay_float32_and_agree():
    model, tok = tinygpt.load()
    ids = tok.encode("the girl saw the dogs . they")
    w32 = from_tinygpt(model, dtype=np.float32)
    got = forward(w32, ids)
    assert got.dtype == np.float32
    with torch.no_grad():
        want = model(torch.tensor([ids]))[0].numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


def test_hugging_face_in_float32():
    model = random_gpt2(**CONFIGS["gpt2-like, scaled down"]).float()
    ids = [3, 1, 4, 1, 5, 9, 2, 6]
    with torch.no_grad():
        want = model(torch.tensor([ids])).logits[0].numpy()
    np.testing.assert_allclose(forward(from_hf_gpt2(model, dtype=np.float32), ids), want, rtol=0, atol=1e-4)


def test_conv1d_and_linear_layouts_meet():
    """HF stores (in, out); nn.Linear stores (out, in): transposing one gives the other."""
    model = random_gpt2(**CONFIGS["gpt2-like, scaled down"])
    sd = model.state_dict()
    as_linear = {k: (v.T if k.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")) else v) for k, v in sd.items()}
    a = from_state_dict(sd, 4, layout="conv1d")
    b = from_state_dict(as_linear, 4, layout="linear")
    for x, y in zip(a.blocks, b.blocks):
        for key in BlockWeights.__dataclass_fields__:
            np.testing.assert_array_equal(getattr(x, key), getattr(y, key))


def test_unsupported_hugging_face_settings_are_refused():
    with pytest.raises(ValueError, match="tanh GELU"):
        from_hf_gpt2(random_gpt2(vocab_size=10, n_positions=4, n_embd=8, n_layer=1, n_head=2, activation_function="relu"))
    with pytest.raises(ValueError, match="1/sqrt"):
        from_hf_gpt2(random_gpt2(vocab_size=10, n_positions=4, n_embd=8, n_layer=1, n_head=2, scale_attn_by_inverse_layer_idx=True))


def test_bad_state_dicts_say_what_is_wrong():
    sd = random_gpt2(**CONFIGS["one layer, one head"]).state_dict()
    with pytest.raises(ValueError, match="layout"):
        from_state_dict(sd, 1, layout="transposed")
    del sd["transformer.ln_f.bias"]
    with pytest.raises(KeyError, match="ln_f.bias"):
        from_state_dict(sd, 1, layout="conv1d")


# -- GPT-2's real weights: never downloaded ------------------------------------------------


def _saved_model(tmp_path):
    model = random_gpt2(**CONFIGS["gpt2-like, scaled down"]).float()
    folder = tmp_path / "saved"
    model.save_pretrained(folder)
    return model, folder


def test_without_the_weights_the_message_says_how_to_get_them(tmp_path):
    empty = tmp_path / "empty-cache"
    empty.mkdir()
    assert gpt2_available(cache_dir=empty) is False
    with pytest.raises(WeightsNotAvailable, match="hf download openai-community/gpt2"):
        load_gpt2(cache_dir=empty)
    with pytest.raises(WeightsNotAvailable):
        load_gpt2(tmp_path)  # a folder without a model in it
    assert isinstance(WeightsNotAvailable("x"), FileNotFoundError)


def test_this_machine_either_has_gpt2_or_says_so():
    if gpt2_available():
        weights, _ = load_gpt2()
        assert weights.shape.d_model == 768
    else:
        with pytest.raises(WeightsNotAvailable):
            load_gpt2()


def test_a_saved_gpt2_folder_runs_through_the_same_pass(tmp_path):
    model, folder = _saved_model(tmp_path)
    assert gpt2_available(folder)
    weights, tokenizer = load_gpt2(folder, dtype=np.float64)
    assert tokenizer is None  # a model saved without its tokenizer
    ids = [5, 4, 3, 2, 1, 0, 7]
    with torch.no_grad():
        want = model.double()(torch.tensor([ids])).logits[0].numpy()
    np.testing.assert_allclose(forward(weights, ids), want, rtol=0, atol=1e-6)


def test_gpt2_in_the_hugging_face_cache_is_found_offline(tmp_path):
    """Lay the saved model out as the Hub cache does (models--gpt2/snapshots/<commit>/)."""
    model, folder = _saved_model(tmp_path)
    cache = tmp_path / "hub"
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = cache / "models--gpt2" / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (cache / "models--gpt2" / "refs").mkdir()
    (cache / "models--gpt2" / "refs" / "main").write_text(commit)
    for f in folder.iterdir():
        shutil.copy(f, snapshot / f.name)
    assert gpt2_available(cache_dir=cache)
    weights, _ = load_gpt2(cache_dir=cache)
    assert weights.wte.dtype == np.float32
    ids = [1, 2, 3]
    with torch.no_grad():
        want = model(torch.tensor([ids])).logits[0].numpy()
    np.testing.assert_allclose(forward(weights, ids), want, rtol=0, atol=1e-4)
