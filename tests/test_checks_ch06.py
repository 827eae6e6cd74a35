"""Chapter 6's checks: right answers pass, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here. The references are
dotlab.vocab, dotlab.softmax and dotlab.kvcache; the instructor's solutions must pass too.
"""

import numpy as np
import pytest

from catalogue.ch06 import RIGHT, WRONG
from check_contract import contract_tests
from dotlab.checks import CheckFailure, ch06
from dotlab.softmax import softmax
from dotlab.vocab import sample_token, vocab_logits



globals().update(contract_tests(ch06, WRONG, RIGHT, min_wrong=7, min_hidden=8))

REFERENCES = {r.target: r.fn for r in reversed(RIGHT.entries)}  # the first right answer of each


def test_the_independent_samplers_agree_with_dotlab_vocab():
    rng = np.random.default_rng(0)
    for seed in range(40):
        logits = rng.normal(scale=2, size=12)
        k, p = int(rng.integers(1, 13)), float(rng.uniform(0.05, 1.0))
        assert REFERENCES['top_k_sample'](logits, k, seed) == sample_token(logits, np.random.default_rng(seed), top_k=k)
        assert REFERENCES['top_p_sample'](logits, p, seed) == sample_token(logits, np.random.default_rng(seed), top_p=p)


MISTAKES = {
    "vocab_logits": (ch06._LOGIT_MISTAKES, ch06._logit_cases),
    "softmax_temperature": (ch06._TEMPERATURE_MISTAKES, ch06._temperature_cases),
    "top_k_sample": (ch06._TOP_K_MISTAKES, ch06._top_k_cases),
    "top_p_sample": (ch06._TOP_P_MISTAKES, ch06._top_p_cases),
    "decode_step": (ch06._DECODE_MISTAKES, ch06._decode_cases),
}


def test_every_mistake_the_checks_know_has_a_catalogue_entry():
    """Each Mistake's hint is the expected message of some wrong version, so no
    diagnosis goes untested."""
    expects = [w.expect for w in WRONG.entries]
    for name, (mistakes, _) in MISTAKES.items():
        for mistake in mistakes:
            if (name, mistake.name) in {("vocab_logits", "sum"), ("top_k_sample", "every tie kept")}:
                continue  # diagnoses without a catalogue entry (each would add a learner to the
                # round trip): each has its own test below
            assert any(e in mistake.hint for e in expects), (name, mistake.name)


def test_summing_the_logits_is_named():
    def vocab_logits(h, W_U):
        return float(np.sum(np.asarray(W_U, float) @ np.asarray(h, float)))

    with pytest.raises(CheckFailure, match="added the logits up into one number"):
        ch06.check_vocab_logits(vocab_logits)


@pytest.mark.parametrize("name", MISTAKES)
def test_the_mistakes_are_told_apart_on_the_visible_cases(name):
    """No two mistakes predict the same answers on every case (nor the right ones): if
    they did, the diagnosis could name the wrong one. The visible cases tell most apart;
    a mistake of an edge class (every tie kept, the temperature after exp) only the hidden
    cases can, since it agrees with the reference everywhere else."""
    mistakes, _ = MISTAKES[name]
    task = next(t for t in ch06.TASKS.values() if t.name == name)
    cases = [c for c in task.all_cases(hidden=True) if c.raises is None]

    def answers(fn):
        out = []
        for c in cases:
            try:
                with np.errstate(all="ignore"):
                    out.append(np.array(fn(*c.args, **c.kwargs), dtype=float).round(9).tobytes())
            except Exception as exc:  # a mistake may not run everywhere: that too is an answer
                out.append(type(exc).__name__)
        return tuple(out)

    seen = {answers(REFERENCES[name]): "the reference"}
    for mistake in mistakes:
        key = answers(mistake.predict)
        assert key not in seen, f"{mistake.name!r} and {seen.get(key)!r} look alike"
        seen[key] = mistake.name


def test_a_non_function_is_refused():
    for check in CHECKS.values():
        with pytest.raises(CheckFailure, match="should be a function"):
            check(42)


def test_the_same_seed_is_asked_for_twice():
    """The visible sampling cases reuse seeds across k and p, so a sampler that ignores
    its seed (a fresh default_rng() each call) cannot pass them by luck."""
    def top_k_sample(logits, k, seed):
        logits = np.asarray(logits, float)
        if not 1 <= k <= len(logits):
            raise ValueError(f"k={k} must be between 1 and {len(logits)}")
        keep = np.argsort(-logits)[:k]
        probs = np.zeros(len(logits))
        probs[keep] = softmax(logits[keep])
        return int(np.random.default_rng().choice(len(logits), p=probs))  # unseeded

    failures = 0
    for _ in range(5):
        try:
            ch06.check_top_k_sample(top_k_sample, hidden=True)
        except CheckFailure:
            failures += 1
    assert failures == 5


