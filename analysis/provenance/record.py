"""Job records made while each job runs: `with job(snakemake) as j: ...`.

On entry the job's stderr and Python logging go to its log file; on success a JSON record of the
job (rule, wildcards, params, hashed inputs and outputs, code, software, seeds, times) is written
atomically. On failure the traceback goes to the log, one line to the real stderr, and the error
is raised again: no record is written.

When the block is the script of the process Snakemake started for this job, a successful job
ends that process as soon as its record is written (`os._exit(0)`, after flushing): its outputs
are closed files by then, and the interpreter's own teardown, freeing pandas, statsmodels and
matplotlib module by module, costs 0.1-0.4 s a job that Snakemake would wait for before starting
the next (issue 18). The block is therefore the last statement of every workflow script
(tests/test_layout.py).
"""

from __future__ import annotations

import functools
import logging
import os
import platform
import socket
import subprocess
import sys
import traceback
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from analysis.atomic import is_folder_mark
from analysis.hashing import file_fact, sha256_file
from analysis.provenance.common import (
    RECORD_SCHEMA,
    display_path,
    job_id,
    to_jsonable,
    write_json_atomic,
)

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # .../analysis
REPO_ROOT = PACKAGE_ROOT.parent
KEY_PACKAGES = (
    "pandas",
    "numpy",
    "pyreadstat",
    "statsmodels",
    "scipy",
    "matplotlib",
    "pyarrow",
    "snakemake",
    "pypandoc-binary",
    "typst",
    "openpyxl",
    "krippendorff",
)
RECORD_OUTPUT = "record"


def named_files(container: Any) -> list[tuple[str | None, str]]:
    """(name or None, path) for each path of a Snakemake Namedlist, a dict or a plain list."""
    if container is None:
        return []
    if isinstance(container, str | Path):
        return [(None, str(container))]
    if isinstance(container, Mapping):
        pairs = list(container.items())
        paths: list[str] = []
        names: dict[str, str] = {}
        for name, value in pairs:
            for path in [value] if isinstance(value, str | Path) else list(value):
                paths.append(str(path))
                names.setdefault(str(path), str(name))
        return [(names.get(p), p) for p in paths]
    names = {}
    if callable(getattr(container, "items", None)):
        for name, value in container.items():
            for path in [value] if isinstance(value, str | Path) else list(value):
                names.setdefault(str(path), str(name))
    return [(names.get(str(p)), str(p)) for p in container]


def files_of(path: Path) -> list[Path]:
    """A file itself; a folder (a `directory()` output, such as a wave's findings) as each file
    in it, so the manifest names the job that made every file a later job reads, without
    Snakemake's own mark in it."""
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not is_folder_mark(p))


def named_values(container: Any) -> dict[str, Any]:
    """Named entries of a Snakemake Namedlist, dict, namespace or list (list: keyed by position)."""
    if container is None:
        return {}
    if isinstance(container, Mapping):
        return {str(k): v for k, v in container.items()}
    if callable(getattr(container, "items", None)):
        found = {str(k): v for k, v in container.items()}
        if found or not isinstance(container, list):
            return found
    if isinstance(container, list | tuple):
        return {str(i): v for i, v in enumerate(container)}
    if hasattr(container, "__dict__"):
        return {k: v for k, v in vars(container).items() if not k.startswith("_")}
    return {}


def git_state(repo: Path = REPO_ROOT) -> dict[str, Any]:
    """{"commit", "dirty"} of the repo holding the code; nulls where git or a repo is absent."""

    def run(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(repo), *args],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    status = run("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": commit.strip() if commit else None,
        "dirty": None if status is None else bool(status.strip()),
    }


@functools.cache
def package_version(name: str) -> str | None:
    """Installed version of a distribution, or None (looked up once per process)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def software_versions(extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Python and key package versions (null when not installed), plus what the script adds."""
    found: dict[str, Any] = {"python": platform.python_version()}
    found.update({name: package_version(name) for name in KEY_PACKAGES})
    found.update({str(k): v for k, v in (extra or {}).items()})
    return found


def loaded_analysis_modules() -> list[dict[str, str]]:
    """Path (relative to the repo) and sha256 of every `analysis` module now imported."""
    found = {}
    for name, module in list(sys.modules.items()):
        if name != "analysis" and not name.startswith("analysis."):
            continue
        source = getattr(module, "__file__", None)
        if not source or not Path(source).is_file():
            continue
        path = Path(source).resolve()
        try:
            shown = path.relative_to(REPO_ROOT).as_posix()
        except ValueError:
            shown = path.as_posix()
        found[shown] = sha256_file(path)
    return [{"path": p, "sha256": h} for p, h in sorted(found.items())]


