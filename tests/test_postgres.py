"""The gradebook in PostgreSQL, through nbgrader's own setting ``CourseDirectory.db_url``.

A real PostgreSQL server (Debian's ``postgresql`` package, which ``make test`` installs)
is started on a private port with its files in a temporary folder, and a class is
released, graded in parallel and exported with it, as the instructor's guide describes.
Without the server's programs the tests fail, saying how to install them: a gradebook
test that silently skipped would hide a broken setup. ``DOTLAB_NO_POSTGRES=1`` skips
them on purpose, on a machine that cannot install Debian packages.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from dotlab.grading.release import COURSE_ROOT, nbgrader, nbgrader_env
from grading import Submission
from hostile import CATALOGUE, path

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("nbgrader-postgres")]
OPTIONS = ("--Execute.timeout=6", "--SandboxGrades.timeout=4")


def _server_bin() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, or in Debian's versioned folder."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(versions[-1]).parent if versions else None


BIN = _server_bin()


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the 'postgres' user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _unused_port() -> int:
    """A port nothing listened on a moment ago; something else may take it before the server binds."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(folder: Path, ports=None, attempts: int = 5) -> int:
    """Start the server on the cluster in ``folder`` and return its port.

    PostgreSQL cannot be told to bind port 0 (the port also names its socket file), so
    the port is chosen before the server binds it, and another process can take it in
    between. The server's own bind is the test: when it fails because the address is in
    use, start again on the next port; any other failure is reported with the server's
    log. ``ports`` (for the test of this retry) defaults to ports unused a moment ago.
    """
    ports = iter(ports) if ports is not None else (_unused_port() for _ in range(attempts))
    log = folder / "log"
    for port in ports:
        log.write_text("")
        if os.geteuid() == 0:
            shutil.chown(log, "postgres")
        started = subprocess.run(
            _as_server_user([str(BIN / "pg_ctl"), "-D", str(folder / "data"), "-l", str(log), "-w", "-t", "120", "start",
                             "-o", f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder}"
                                   " -c fsync=off"]),
            capture_output=True, text=True, timeout=300)
        if started.returncode == 0:
            return port
        if "Address already in use" not in log.read_text():
            raise RuntimeError(f"pg_ctl start failed ({started.returncode}): {started.stderr}\n{log.read_text()}")
    raise RuntimeError("PostgreSQL found every port it was given taken by the time it bound it")


def _server_programs() -> None:
    """Fail, saying how to install them, when the server's programs are missing (skip only on request)."""
    if BIN is None:
        missing = "PostgreSQL's server programs (initdb, pg_ctl) are not installed: `make test` installs Debian's postgresql"
        if os.environ.get("DOTLAB_NO_POSTGRES") == "1":
            pytest.skip(missing + " (skipped on purpose: DOTLAB_NO_POSTGRES=1)")
        pytest.fail(missing + "; or set DOTLAB_NO_POSTGRES=1 to skip these tests on purpose")


def _cluster(password: str) -> Path:
    """A new database cluster in a temporary folder, owned by the server's user, not started."""
    folder = Path(tempfile.mkdtemp(prefix="dotlab-pg-"))
    (folder / "pw").write_text(password)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(folder / "pw", "postgres")
    subprocess.run(_as_server_user([str(BIN / "initdb"), "-D", str(folder / "data"), "-U", "grader",
                                    "--auth=scram-sha-256", f"--pwfile={folder / 'pw'}", "--no-sync"]),
                   check=True, capture_output=True, text=True, timeout=300)
    return folder


