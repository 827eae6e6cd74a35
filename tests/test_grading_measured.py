"""A property a check measures gets the same verdict in the grader as in a notebook.

Some checks judge more than the answers: how much memory tiled attention holds at its
peak (task 5.5), whether the same seed gives the same draws (tasks 4.4, 6.3, 6.4). In
pytest and in a learner's notebook the function runs in the check's own process; when
graded it runs in the sandbox's worker and the check runs in the grader. These tests
grade, through the real ``nbgrader autograde``, one small class of a single assignment
made of exactly those checks: an honest learner, who must get every point, and one who
breaks each measured property while every answer stays right, who must get none.
"""

from __future__ import annotations

import shutil
import textwrap

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from dotlab.grading.release import COURSE_ROOT, nbgrader
import catalogue.ch04
import catalogue.ch05
import catalogue.ch06
from grading import Course, Submission

ASSIGNMENT = "measured"

IMPORTS = "import math\n\nimport numpy as np\n\nfrom dotlab.checks import ch04, ch05, ch06\n"

CHAPTER = {"dot_product_variance": "ch04", "tiled_attention": "ch05", "top_k_sample": "ch06", "top_p_sample": "ch06"}
CATALOGUES = {"ch04": catalogue.ch04, "ch05": catalogue.ch05, "ch06": catalogue.ch06}

# The learners come from the catalogues (where pytest already holds them to their
# verdicts): an honest version of each function, standing alone as the exercises ask,
# and a version right every time that breaks the one property its check measures,
# most of them through state kept between calls, which only shows when the grader's
# check calls the sandbox's worker more than once.
HONEST_HOW = {"dot_product_variance": "einsum for the dot products",
              "tiled_attention": "blocks of keys, every query at once",
              "top_k_sample": "argsort and a zeroed tail", "top_p_sample": "cumsum and searchsorted"}
VIOLATION = {"dot_product_variance": "the same seed must give the same draws",
             "tiled_attention": "score table is 8 MiB",
             "top_k_sample": "the same seed must give the same token",
             "top_p_sample": "the same seed must give the same token"}


HONEST = {name: next(e for e in CATALOGUES[CHAPTER[name]].RIGHT.for_target(name) if e.how == how).source
          for name, how in HONEST_HOW.items()}
VIOLATING = {name: (next(e for e in CATALOGUES[CHAPTER[name]].WRONG.for_target(name) if e.expect == expect).source,
                    expect)
             for name, expect in VIOLATION.items()}


def _meta(grade_id: str, *, solution=False, grade=False, points=0) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _instructor_notebook() -> nbformat.NotebookNode:
    """The assignment as an instructor would write it: imports, then each function and its test."""
    cells = [new_code_cell(IMPORTS, metadata=_meta("imports"))]
    for name, source in HONEST.items():
        body = textwrap.dedent(source).strip()
        head, rest = body.split("\n", 1)
        cells.append(new_code_cell(f"{head}\n    ### BEGIN SOLUTION\n{rest}\n    ### END SOLUTION",
                                   metadata=_meta(name, solution=True)))
        cells.append(new_code_cell(f"{CHAPTER[name]}.check_{name}({name}, hidden=True)",
                                   metadata=_meta(f"test_{name}", grade=True, points=1)))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Course:
    root = tmp_path_factory.mktemp(ASSIGNMENT)
    folder = root / "solutions" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(_instructor_notebook(), folder / f"{ASSIGNMENT}.ipynb")
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    nbgrader("generate_assignment", ASSIGNMENT, cwd=root)
    course = Course.__new__(Course)  # Course's own constructor copies one of the course's assignments
    course.root, course.assignment = root, ASSIGNMENT
    course.submit(Submission("honest", {name: textwrap.dedent(src).strip() for name, src in HONEST.items()}))
    course.submit(Submission("violating", {name: textwrap.dedent(src).strip()
                                           for name, (src, _) in VIOLATING.items()}))
    course.autograde("--Execute.timeout=60")
    return course


pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("nbgrader-measured")]


def test_the_honest_learner_gets_every_point(graded):
    assert graded.cell_scores("honest") == {f"test_{name}": 1.0 for name in HONEST}


def test_each_measured_property_costs_its_point_when_graded(graded):
    assert graded.cell_scores("violating") == {f"test_{name}": 0.0 for name in VIOLATING}


def test_the_grader_says_what_was_measured(graded):
    autograded = nbformat.read(graded.root / "autograded" / "violating" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                               as_version=4)
    said = {cell.metadata["nbgrader"]["grade_id"]: " ".join(str(out.get("evalue", "")) for out in cell.outputs)
            for cell in autograded.cells if cell.metadata.get("nbgrader", {}).get("grade")}
    for name, (_, expected) in VIOLATING.items():
        assert expected in said[f"test_{name}"], (name, said[f"test_{name}"])
