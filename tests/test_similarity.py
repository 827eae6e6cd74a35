"""Answers that look alike are flagged; honest answers are not; scores never change.

A made-up class for chapter 1: four learners who solved it each in their own way, one
who copied a classmate, one who copied and renamed every variable, one who copied,
added comments and rewrote one answer, one who pasted the course's reference from the
package, and one who handed in the untouched release.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys

import nbformat
import pytest

from dotlab.grading import similarity
from dotlab.grading.release import COURSE_ROOT

HONEST = {
    "ada": {
        "dot_loop": '''def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"lengths differ: {len(a)} and {len(b)}")
    total = 0
    for i in range(len(a)):
        total = total + a[i] * b[i]
    return total''',
        "dot": '''def dot(a, b):
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"need two 1-D vectors of one length, got {x.shape} and {y.shape}")
    return float(np.sum(x * y))''',
        "norm": '''def norm(a):
    a = np.asarray(a, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"a must be 1-D, not of shape {a.shape}")
    return float(np.sqrt(np.sum(a ** 2)))''',
        "angle_between": '''def angle_between(a, b, degrees=False):
    la, lb = norm(a), norm(b)
    if len(a) != len(b):
        raise ValueError(f"{len(a)} vs {len(b)}")
    if la == 0 or lb == 0:
        raise ValueError("zero vector")
    c = max(-1.0, min(1.0, dot(a, b) / (la * lb)))
    angle = math.acos(c)
    if degrees:
        angle = angle * 180 / math.pi
    return angle''',
        "project": '''def project(a, onto):
    a = np.asarray(a, dtype=float)
    onto = np.asarray(onto, dtype=float)
    if a.shape != onto.shape:
        raise ValueError(f"{a.shape} and {onto.shape} differ")
    denom = dot(onto, onto)
    if denom == 0:
        raise ValueError("cannot project onto zero")
    return dot(a, onto) / denom * onto''',
    },
    "grace": {
        "dot_loop": '''def dot_loop(a, b):
    """Sum of pairwise products."""
    n = len(a)
    if n != len(b):
        raise ValueError("a has %d entries, b has %d" % (n, len(b)))
    acc = 0.0
    k = 0
    while k < n:
        acc += a[k] * b[k]
        k += 1
    return acc''',
        "dot": '''def dot(a, b):
    a = np.array(a, float); b = np.array(b, float)
    if a.shape != b.shape or len(a.shape) != 1:
        raise ValueError("shapes " + str(a.shape) + " and " + str(b.shape))
    return float(a @ b)''',
        "norm": '''def norm(a):
    v = np.array(a, float)
    if len(v.shape) != 1:
        raise ValueError("expected a vector, shape is " + str(v.shape))
    return math.sqrt(v @ v)''',
        "angle_between": '''def angle_between(a, b, degrees=False):
    a = np.array(a, float); b = np.array(b, float)
    if a.shape != b.shape:
        raise ValueError("shapes " + str(a.shape) + " and " + str(b.shape))
    na = math.sqrt(a @ a); nb = math.sqrt(b @ b)
    if not na or not nb:
        raise ValueError("a zero vector has no angle")
    theta = np.arccos(np.clip((a @ b) / na / nb, -1, 1))
    return float(np.degrees(theta)) if degrees else float(theta)''',
        "project": '''def project(a, onto):
    a = np.array(a, float); u = np.array(onto, float)
    if a.shape != u.shape:
        raise ValueError("shapes " + str(a.shape) + " and " + str(u.shape))
    if not u.any():
        raise ValueError("onto is the zero vector")
    return u * ((a @ u) / (u @ u))''',
    },
    "alan": {
        "dot_loop": '''def dot_loop(a, b):
    if len(a) != len(b):
        raise ValueError(f"len(a)={len(a)}, len(b)={len(b)}")
    return sum(x * y for x, y in zip(a, b))''',
        "dot": '''def dot(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"not vectors: {a.shape}, {b.shape}")
    if len(a) != len(b):
        raise ValueError(f"{len(a)} != {len(b)}")
    return float(np.einsum("i,i->", a, b))''',
        "norm": '''def norm(a):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"shape {a.shape} is not a vector")
    return float(np.hypot.reduce(a)) if a.size else 0.0''',
        "angle_between": '''def angle_between(a, b, degrees=False):
    if len(a) != len(b):
        raise ValueError(f"{len(a)} != {len(b)}")
    if norm(a) == 0.0 or norm(b) == 0.0:
        raise ValueError("undefined for a zero vector")
    cosine = np.clip(dot(a, b) / (norm(a) * norm(b)), -1.0, 1.0)
    return math.degrees(math.acos(cosine)) if degrees else math.acos(cosine)''',
        "project": '''def project(a, onto):
    if len(a) != len(onto):
        raise ValueError(f"{len(a)} != {len(onto)}")
    scale = dot(onto, onto)
    if scale == 0.0:
        raise ValueError("onto has length 0")
    return np.asarray(onto, dtype=float) * (dot(a, onto) / scale)''',
    },
    "edsger": {
        "dot_loop": '''def dot_loop(a, b):
    pairs = list(zip(a, b))
    if len(pairs) != len(a) or len(pairs) != len(b):
        raise ValueError(f"cannot pair {len(a)} numbers with {len(b)}")
    result = 0
    for left, right in pairs:
        result += left * right
    return result''',
        "dot": '''def dot(a, b):
    va = np.atleast_1d(np.asarray(a, dtype=float))
    vb = np.atleast_1d(np.asarray(b, dtype=float))
    if va.ndim > 1 or vb.ndim > 1 or va.size != vb.size:
        raise ValueError(f"a: {va.shape}, b: {vb.shape}")
    return float(np.inner(va, vb))''',
        "norm": '''def norm(a):
    arr = np.asarray(a, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"got {arr.ndim}-D input of shape {arr.shape}")
    squares = [x * x for x in arr]
    return math.sqrt(sum(squares))''',
        "angle_between": '''def angle_between(a, b, degrees=False):
    first, second = np.asarray(a, float), np.asarray(b, float)
    if first.shape != second.shape:
        raise ValueError(f"{first.shape} vs {second.shape}")
    lengths = np.linalg.norm(first) * np.linalg.norm(second)
    if lengths == 0:
        raise ValueError("one of the vectors is zero")
    ratio = float(first @ second) / lengths
    ratio = 1.0 if ratio > 1 else (-1.0 if ratio < -1 else ratio)
    result = math.acos(ratio)
    return result * 57.29577951308232 if degrees else result''',
        "project": '''def project(a, onto):
    x, d = np.asarray(a, float), np.asarray(onto, float)
    if x.shape != d.shape:
        raise ValueError(f"{x.shape} vs {d.shape}")
    dd = float(np.sum(d * d))
    if dd == 0.0:
        raise ValueError("the direction is the zero vector")
    return (float(np.sum(x * d)) / dd) * d''',
    },
}


def _renamed(answers: dict[str, str]) -> dict[str, str]:
    """Every local name changed, as someone hiding a copy would."""
    swaps = {"total": "running_sum", "i": "idx", "x": "first_vec", "y": "second_vec", "la": "length_a",
             "lb": "length_b", "c": "cos_value", "angle": "result_angle", "denom": "onto_sq"}
    out = {}
    for cell, source in answers.items():
        for old, new in swaps.items():
            source = re.sub(rf"\b{old}\b", new, source)
        out[cell] = source
    return out


def _reference_copy() -> dict[str, str]:
    """The package's own functions, pasted in as answers."""
    return similarity.reference_sources(["dot_loop", "dot", "norm", "angle_between", "project"])


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("similarity")
    release = nbformat.read(COURSE_ROOT / "exercises" / "ch01" / "ch01.ipynb", as_version=4)
    (root / "exercises" / "ch01").mkdir(parents=True)
    nbformat.write(release, root / "exercises" / "ch01" / "ch01.ipynb")
    learners = dict(HONEST)
    learners["copycat"] = dict(HONEST["ada"])
    learners["renamer"] = _renamed(HONEST["grace"])
    # a copy with comments added and one of five answers written afresh
    learners["tweaker"] = {cell: "# my own work\n" + source.replace("    return", "    # done\n    return")
                           for cell, source in HONEST["edsger"].items()}
    learners["tweaker"]["dot_loop"] = HONEST["alan"]["dot_loop"]
    learners["paster"] = _reference_copy()
    learners["idle"] = {}
    for learner, answers in learners.items():
        nb = nbformat.read(COURSE_ROOT / "exercises" / "ch01" / "ch01.ipynb", as_version=4)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        folder = root / "submitted" / learner / "ch01"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "ch01.ipynb")
    return root


