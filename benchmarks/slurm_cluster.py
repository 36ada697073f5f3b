"""A one-node SLURM cluster on this machine, for tests/test_slurm.py and the `slurm` benchmark.

Starts and stops ../shared/tools/slurm-local.sh (a test fixture, absent on most machines), says
why it cannot run here, makes sure no daemon of ours is left running (each killed by the pid the
script recorded, never by name), and trims a copy of the project to the one wave both run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SLURM_LOCAL = REPO.parent / "shared" / "tools" / "slurm-local.sh"
SLURM_PROGRAMS = ("sbatch", "squeue", "sinfo", "slurmctld", "slurmd", "munged")
SBIN = "/usr/sbin:/sbin"
PROFILE = "workflow/profiles/slurm"
DAEMONS = ("munged", "slurmctld", "slurmd")
BRIEF_DATASET_WAVE = ("officer_survey", "2025")  # the wave kept; the others are removed
WAVE_SUFFIXES = (".sav", ".dta", ".csv", ".xlsx")


def slurm_missing() -> str | None:
    """Why the local cluster cannot run here, or None."""
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
    """True when `module` cannot be imported by this interpreter."""
    return importlib.util.find_spec(module) is None


def slurm_local(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `slurm-local.sh <command>` (start, stop, status, env)."""
    return subprocess.run(
        ["bash", str(SLURM_LOCAL), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


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


class ClusterDidNotStart(RuntimeError):
    """slurm-local.sh start failed; the message carries its output and the logs' tails."""


@dataclass
class Cluster:
    """A running cluster: `env` is what Snakemake needs to reach it; after the `with`,
    `left_running` names the daemons that outlived `slurm-local.sh stop` (then killed)."""

    env: dict[str, str]
    left_running: list[str] = field(default_factory=list)


@contextmanager
def local_cluster(state: Path) -> Iterator[Cluster]:
    """Start a one-node cluster keeping its state under `state`; stop it whatever happens.
    `state`'s parent must be traversable by others (munged puts its socket there)."""
    env = {
        **os.environ,
        "SLURM_LOCAL_DIR": str(state),
        "PATH": f"{os.environ.get('PATH', '')}:{SBIN}",
        "SLURM_CONF": str(state / "etc" / "slurm.conf"),
    }
    started = slurm_local("start", env)
    daemons = started_pids(state / "run")
    cluster = Cluster(env={"SLURM_CONF": env["SLURM_CONF"], "PATH": env["PATH"]})
    try:
        if started.returncode != 0:
            raise ClusterDidNotStart(
                f"cluster did not start:\n{started.stdout}{started.stderr}"
                f"{log_tails(state / 'log')}"
            )
        yield cluster
    finally:
        slurm_local("stop", env)
        cluster.left_running = stop_leftovers(daemons)


def keep_one_wave(dest: Path) -> Path:
    """Trim a copy of the project at `dest` to one wave of the brief dataset, no country briefs."""
    dataset, keep = BRIEF_DATASET_WAVE
    raw = dest / "data" / "raw"
    removed = []
    for wave in sorted((raw / dataset).iterdir()):
        if wave.suffix in WAVE_SUFFIXES and wave.stem != keep:
            wave.unlink()
            removed.append(f"{dataset}/{wave.name}")
    sums = raw / "SHA256SUMS"
    lines = sums.read_text(encoding="utf-8").splitlines(keepends=True)
    sums.write_text("".join(x for x in lines if not x.rstrip().endswith(tuple(removed))))
    config = dest / "config" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    if "  countries: true\n" not in text:
        raise ValueError(f"{config}: briefs.countries: true not found (the setting moved)")
    config.write_text(text.replace("  countries: true\n", "  countries: false\n"))
    return dest
