"""dotlab.embeddings_cli: the command line asks for one action and runs the one asked for.

The actions themselves (re-embedding everything, about ten seconds) are tested in
tests/test_embedding_cache.py and tests/test_embeddings.py; here they are replaced by
stand-ins that record the call.
"""

import pytest

from dotlab import embeddings_cli


@pytest.fixture
def calls(monkeypatch, tmp_path):
    made = tmp_path / "cache.npz"
    made.write_bytes(b"x" * 2048)
    seen = []
    monkeypatch.setattr(embeddings_cli, "rebuild", lambda: seen.append("rebuild") or made)
    monkeypatch.setattr(embeddings_cli, "check", lambda: seen.append("check") or 1e-4)
    return seen


def test_rebuild_writes_the_cache_and_says_where(calls, capsys):
    assert embeddings_cli.main(["--rebuild"]) == 0
    assert calls == ["rebuild"]
    assert "cache.npz (2 KiB)" in capsys.readouterr().out


def test_check_reports_the_largest_difference(calls, capsys):
    assert embeddings_cli.main(["--check"]) == 0
    assert calls == ["check"]
    assert "largest difference 0.0001" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [[], ["--rebuild", "--check"]])
def test_exactly_one_action_is_required(calls, argv, capsys):
    with pytest.raises(SystemExit) as info:
        embeddings_cli.main(argv)
    assert info.value.code == 2 and calls == []
    assert "--rebuild" in capsys.readouterr().err
