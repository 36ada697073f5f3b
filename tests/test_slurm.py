"""The workflow on a real (one-node) SLURM cluster through the SLURM profile (issue 16).

Starts the cluster with ../shared/tools/slurm-local.sh, runs one wave of the officer survey from
raw files to its briefs, manifest and crate through `--profile workflow/profiles/slurm` in one
copy of the project and locally in another, then checks: every output byte-identical (the
rendered briefs differ only in their "Executed on" row, so the manifest differs only in their
hashes), every job has its record with the host and the SLURM job id, `wps audit` passes, and
nothing of the cluster is left running. Run alone: `pytest -m slurm tests/test_slurm.py`
(`.ci/run` does); skipped unless SLURM and munge are installed and we are root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from workflow_run import (
    copy_project,
    pdf_text,
    run_python,
    run_snakemake,
    tree_hashes,
    zip_text,
)

from benchmarks.slurm_cluster import PROFILE, keep_one_wave, local_cluster, slurm_missing

pytestmark = pytest.mark.slurm

# Outputs that may differ between the runs, and how they are compared instead of by bytes.
NOT_OUTPUTS = ("logs/", "provenance/jobs/")
RENDERED = re.compile(r"^briefs/.*\.(html|pdf|docx)$")
PLACES = ("SLURM cluster", "local machine")


def why_skipped() -> str | None:
    """Why this test does not run here (opt-in, then what the cluster needs), or None."""
    if os.environ.get("WPS_SLURM_TESTS") != "1":
        return "starts a SLURM cluster (minutes): set WPS_SLURM_TESTS=1, as .ci/run does"
    return slurm_missing()


@pytest.fixture
def own_tmp() -> Iterator[Path]:
    """A folder of this test's own: pytest's numbered temporary folders are pruned while other
    sessions run (which would pull the cluster's state and the runs from under them), and
    /tmp/pytest-of-<user> is closed to others, where munged will not put its socket."""
    folder = Path(tempfile.mkdtemp(prefix="wps-slurm-test-"))
    folder.chmod(0o755)  # munged refuses a socket in a folder others cannot traverse
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def cluster(own_tmp: Path) -> Iterator[dict[str, str]]:
    """A running one-node cluster (stopped afterwards, whatever happened): the environment
    Snakemake needs to reach it."""
    reason = why_skipped()
    if reason:
        pytest.skip(reason)
    with local_cluster(own_tmp / "slurm-local") as running:
        yield running.env
    left = running.left_running
    assert not left, f"still running after slurm-local.sh stop (killed now): {left}"


def one_wave_project(dest: Path) -> Path:
    """A copy of the project with one wave of the brief dataset and no country briefs."""
    return keep_one_wave(copy_project(dest))


def outputs(root: Path) -> dict[str, str]:
    """{path under results/: sha256} of the outputs (logs and job records left out)."""
    hashes = tree_hashes(root / "results")
    return {p: h for p, h in hashes.items() if not p.startswith(NOT_OUTPUTS)}


def rendered_text(path: Path) -> str:
    """A rendered brief as text, with where it was executed made neutral."""
    if path.suffix == ".pdf":
        text = pdf_text(path)
    elif path.suffix == ".docx":
        text = zip_text(path)
    else:
        text = path.read_text(encoding="utf-8")
    for place in PLACES:
        text = text.replace(place, "<place>")
    return text


def manifest_without(path: Path, rendered: set[str]) -> dict:
    """The manifest's outputs, targets and jobs, without the rendered briefs' hashes."""
    manifest = json.loads(path.read_text(encoding="utf-8"))
    files = {
        k: v for k, v in manifest["outputs"].items() if k.removeprefix("results/") not in rendered
    }
    return {"outputs": files, "targets": manifest["targets"], "jobs": sorted(manifest["jobs"])}


def records(root: Path) -> dict[str, dict]:
    found = {}
    for path in sorted((root / "results" / "provenance" / "jobs").rglob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        found[record["job"]] = record
    return found


def test_one_wave_on_slurm_matches_the_local_run(cluster: dict[str, str], own_tmp: Path) -> None:
    tmp_path = own_tmp
    local = one_wave_project(tmp_path / "local")
    run_snakemake(local)
    remote = one_wave_project(tmp_path / "slurm")
    done = run_snakemake(remote, "--profile", PROFILE, env=cluster)
    log = done.stdout + done.stderr
    assert "slurm" in log.lower(), log[-3000:]

    here, there = outputs(local), outputs(remote)
    assert sorted(there) == sorted(here)
    assert any(p.endswith("regional.pdf") for p in here), sorted(here)
    rendered = {p for p in here if RENDERED.match(p)}
    different = {p for p in here if here[p] != there[p]}
    allowed = rendered | {"provenance/manifest.json", "provenance/ro-crate-metadata.json"}
    assert different <= allowed, sorted(different - allowed)
    for rel in sorted(rendered):
        a, b = local / "results" / rel, remote / "results" / rel
        assert rendered_text(a) == rendered_text(b), f"{rel} differs beyond where it ran"
    html = [p for p in rendered if p.endswith(".html")]
    assert html and all("SLURM cluster" in (remote / "results" / p).read_text() for p in html)
    manifest = Path("results/provenance/manifest.json")
    assert manifest_without(local / manifest, rendered) == manifest_without(
        remote / manifest, rendered
    )

    on_cluster, on_host = records(remote), records(local)
    assert sorted(on_cluster) == sorted(on_host)
    for job in json.loads((remote / manifest).read_text())["jobs"]:
        assert job in on_cluster, f"job {job} has no record"
    slurm_jobs = {j: r for j, r in on_cluster.items() if r.get("scheduler_job_id")}
    assert slurm_jobs, "no job record names a SLURM job id"
    assert all(r["host"] for r in on_cluster.values())
    assert not any(r.get("scheduler_job_id") for r in on_host.values())

    audit = run_python(remote, "-m", "analysis.cli", "audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr
