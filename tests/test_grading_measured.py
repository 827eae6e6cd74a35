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
from grading import Course, Submission

ASSIGNMENT = "measured"

IMPORTS = "import math\n\nimport numpy as np\n\nfrom dotlab.checks import ch04, ch05, ch06\n"

# The honest versions: each function stands alone, as the exercises ask.
HONEST = {
    "dot_product_variance": '''
        def dot_product_variance(d, n_samples, unit=False, seed=0):
            rng = np.random.default_rng(seed)
            q = rng.standard_normal((n_samples, d))
            k = rng.standard_normal((n_samples, d))
            if unit:
                q /= np.linalg.norm(q, axis=1, keepdims=True)
                k /= np.linalg.norm(k, axis=1, keepdims=True)
            return float(np.var(np.sum(q * k, axis=1)))
    ''',
    "tiled_attention": '''
        def tiled_attention(q, k, v, block_size=64):
            q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
            q = q / math.sqrt(q.shape[-1])
            m = np.full((len(q), 1), -np.inf)
            l = np.zeros((len(q), 1))
            acc = np.zeros((len(q), v.shape[1]))
            for j in range(0, len(k), block_size):
                s = q @ k[j:j + block_size].T
                m_new = np.maximum(m, s.max(axis=1, keepdims=True))
                p, r = np.exp(s - m_new), np.exp(m - m_new)
                l = l * r + p.sum(axis=1, keepdims=True)
                acc = acc * r + p @ v[j:j + block_size]
                m = m_new
            return acc / l
    ''',
    "top_k_sample": '''
        def top_k_sample(logits, k, seed):
            logits = np.asarray(logits, dtype=float)
            if not 1 <= k <= len(logits):
                raise ValueError(f"k={k} must be between 1 and {len(logits)}")
            keep = np.argsort(-logits, kind="stable")[:k]
            probs = np.zeros(len(logits))
            e = np.exp(logits[keep] - logits[keep].max())
            probs[keep] = e / e.sum()
            return int(np.random.default_rng(seed).choice(len(logits), p=probs))
    ''',
    "top_p_sample": '''
        def top_p_sample(logits, p, seed):
            logits = np.asarray(logits, dtype=float)
            if not 0 < p <= 1:
                raise ValueError(f"p={p} must be in (0, 1]")
            e = np.exp(logits - logits.max())
            probs = e / e.sum()
            order = np.argsort(-probs, kind="stable")
            n = min(int(np.searchsorted(np.cumsum(probs[order]), p)) + 1, len(probs))
            kept = np.zeros(len(probs))
            kept[order[:n]] = probs[order[:n]] / probs[order[:n]].sum()
            return int(np.random.default_rng(seed).choice(len(probs), p=kept))
    ''',
}

# Right answers every time, but each breaks the one property its check measures.
VIOLATING = {
    "dot_product_variance": ('''
        def dot_product_variance(d, n_samples, unit=False, seed=0, rng=np.random.default_rng(0)):
            # the generator is made once, when def runs, and reused whatever the seed
            q = rng.standard_normal((n_samples, d))
            k = rng.standard_normal((n_samples, d))
            if unit:
                q /= np.linalg.norm(q, axis=1, keepdims=True)
                k /= np.linalg.norm(k, axis=1, keepdims=True)
            return float(np.var(np.sum(q * k, axis=1)))
    ''', "the same seed must give the same draws"),
    "tiled_attention": ('''
        def tiled_attention(q, k, v, block_size=64):
            q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
            s = q @ k.T / math.sqrt(q.shape[-1])  # the whole T x T table at once
            w = np.exp(s - s.max(axis=1, keepdims=True))
            return w / w.sum(axis=1, keepdims=True) @ v
    ''', "score table is 8 MiB"),
    "top_k_sample": ('''
        def top_k_sample(logits, k, seed, rng=np.random.default_rng(0)):
            logits = np.asarray(logits, dtype=float)
            if not 1 <= k <= len(logits):
                raise ValueError(f"k={k} must be between 1 and {len(logits)}")
            keep = np.argsort(-logits, kind="stable")[:k]
            probs = np.zeros(len(logits))
            e = np.exp(logits[keep] - logits[keep].max())
            probs[keep] = e / e.sum()
            return int(rng.choice(len(logits), p=probs))
    ''', "the same seed must give the same token"),
    "top_p_sample": ('''
        def top_p_sample(logits, p, seed):
            global _generator
            if "_generator" not in globals():
                _generator = np.random.default_rng(seed)
            logits = np.asarray(logits, dtype=float)
            if not 0 < p <= 1:
                raise ValueError(f"p={p} must be in (0, 1]")
            e = np.exp(logits - logits.max())
            probs = e / e.sum()
            order = np.argsort(-probs, kind="stable")
            n = min(int(np.searchsorted(np.cumsum(probs[order]), p)) + 1, len(probs))
            kept = np.zeros(len(probs))
            kept[order[:n]] = probs[order[:n]] / probs[order[:n]].sum()
            return int(_generator.choice(len(probs), p=kept))
    ''', "the same seed must give the same token"),
}

CHAPTER = {"dot_product_variance": "ch04", "tiled_attention": "ch05", "top_k_sample": "ch06", "top_p_sample": "ch06"}


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