@pytest.fixture(scope="module")
def report(course):
    return similarity.write_report(course, "ch01")


def _flagged(matches):
    return {frozenset((m.a, m.b)) for m in matches if m.flagged}


def test_copies_are_flagged(report):
    flagged = _flagged(report[2])
    assert frozenset(("ada", "copycat")) in flagged
    assert frozenset(("grace", "renamer")) in flagged  # renaming every variable hides nothing
    assert frozenset(("edsger", "tweaker")) in flagged  # comments and one rewritten answer neither
    assert frozenset(("paster", similarity.REFERENCE)) in flagged


def test_honest_learners_are_not_flagged(report):
    flagged = _flagged(report[2])
    honest = set(HONEST)
    for pair in flagged:
        assert not pair <= honest, f"two honest learners flagged: {sorted(pair)}"
    for learner in honest:
        assert frozenset((learner, similarity.REFERENCE)) not in flagged, learner
    # nothing the release gave everybody counts: the untouched notebook matches nobody
    assert not any("idle" in pair for pair in flagged)
    assert len(flagged) == 4


def test_the_page_shows_the_shared_lines_side_by_side(report):
    csv_path, html_path, matches = report
    page = html_path.read_text()
    assert "ada and copycat" in page or "copycat and ada" in page
    assert page.count("<section class='pair'>") == 4
    assert 'class="shared"' in page
    assert "<script" not in page
    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    n = len(HONEST) + 5
    assert len(rows) == n * (n - 1) // 2 + n  # every pair, and everyone against the reference
    assert sum(r["flagged"] == "yes" for r in rows) == 4


