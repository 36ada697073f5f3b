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
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from workflow_run import (
    REPO,
    copy_project,
    pdf_text,
    run_python,
    run_snakemake,
    tree_hashes,
    zip_text,
)

pytestmark = pytest.mark.slurm

SLURM_LOCAL = REPO.parent / "shared" / "tools" / "slurm-local.sh"
SLURM_PROGRAMS = ("sbatch", "squeue", "sinfo", "slurmctld", "slurmd", "munged")
SBIN = "/usr/sbin:/sbin"
PROFILE = "workflow/profiles/slurm"
BRIEF_DATASET_WAVE = ("officer_survey", "2025")  # the wave kept; the others are removed
# Outputs that may differ between the runs, and how they are compared instead of by bytes.
NOT_OUTPUTS = ("logs/", "provenance/jobs/")
RENDERED = re.compile(r"^briefs/.*\.(html|pdf|docx)$")
PLACES = ("SLURM cluster", "local machine")


def slurm_missing() -> str | None:
    """Why the local cluster cannot run here, or None."""
    if os.environ.get("WPS_SLURM_TESTS") != "1":
        return "starts a SLURM cluster (minutes): set WPS_SLURM_TESTS=1, as .ci/run does"
    if not SLURM_LOCAL.is_file():
        return f"{SLURM_LOCAL} is absent (the shared test tools)"
    path = f"{os.environ.get('PATH', '')}:{SBIN}"
    missing = [p for p in SLURM_PROGRAMS if shutil.which(p, path=path) is None]
    if missing:
        names = ", ".join(missing)
        return f"SLURM is not installed ({names} missing): apt-get install slurm-wlm munge"
    if os.geteuid() != 0:
        return "the local SLURM cluster runs its daemons as root"
    if subprocess.run(["pgrep", "-x", "slurmctld"], capture_output=True).returncode == 0:
        return "a slurmctld is already running on this machine (its ports are taken)"
    if importlib_missing("snakemake_executor_plugin_slurm"):
        return "the SLURM executor plugin is not installed: make venv-slurm"
    return None


def importlib_missing(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is None


def slurm_local(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SLURM_LOCAL), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


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
    reason = slurm_missing()
    if reason:
        pytest.skip(reason)
    state = own_tmp / "slurm-local"
    env = {
        **os.environ,
        "SLURM_LOCAL_DIR": str(state),
        "PATH": f"{os.environ.get('PATH', '')}:{SBIN}",
    }
    env["SLURM_CONF"] = str(state / "etc" / "slurm.conf")
    started = slurm_local("start", env)
    daemons = started_pids(state / "run")
    try:
        assert started.returncode == 0, (
            f"cluster did not start:\n{started.stdout}{started.stderr}{log_tails(state / 'log')}"
        )
        yield {"SLURM_CONF": env["SLURM_CONF"], "PATH": env["PATH"]}
    finally:
        slurm_local("stop", env)
        left = stop_leftovers(daemons)
        assert not left, f"still running after slurm-local.sh stop (killed now): {left}"


DAEMONS = ("munged", "slurmctld", "slurmd")


def log_tails(log_dir: Path, lines: int = 15) -> str:
    """The last lines of each of the cluster's logs (why it did not come up)."""
    parts = []
    for log in sorted(log_dir.glob("*")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {log.name}\n" + "\n".join(tail))
    return "\n".join(parts)


def started_pids(run_dir: Path) -> dict[str, int]:
    """{daemon: pid} as slurm-local.sh recorded them when it started them."""
    found = {}
    for name in DAEMONS:
        pid_file = run_dir / f"{name}.pid"
        text = pid_file.read_text().strip() if pid_file.is_file() else ""
        if text.isdigit():
            found[name] = int(text)
    return found


def running(pid: int, name: str) -> bool:
    """True while `pid` is a live (not zombie) process named `name`."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return f"({name})" in stat and stat.rsplit(")", 1)[1].split()[0] != "Z"


def stop_leftovers(daemons: dict[str, int], wait_s: float = 15) -> list[str]:
    """Daemons of ours still running `wait_s` after stop, each then killed (by its own pid)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and any(running(p, n) for n, p in daemons.items()):
        time.sleep(0.5)
    left = [f"{n} ({p})" for n, p in daemons.items() if running(p, n)]
    for name, pid in daemons.items():
        if running(pid, name):
            os.kill(pid, signal.SIGKILL)
    return left


def one_wave_project(dest: Path) -> Path:
    """A copy of the project with one wave of the brief dataset and no country briefs."""
    copy_project(dest)
    dataset, keep = BRIEF_DATASET_WAVE
    raw = dest / "data" / "raw"
    removed = []
    for wave in sorted((raw / dataset).iterdir()):
        if wave.suffix in (".sav", ".dta", ".csv", ".xlsx") and wave.stem != keep:
            wave.unlink()
            removed.append(f"{dataset}/{wave.name}")
    sums = raw / "SHA256SUMS"
    lines = sums.read_text(encoding="utf-8").splitlines(keepends=True)
    sums.write_text("".join(x for x in lines if not x.rstrip().endswith(tuple(removed))))
    config = dest / "config" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert "  countries: true\n" in text, "config/config.yaml: briefs.countries moved"
    config.write_text(text.replace("  countries: true\n", "  countries: false\n"))
    return dest


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
