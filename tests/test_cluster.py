"""Cluster start checks (analysis/run/cluster.py), where a job ran in its record, and the
"Executed on" row of a brief (issue 16). Fast: no cluster is started here (tests/test_slurm.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

from analysis.errors import ConfigError
from analysis.provenance.record import execution_host
from analysis.run import cluster

EXAMPLE_SETTINGS = {"key_file": None, "key_env": "WPS_PSEUDONYM_KEY"}


def fake_workflow(executor: str | None, remote: bool = False) -> SimpleNamespace:
    plugin = SimpleNamespace(name=executor) if executor else None
    return SimpleNamespace(executor_plugin=plugin, remote_exec=remote)


def config_for(tmp_path: Path, **pseudonymisation: object) -> dict:
    (tmp_path / "data" / "raw").mkdir(parents=True, exist_ok=True)
    return {
        "raw_dir": "data/raw",
        "results_dir": "results",
        "pseudonymisation": {**EXAMPLE_SETTINGS, **pseudonymisation},
        "render": {"formats": ["html"]},
    }


def test_a_key_only_in_the_environment_is_refused_on_slurm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WPS_PSEUDONYM_KEY", "s3cret-key")
    with pytest.raises(ConfigError) as err:
        cluster.controller_checks(fake_workflow("slurm"), config_for(tmp_path), tmp_path)
    message = str(err.value)
    assert "WPS_PSEUDONYM_KEY" in message and "key_file" in message
    assert "s3cret-key" not in message


def test_a_key_file_is_accepted_on_slurm_and_local_runs_are_not_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WPS_PSEUDONYM_KEY", "s3cret-key")
    with_file = config_for(tmp_path, key_file="~/.wps-key")
    cluster.controller_checks(fake_workflow("slurm"), with_file, tmp_path)
    cluster.controller_checks(fake_workflow("local"), config_for(tmp_path), tmp_path)
    cluster.controller_checks(fake_workflow(None), config_for(tmp_path), tmp_path)


def test_an_empty_key_variable_is_not_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not cluster.key_only_in_environment(EXAMPLE_SETTINGS, {"WPS_PSEUDONYM_KEY": " "})
    assert cluster.key_only_in_environment(EXAMPLE_SETTINGS, {"WPS_PSEUDONYM_KEY": "k"})
    custom = {"key_file": "", "key_env": "MY_KEY"}
    assert cluster.key_only_in_environment(custom, {"MY_KEY": "k"})
    assert not cluster.key_only_in_environment(custom, {"WPS_PSEUDONYM_KEY": "k"})


def test_paths_on_node_local_storage_are_warned_about() -> None:
    warnings = cluster.node_local_warnings(
        {"the results folder": Path("/tmp/x/results"), "the repository": Path("/work/main")}
    )
    assert len(warnings) == 1 and "the results folder" in warnings[0]


def test_a_compute_node_missing_a_shared_path_or_fonts_stops_with_its_name(
    tmp_path: Path,
) -> None:
    paths = {"the repository": tmp_path, "the raw data folder": tmp_path / "nowhere"}
    with pytest.raises(ConfigError) as err:
        cluster.check_compute_node(paths, ["Thai"], host="node17")
    message = str(err.value)
    assert "node17" in message and str(tmp_path / "nowhere") in message
    assert "Thai" in message and "same path on every node" in message
    cluster.check_compute_node({"the repository": tmp_path}, [], host="node17")


def test_job_checks_run_in_slurm_jobs_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = config_for(tmp_path)
    (tmp_path / "data" / "raw").rmdir()
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    cluster.job_checks(fake_workflow(None, remote=True), config, tmp_path)  # not in SLURM
    monkeypatch.setenv("SLURM_JOB_ID", "7")
    cluster.job_checks(fake_workflow(None, remote=False), config, tmp_path)  # the controller
    with pytest.raises(ConfigError, match="the raw data folder"):
        cluster.job_checks(fake_workflow(None, remote=True), config, tmp_path)


def test_where_a_job_ran() -> None:
    assert cluster.execution_place({"SLURM_JOB_ID": "42"}) == "SLURM cluster"
    assert cluster.execution_place({}) == "local machine"
    assert execution_host({"SLURM_JOB_ID": "42"})["scheduler_job_id"] == "42"
    assert execution_host({})["scheduler_job_id"] is None
    assert execution_host({})["host"]


@pytest.mark.skipif(
    importlib.util.find_spec("snakemake_executor_plugin_slurm") is None,
    reason="the SLURM executor plugin is not installed (make venv-slurm)",
)
def test_the_snakefile_refuses_an_environment_key_under_the_slurm_profile(
    tmp_path: Path,
) -> None:
    from workflow_run import copy_project, run_snakemake

    root = copy_project(tmp_path / "project")
    # a real (not dry) run: a dry run swaps the executor for Snakemake's dry-run one, and the
    # check runs when jobs are about to start. SLURM_CONF points nowhere, so without the check
    # the one job would fail to reach any cluster rather than run.
    done = run_snakemake(
        root,
        "--profile",
        "workflow/profiles/slurm",
        "results/clean/officer_survey/2025.parquet",
        check=False,
        env={"WPS_PSEUDONYM_KEY": "s3cret-key", "SLURM_CONF": str(tmp_path / "no-slurm.conf")},
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "pseudonymisation key is set only in the environment variable" in output, output
    assert "s3cret-key" not in output
    assert not (root / "results" / "clean" / "officer_survey" / "2025.parquet").exists()
