"""Two `make run` at once: the second stops at once with a clear message, before any Snakemake.

The Makefile is run in a scratch folder with its heavy parts replaced on the command line
(`STAMP=` drops the install step, `SNAKEMAKE="echo ..."` stands for the workflow), so the test
exercises the run target's own lock in a second or two.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LOCK = Path(".snakemake") / "make-run.lock"

pytestmark = pytest.mark.skipif(
    shutil.which("make") is None or shutil.which("flock") is None,
    reason="needs make and flock (util-linux)",
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A scratch project: the Makefile, a no-op system-deps script, an up-to-date report."""
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "system-deps.sh").write_text("exit 0\n")
    provenance = tmp_path / "results" / "provenance"
    provenance.mkdir(parents=True)
    (provenance / "manifest.json").write_text("{}")
    (provenance / "report.html").write_text("report")  # written after the manifest: up to date
    return tmp_path


def make_run(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "run",
            "STAMP=",
            "SNAKEMAKE=echo WORKFLOW-RAN",
            "RESUME=true",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_second_run_stops_with_a_clear_message(folder):
    lock_file = folder / LOCK
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # the first run, still going
        second = make_run(folder)
    assert second.returncode != 0
    assert "another run is in progress in this folder" in second.stderr, second.stderr
    assert "make unlock" in second.stderr
    assert "Traceback" not in second.stderr
    assert "WORKFLOW-RAN" not in second.stdout  # stopped before the workflow started


def test_run_goes_ahead_when_no_other_run_holds_the_lock(folder):
    alone = make_run(folder)
    assert alone.returncode == 0, alone.stderr
    assert "WORKFLOW-RAN" in alone.stdout
