"""The committed exercises are exactly what nbgrader makes from the solutions now,
and they give nothing away."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from dotlab.grading.release import COURSE_ROOT, assignments, nbgrader

pytestmark = pytest.mark.xdist_group("nbgrader-release")
NAMES = assignments()


def _tree(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts)


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    root = tmp_path_factory.mktemp("release")
    shutil.copytree(COURSE_ROOT / "solutions", root / "solutions")
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", root)
    for name in NAMES:
        nbgrader("generate_assignment", name, "--no-db", "--force", cwd=root)
    return root / "exercises"


def test_there_is_an_assignment_per_chapter_so_far():
    assert "ch01" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_committed_release_is_current(fresh_release, name):
    committed, fresh = COURSE_ROOT / "exercises" / name, fresh_release / name
    assert _tree(committed) == _tree(fresh), f"exercises/{name} is stale: run `make exercises` and commit"
    for rel in _tree(fresh):
        if rel.endswith(".ipynb"):
            assert json.loads((committed / rel).read_text()) == json.loads((fresh / rel).read_text()), (
                f"exercises/{name}/{rel} differs from what nbgrader generates from solutions/: run `make exercises`"
            )
        else:
            assert (committed / rel).read_bytes() == (fresh / rel).read_bytes(), rel


def _cells(name):
    nb = nbformat.read(COURSE_ROOT / "exercises" / name / f"{name}.ipynb", as_version=4)
    return [(cell, cell.metadata.get("nbgrader", {})) for cell in nb.cells]


@pytest.mark.parametrize("name", NAMES)
def test_release_gives_nothing_away(name):
    for cell, meta in _cells(name):
        assert "BEGIN SOLUTION" not in cell.source and "HIDDEN TESTS" not in cell.source
        assert "hidden=True" not in cell.source
        if meta.get("solution") and cell.cell_type == "code":
            assert "raise NotImplementedError" in cell.source
        assert not cell.get("outputs"), "released notebooks carry no outputs"


@pytest.mark.parametrize("name", NAMES)
def test_every_graded_cell_has_points_and_a_visible_self_check(name):
    graded = [(cell, meta) for cell, meta in _cells(name) if meta.get("grade")]
    assert graded
    for cell, meta in graded:
        assert meta["points"] > 0, meta["grade_id"]
        assert f"{name}.check_" in cell.source, f"{meta['grade_id']} should run a visible self-check"


@pytest.mark.parametrize("name", NAMES)
def test_release_opens_unchanged_in_jupyterlab_and_run_all_goes_on(name):
    """JupyterLab writes the kernel's whole language_info on opening: the release already
    has it, so nothing is "modified"; every test cell lets Run All go past its failure."""
    from ipykernel.ipkernel import IPythonKernel

    nb = nbformat.read(COURSE_ROOT / "exercises" / name / f"{name}.ipynb", as_version=4)
    assert nb.metadata["language_info"] == IPythonKernel.language_info
    for cell, meta in _cells(name):
        tags = cell.metadata.get("tags", [])
        if meta.get("grade") and not meta.get("solution"):
            assert "raises-exception" in tags, meta["grade_id"]
        else:
            assert "raises-exception" not in tags, meta.get("grade_id")


@pytest.mark.slow
def test_a_failing_self_check_still_fails_validation(tmp_path):
    """The raises-exception tag lets Run All go on; Validate still names the failing cell."""
    release = COURSE_ROOT / "exercises" / "ch01" / "ch01.ipynb"
    shutil.copy(release, tmp_path / "ch01.ipynb")
    result = nbgrader("validate", str(tmp_path / "ch01.ipynb"), cwd=tmp_path, check=False)
    out = result.stdout + result.stderr
    assert "dot_loop is not implemented yet" in out and "project is not implemented yet" in out


def test_an_unknown_assignment_is_refused_with_the_known_ones(capsys):
    """A typo (or ``--hlep``) must not create a folder under exercises/."""
    from dotlab.grading import release as module

    with pytest.raises(SystemExit):
        module.main(["ch99"])
    message = capsys.readouterr().err
    assert "'ch99'" in message and "ch01" in message
    assert not (module.COURSE_ROOT / "exercises" / "ch99").exists()