def _remove(folder: Path) -> None:
    """Stop the cluster's server (if it runs) and delete its files."""
    subprocess.run(_as_server_user([str(BIN / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop"]),
                   capture_output=True, timeout=120)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_url():
    _server_programs()
    password = secrets.token_hex(16)
    folder = _cluster(password)
    try:
        # TCP on loopback only, with a password: the grader's learner code may open no TCP connection at all
        port = _start(folder)
        import psycopg2

        admin = psycopg2.connect(host="127.0.0.1", port=port, user="grader", password=password, dbname="postgres")
        admin.autocommit = True
        admin.cursor().execute("CREATE DATABASE gradebook")
        admin.close()
        # SQLAlchemy 2.1 reads plain postgresql:// as psycopg 3; the course pins psycopg2
        yield f"postgresql+psycopg2://grader:{password}@127.0.0.1:{port}/gradebook"
    finally:
        _remove(folder)


def test_a_port_taken_before_the_server_binds_it_is_retried():
    """The race the retry is for: the chosen port is taken by someone else first."""
    _server_programs()
    folder = _cluster(secrets.token_hex(16))
    try:
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", 0))
            squatter.listen()
            taken = squatter.getsockname()[1]
            with pytest.raises(RuntimeError, match="every port it was given taken"):
                _start(folder, ports=[taken])
            port = _start(folder, ports=[taken, _unused_port()])
            assert port != taken
            with socket.create_connection(("127.0.0.1", port), timeout=10):
                pass  # the server listens where _start says
    finally:
        _remove(folder)


@pytest.fixture(scope="module")
def course(postgres_url, tmp_path_factory):
    root = tmp_path_factory.mktemp("pgcourse")
    shutil.copytree(COURSE_ROOT / "solutions" / "ch01", root / "solutions" / "ch01")
    config = (COURSE_ROOT / "nbgrader_config.py").read_text()
    (root / "nbgrader_config.py").write_text(config + f"\nc.CourseDirectory.db_url = {postgres_url!r}\n")
    nbgrader("db", "student", "add", "ada", "--first-name=Ada", "--last-name=Lovelace", cwd=root)
    nbgrader("generate_assignment", "ch01", cwd=root)
    import nbformat

    release = nbformat.read(root / "exercises" / "ch01" / "ch01.ipynb", as_version=4)
    source = nbformat.read(root / "solutions" / "ch01" / "ch01.ipynb", as_version=4)
    right = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for sub in (Submission("ada", right), Submission("untouched")):
        folder = root / "submitted" / sub.student / "ch01"
        folder.mkdir(parents=True)
        nbformat.write(sub.build(release), folder / "ch01.ipynb")
    hostile = [e for e in CATALOGUE if e.name in ("snoop_files", "tamper", "exits")]
    for entry in hostile:
        folder = root / "submitted" / entry.name / "ch01"
        folder.mkdir(parents=True)
        shutil.copy(path(entry), folder / "ch01.ipynb")
    started = time.perf_counter()
    graded = subprocess.run([sys.executable, "-m", "dotlab.grading.grade_class", "ch01", "--jobs", "2", "--quiet", *OPTIONS],
                            cwd=root, env=nbgrader_env(), capture_output=True, text=True, timeout=1800)
    assert graded.returncode == 0, graded.stdout + graded.stderr[-3000:]
    return root, postgres_url, hostile, time.perf_counter() - started


def test_the_class_is_graded_into_postgresql(course):
    from nbgrader.api import Gradebook

    root, url, hostile, _ = course
    assert not (root / "gradebook.db").exists()  # nothing went to SQLite
    with Gradebook(url) as gb:
        def scores(student):
            return {g.name: g.score for g in gb.find_submission_notebook("ch01", "ch01", student).grades}

        points = {g.name: g.max_score for g in gb.find_submission_notebook("ch01", "ch01", "ada").grades}
        assert scores("ada") == points and sum(points.values()) == 10
        assert set(scores("untouched").values()) == {0.0}
        for entry in hostile:
            assert scores(entry.name) == {cell: entry.expected.get(cell, p) for cell, p in points.items()}, entry.name
        assert gb.find_student("ada").last_name == "Lovelace"


def test_nbgrader_export_reads_postgresql(course):
    import csv

    root, _, hostile, _ = course
    nbgrader("export", cwd=root)
    with open(root / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert rows["ada"] == 10.0 and set(rows) == {"ada", "untouched", *(e.name for e in hostile)}


def test_learner_code_never_learns_the_database_password(course):
    root, url, _, _ = course
    password = url.split(":")[2].split("@")[0]
    assert len(password) == 32
    for notebook in (root / "autograded").glob("*/ch01/ch01.ipynb"):
        assert password not in notebook.read_text(), notebook