def default_script() -> str | None:
    """The running script: Snakemake sets `__main__.__file__` to the rule's script path."""
    source = getattr(sys.modules.get("__main__"), "__file__", None)
    if not source or "site-packages" in Path(source).parts:
        return None
    return str(source)


def default_record_path(rule: str, wildcards: Mapping[str, Any], config: Mapping) -> Path:
    """results/provenance/jobs/<rule>/<wildcard values joined by "_" or "all">.json."""
    results = Path(str(config.get("results_dir", "results"))) if config else Path("results")
    stem = "_".join(str(v) for v in wildcards.values()) or "all"
    return results / "provenance" / "jobs" / rule / f"{stem}.json"


def utc_now() -> datetime:
    return datetime.now(UTC)


def execution_host(environ: Mapping[str, str] = os.environ) -> dict[str, str | None]:
    """Where the job ran: the host name and the scheduler's job id (SLURM_JOB_ID, else null)."""
    return {"host": socket.gethostname(), "scheduler_job_id": environ.get("SLURM_JOB_ID")}


class Job:
    """The running job: its log redirection, the facts a script adds, and its record on success."""

    def __init__(self, snakemake: Any, script: str | Path | None = None) -> None:
        self.snakemake = snakemake
        self.rule = str(getattr(snakemake, "rule", "") or "unknown_rule")
        self.wildcards = {k: str(v) for k, v in named_values(snakemake.wildcards).items()}
        self.config: Mapping = getattr(snakemake, "config", None) or {}
        self.script: str | Path | None = script
        self.software: dict[str, Any] = {}
        self.seeds: dict[str, Any] = {}
        self.notes: dict[str, Any] = {}
        self.made_from: dict[str, list[str]] = {}
        self.log_paths = [p for _, p in named_files(getattr(snakemake, "log", None))]
        self.record_path: Path | None = None
        self.started_at: datetime | None = None
        self._real_stderr: TextIO | None = None
        self._log_stream: TextIO | None = None
        self._log_handler: logging.Handler | None = None
        self._old_level: int | None = None

    @property
    def id(self) -> str:
        return job_id(self.rule, self.wildcards)

    def note(self, key: str, value: Any) -> None:
        """Record an extra fact about this job (e.g. reconciliation counts)."""
        self.notes[str(key)] = value

    def output_made_from(self, output: str | Path, inputs: Iterable[str | Path]) -> None:
        """Say which of the job's inputs one of its outputs rests on, when the job makes several
        outputs from different inputs (a wave's findings job: each brief's findings from its
        own tables). Lineage and trace then follow these inputs only; an output not named here
        rests on every input of the job."""
        self.made_from[display_path(output)] = sorted({display_path(i) for i in inputs})

    def __enter__(self) -> Job:
        self.started_at = utc_now()
        if self.log_paths:
            log = Path(self.log_paths[0])
            log.parent.mkdir(parents=True, exist_ok=True)
            self._log_stream = open(log, "w", encoding="utf-8", buffering=1)  # noqa: SIM115
            self._real_stderr = sys.stderr
            sys.stderr = self._log_stream
            handler = logging.StreamHandler(self._log_stream)
            handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            root = logging.getLogger()
            self._old_level = root.level
            root.addHandler(handler)
            if root.level == logging.NOTSET or root.level > logging.INFO:
                root.setLevel(logging.INFO)
            self._log_handler = handler
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        try:
            if exc is None:
                if self.log_paths:
                    self._failure_note().unlink(missing_ok=True)
                try:
                    self.record_path = self._write_record()
                except Exception as err:
                    self._report_failure(err)
                    raise
            else:
                self._report_failure(exc)
        finally:
            self._restore()
        if exc is None and is_script_process_of(self.snakemake):
            end_process_now()
        return False

    def _report_failure(self, exc: BaseException) -> None:
        stream = self._log_stream or sys.stderr
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=stream)
        stream.flush()
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        summary = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        where = getattr(exc, "file", None) or self._first_input() or self.id
        line = f"rule {self.rule} failed on {where}: {summary}"
        if self._log_stream is not None:
            line += f"; see log {self.log_paths[0]}"
            self._failure_note().write_text(line + "\n", encoding="utf-8")
        print(line, file=self._real_stderr or sys.__stderr__, flush=True)

    def _failure_note(self) -> Path:
        """Beside the job's log: present while the job's last run failed (read by the
        end-of-run summary, analysis.run.summary)."""
        return Path(self.log_paths[0]).with_suffix(".failed")

    def _first_input(self) -> str | None:
        files = named_files(getattr(self.snakemake, "input", None))
        return files[0][1] if files else None

    def _restore(self) -> None:
        if self._log_handler is not None:
            root = logging.getLogger()
            root.removeHandler(self._log_handler)
            if self._old_level is not None:
                root.setLevel(self._old_level)
            self._log_handler = None
        if self._real_stderr is not None:
            sys.stderr = self._real_stderr
            self._real_stderr = None
        if self._log_stream is not None:
            self._log_stream.close()
            self._log_stream = None

    def _target(self) -> Path:
        for name, path in named_files(getattr(self.snakemake, "output", None)):
            if name == RECORD_OUTPUT:
                return Path(path)
        return default_record_path(self.rule, self.wildcards, self.config)

    def _files(self, container: Any, *, skip: Path | None = None) -> list[dict[str, Any]]:
        facts = []
        missing = []
        for name, path in named_files(container):
            if skip is not None and Path(path) == skip:
                continue
            if not Path(path).exists():
                missing.append(path)
                continue
            for file in files_of(Path(path)):
                facts.append({"name": name, **file_fact(file, display_path(file))})
        if missing:
            raise FileNotFoundError(
                f"rule {self.rule} ({self.id}) finished but these files are missing: "
                f"{', '.join(missing)}. The script must write every declared output."
            )
        return facts

    def _script_fact(self) -> dict[str, str] | None:
        script = self.script or default_script()
        if not script or not Path(script).is_file():
            return None
        path = Path(script).resolve()
        try:
            shown = path.relative_to(REPO_ROOT).as_posix()
        except ValueError:
            shown = display_path(path)
        return {"path": shown, "sha256": sha256_file(path)}

    def _seeds(self) -> dict[str, Any]:
        seeds: dict[str, Any] = {}
        if self.config and self.config.get("seed") is not None:
            seeds["config"] = self.config.get("seed")
        seeds.update(self.seeds)
        return seeds

    def build_record(self, target: Path) -> dict[str, Any]:
        """The job record as a dict (inputs and outputs hashed now)."""
        ended = utc_now()
        started = self.started_at or ended
        sm = self.snakemake
        return {
            "schema": RECORD_SCHEMA,
            "job": self.id,
            "rule": self.rule,
            "wildcards": self.wildcards,
            "params": to_jsonable(named_values(getattr(sm, "params", None))),
            "threads": getattr(sm, "threads", None),
            "inputs": self._files(getattr(sm, "input", None)),
            "outputs": self._files(getattr(sm, "output", None), skip=target),
            "log": [display_path(p) for p in self.log_paths],
            "record": display_path(target),
            "code": {
                "script": self._script_fact(),
                "modules": loaded_analysis_modules(),
                "git": git_state(),
            },
            "software": to_jsonable(software_versions(self.software)),
            "seeds": to_jsonable(self._seeds()),
            "notes": to_jsonable(self.notes),
            **({"made_from": dict(sorted(self.made_from.items()))} if self.made_from else {}),
            "started_at": started.isoformat(),
            "ended_at": ended.isoformat(),
            "duration_seconds": round((ended - started).total_seconds(), 3),
            **execution_host(),
        }

    def _write_record(self) -> Path:
        target = self._target()
        return write_json_atomic(self.build_record(target), target)


def is_script_process_of(snakemake: Any) -> bool:
    """Whether this process is the one Snakemake started to run a job's script with this
    `snakemake` object: Snakemake's preamble puts both `__real_file__` and `snakemake` into
    `__main__` (a test or notebook calling a script in its own process is not)."""
    main = sys.modules.get("__main__")
    return (
        getattr(main, "__real_file__", None) is not None
        and getattr(main, "snakemake", None) is snakemake
    )


def end_process_now() -> None:
    """Exit with status 0 at once, without the interpreter's teardown: standard streams and
    logging handlers are flushed first; nothing else may be left unwritten."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)


def job(snakemake: Any, script: str | Path | None = None) -> Job:
    """Context manager recording one Snakemake job: `with job(snakemake) as j: ...`."""
    return Job(snakemake, script=script)


def load_records(records_dir: Path | str) -> list[dict[str, Any]]:
    """All job records under a folder, sorted by job id."""
    from analysis.provenance.common import read_json

    records = []
    for path in sorted(Path(records_dir).rglob("*.json")):
        data = read_json(path)
        if isinstance(data, dict) and data.get("schema") == RECORD_SCHEMA:
            records.append(data)
    return sorted(records, key=lambda r: (r["job"], r.get("record", "")))