def test_learner_code_is_escaped_in_the_page(tmp_path):
    a = similarity.Document("a", "def f(x):\n    return '<script>alert(1)</script>' + x * 2 + x * 3 + x * 4 + x\n" * 3)
    b = similarity.Document("b", a.text)
    matches = similarity.compare([a, b])
    page = similarity.html_fragment(matches, {"a": a, "b": b})
    assert matches[0].flagged
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_bad_input_is_named(tmp_path):
    with pytest.raises(ValueError, match="no submissions of 'ch01'"):
        similarity.write_report(tmp_path, "ch01")
    doc = similarity.Document("ada", "x = 1")
    with pytest.raises(ValueError, match="ada appear more than once"):
        similarity.compare([doc, doc])
    with pytest.raises(ValueError, match="threshold=1.5"):
        similarity.compare([doc], threshold=1.5)


def test_command_line(course):
    done = subprocess.run([sys.executable, "-m", "dotlab.grading.similarity", "ch01", "--course", str(course),
                           "--out", str(course / "cli")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "4 of" in done.stdout and (course / "cli" / "similarity.csv").exists()
    missing = subprocess.run([sys.executable, "-m", "dotlab.grading.similarity", "ch09", "--course", str(course)],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "no submissions of 'ch09'" in missing.stderr
