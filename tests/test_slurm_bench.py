"""The `slurm` part of `make bench` without a cluster: its profile copy, counts and report."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from benchmarks import run, slurm_bench
from benchmarks.slurm_cluster import PROFILE, REPO

SNAKEMAKE_LOG = """Job stats:
job               count
--------------  -------
all                   1
clean_wave            1
total                33

Job 7 has been submitted with SLURM jobid 12 (log: /x/12.log).
Job 8 has been submitted with SLURM jobid 13 (log: /x/13.log).
Job 9 has been submitted with SLURM jobid 13 (log: /x/13.log).
Job stats:
job      count
-----  -------
all          1
total        1
"""


def test_ungrouped_profile_drops_only_the_groups(tmp_path: Path) -> None:
    original = yaml.safe_load((REPO / PROFILE / "config.yaml").read_text())
    assert original["groups"] and original["group-components"]  # else the bench compares nothing
    copy = slurm_bench.ungrouped_profile(REPO / PROFILE, tmp_path / "profile")
    changed = yaml.safe_load((copy / "config.yaml").read_text())
    assert "groups" not in changed and "group-components" not in changed
    assert changed == {k: v for k, v in original.items() if k not in slurm_bench.GROUPING_KEYS}
    assert (REPO / PROFILE / "config.yaml").read_text().count("groups:") == 1  # left as it was


def test_job_counts_from_the_snakemake_log() -> None:
    assert slurm_bench.workflow_jobs(SNAKEMAKE_LOG) == 33  # the first (planned) table
    assert slurm_bench.slurm_jobs(SNAKEMAKE_LOG) == 2  # two members shared SLURM job 13
    assert slurm_bench.workflow_jobs("no table") is None


def test_overhead_per_workflow_job() -> None:
    local = {"seconds": 112.0, "workflow_jobs": 33}
    assert slurm_bench.overhead_per_job({"seconds": 277.0, "workflow_jobs": 33}, local) == 5.0
    assert slurm_bench.overhead_per_job({"seconds": 277.0, "workflow_jobs": None}, local) is None


def test_not_measured_where_slurm_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slurm_bench, "slurm_missing", lambda: "no SLURM here")
    part = slurm_bench.bench_slurm(1, lambda _: None)
    assert part == {"skipped": "no SLURM here", "status": "not measured"}
    assert slurm_bench.slurm_table(part) == ["Not measured: no SLURM here"]


def test_smoke_and_skip_never_start_a_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    def started(_repeats: int, _log: object) -> dict:
        raise AssertionError("the cluster part ran")

    monkeypatch.setattr(run, "bench_slurm", started)
    smoke = argparse.Namespace(smoke=True, skip=[])
    skipped = argparse.Namespace(smoke=False, skip=["slurm"])
    assert "smoke" in run.slurm_part(smoke, print)["skipped"]
    assert run.slurm_part(skipped, print) == {"skipped": "not requested (--skip)"}


def test_table_reports_each_run() -> None:
    runs = {
        "local": {"seconds": 112.0, "workflow_jobs": 33, "slurm_jobs": 0},
        "ungrouped": {
            "seconds": 277.0,
            "workflow_jobs": 33,
            "slurm_jobs": 28,
            "overhead_per_job_s": 5.0,
        },
        "grouped": {
            "seconds": 208.0,
            "workflow_jobs": 33,
            "slurm_jobs": 12,
            "overhead_per_job_s": 2.91,
        },
    }
    part = {"runs": runs, "cores": 2, "targets": "one wave", "commit": "abc", "repeats": 1}
    table = slurm_bench.slurm_table(part)
    assert "single repetition" in table[0]
    assert "| SLURM profile, groups removed | 4:37 | 277 | 33 | 28 | 5.0 |" in table
    assert "| SLURM profile as it is (job groups) | 3:28 | 208 | 33 | 12 | 2.9 |" in table
    assert table[-3].endswith("| 1:52 | 112 | 33 | 0 | - |")


def test_repeated_runs_give_medians_and_overhead_from_them() -> None:
    def sample(seconds: float, slurm: int) -> dict:
        return {"seconds": seconds, "workflow_jobs": 10, "slurm_jobs": slurm}

    samples = {
        "local": [sample(60.0, 0), sample(100.0, 0), sample(70.0, 0)],
        "ungrouped": [sample(200.0, 9), sample(150.0, 9), sample(170.0, 9)],
        "grouped": [sample(90.0, 4), sample(95.0, 4), sample(300.0, 4)],
    }
    runs = slurm_bench.summarise(samples)
    assert runs["local"]["seconds"] == 70.0 and runs["local"]["runs_s"] == [60.0, 100.0, 70.0]
    assert runs["ungrouped"]["overhead_per_job_s"] == 10.0  # (170 - 70) / 10
    assert runs["grouped"]["overhead_per_job_s"] == 2.5  # (95 - 70) / 10
    assert "overhead_per_job_s" not in runs["local"]
    assert "Median of 3 runs" in slurm_bench.repeats_text(3)