def _entries_of_chapters_5_to_8():
    import importlib

    for chapter in ("ch05", "ch06", "ch07", "ch08"):
        module = importlib.import_module(f"catalogue.{chapter}")
        for entry in module.WRONG.entries + module.RIGHT.entries:
            yield pytest.param(entry, id=f"{chapter}: {entry.label}")


@pytest.mark.parametrize("entry", list(_entries_of_chapters_5_to_8()))
def test_every_entry_is_a_cell_that_defines_its_function(entry):
    """The round trip pastes each entry's source into a notebook cell: it must compile and
    define the function (a decorator over two lines once left half of it in the cell).
    Chapters 5 to 8 here, in one place; each chapter's imports cell provides the rest."""
    from dotlab.forward import causal_self_attention, gelu, layer_norm

    namespace = {"np": np, "math": __import__("math"), "causal_self_attention": causal_self_attention,
                 "gelu": gelu, "layer_norm": layer_norm}
    exec(compile(entry.source, "<cell>", "exec"), namespace)
    assert callable(namespace.get(entry.target)), entry.source[:200]


@pytest.mark.parametrize("chapter", ["ch05", "ch06", "ch07", "ch08"])
def test_the_grader_learns_every_forbidden_routine_of_chapters_5_to_8(chapter):
    """The grader installs tripwires for what a probe of each check reports: a check that
    calls the learner before its cases (the samplers' seed check) must still report all."""
    import importlib

    from dotlab.grading.sandbox import forbidden_targets

    module = importlib.import_module(f"dotlab.checks.{chapter}")
    for task_id, check in module.CHECKS.items():
        declared = {f.target for f in module.TASKS[task_id].forbidden}
        for hidden in (False, True):
            assert declared <= set(forbidden_targets(check, (), {"hidden": hidden})), (task_id, hidden)


@pytest.mark.parametrize("seed", [14, 77])
def test_right_answers_of_chapters_5_to_8_pass_with_other_instructor_seeds(seed, capsys):
    """The hidden edge cases are drawn from the instructor's seed; none of them may fail a
    right answer of chapters 5-8 (float32 and torch ones included) whatever the seed."""
    import importlib

    from dotlab.checks.contract import configure

    configure(seed=seed)
    try:
        for chapter in ("ch05", "ch06", "ch07", "ch08"):
            checks = importlib.import_module(f"dotlab.checks.{chapter}").CHECKS
            by_name = {check.__name__.removeprefix("check_"): check for check in checks.values()}
            for entry in importlib.import_module(f"catalogue.{chapter}").RIGHT.entries:
                by_name[entry.target](entry.fn, hidden=True)
    finally:
        configure(seed=None)


def test_keeping_every_logit_tied_at_the_cut_is_named_and_no_tie_break_is_refused():
    """Top-k with ties at the cut: a threshold (logits >= the k-th largest) keeps them all,
    which a hidden case catches; np.argsort(-x), np.argsort(x)[::-1] and torch.topk break
    the tie their own ways and all pass (no case's token depends on the tie-break)."""
    def threshold(logits, k, seed):
        z = np.asarray(logits, dtype=float)
        if not 1 <= k <= len(z):
            raise ValueError(f"k={k} must be between 1 and {len(z)}")
        keep = z >= np.sort(z)[::-1][k - 1]
        probs = np.where(keep, np.exp(z - z.max()), 0.0)
        return int(np.random.default_rng(seed).choice(len(z), p=probs / probs.sum()))

    def reversed_ties(logits, k, seed):
        z = np.asarray(logits, dtype=float)
        if not 1 <= k <= len(z):
            raise ValueError(f"k={k} must be between 1 and {len(z)}")
        ids = np.argsort(z)[::-1][:k]  # equal logits: the higher token id first
        probs = np.zeros(len(z))
        probs[ids] = np.exp(z[ids] - z[ids].max())
        return int(np.random.default_rng(seed).choice(len(z), p=probs / probs.sum()))

    with pytest.raises(CheckFailure, match="ties at the cut keep more than k tokens"):
        ch06.check_top_k_sample(threshold, hidden=True)
    from dotlab.checks.contract import configure

    for seed in (0, 3, 11):
        configure(seed=seed)
        try:
            ch06.check_top_k_sample(reversed_ties, hidden=True)
        finally:
            configure(seed=None)
