"""Helpers for the end-to-end workflow tests: copy the project, run Snakemake, read what it made.

The project is copied (tracked plus untracked-but-not-ignored files, never results/, .snakemake/ or
.venv) into a temporary folder and Snakemake runs there, so the tests never touch the shared
working tree's results.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SKIPPED_TOP = {"results", ".snakemake", ".venv", ".git"}
SKIPPED_ANYWHERE = {"__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}
RUN_TIMEOUT_S = 1800


def snakemake_executable() -> Path:
    """The snakemake of the venv running the tests (found beside `sys.executable`)."""
    return Path(sys.executable).parent / "snakemake"


def project_files(repo: Path = REPO) -> list[str]:
    """Relative paths of the project's files: tracked plus untracked-but-not-ignored."""
    if not (repo / ".git").exists():  # a snapshot: every file in it belongs to the project
        listed = [p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file()]
        return [rel for rel in sorted(listed) if _is_project_file(repo, rel)]
    try:
        listed = subprocess.run(
            ["git", "-C", str(repo), "ls-files", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        listed = [str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file()]
    return [rel for rel in sorted(set(listed)) if _is_project_file(repo, rel)]


def _is_project_file(repo: Path, rel: str) -> bool:
    parts = Path(rel).parts
    if parts[0] in SKIPPED_TOP or SKIPPED_ANYWHERE & set(parts) or parts[0].endswith(".egg-info"):
        return False
    return (repo / rel).is_file()  # deleted-but-tracked files are skipped


def copy_project(dest: Path, repo: Path = REPO) -> Path:
    """Copy the project's files into `dest` (created), keeping modification times."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel in project_files(repo):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / rel, target)
    return dest


def copy_run(source: Path, dest: Path) -> Path:
    """Copy a finished run (project, results/ and .snakemake/) so it can be changed and rerun."""
    shutil.copytree(source, dest, symlinks=True, copy_function=shutil.copy2)
    return dest


def workflow_env() -> dict[str, str]:
    """Environment for Snakemake: no pseudonym key (the example config allows the example key)."""
    env = dict(os.environ)
    env.pop("WPS_PSEUDONYM_KEY", None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_snakemake(
    workdir: Path,
    *args: str,
    check: bool = True,
    cores: int = 2,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run snakemake in `workdir`; on failure (with check) raise with the end of its output.
    `env` adds to (or overrides) the workflow environment."""
    command = [str(snakemake_executable()), "--cores", str(cores), *args]
    done = subprocess.run(
        command,
        cwd=workdir,
        env={**workflow_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    if check and done.returncode != 0:
        tail = (done.stdout + "\n" + done.stderr)[-6000:]
        raise AssertionError(
            f"`{' '.join(command)}` in {workdir} exited {done.returncode}:\n{tail}"
        )
    return done


def run_python(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the test interpreter in `workdir` (so `-m analysis` is the copy's package)."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=workdir,
        env=workflow_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


# ---- Snakemake's job listing ----------------------------------------------------------------

JOB_HEADER = re.compile(r"^(?:local)?(?:rule|checkpoint) (?P<rule>\w+):\s*$")
JOB_FIELD = re.compile(r"^\s+(?P<key>\w+): (?P<value>.*)$")


@dataclass(frozen=True)
class PlannedJob:
    """One job as Snakemake prints it (in a run or a dry run)."""

    rule: str
    wildcards: tuple[tuple[str, str], ...] = ()
    outputs: tuple[str, ...] = field(default=(), compare=False)

    @property
    def wildcard_dict(self) -> dict[str, str]:
        return dict(self.wildcards)


def parse_jobs(output: str) -> list[PlannedJob]:
    """The jobs listed in Snakemake's output (`rule x:`, `checkpoint x:` blocks), `all` included."""
    jobs: list[PlannedJob] = []
    current: dict | None = None
    for line in output.splitlines():
        header = JOB_HEADER.match(line)
        if header:
            if current is not None:
                jobs.append(_job_of(current))
            current = {"rule": header["rule"]}
            continue
        found = JOB_FIELD.match(line)
        if current is not None and found:
            current[found["key"]] = found["value"]
        elif current is not None and line.strip() and not line.startswith((" ", "\t")):
            jobs.append(_job_of(current))
            current = None
    if current is not None:
        jobs.append(_job_of(current))
    return jobs


def _job_of(block: dict) -> PlannedJob:
    wildcards = tuple(
        tuple(pair.split("=", 1))
        for pair in (block.get("wildcards") or "").split(", ")
        if "=" in pair
    )
    outputs = tuple(p for p in (block.get("output") or "").split(", ") if p)
    return PlannedJob(block["rule"], wildcards, outputs)  # type: ignore[arg-type]


def dry_run_jobs(workdir: Path) -> tuple[list[PlannedJob], str]:
    """The jobs `snakemake -n` would run now (without `all`), and its full output."""
    done = run_snakemake(workdir, "-n")
    text = done.stdout + "\n" + done.stderr
    return [j for j in parse_jobs(text) if j.rule != "all"], text


# ---- files ----------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_hashes(root: Path) -> dict[str, str]:
    """{relative posix path: sha256} of every file under `root`."""
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def pdf_text(path: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"pdftotext failed on {path}: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode("utf-8", errors="replace")


def pdf_metadata(path: Path) -> str:
    """The document information dictionary and XMP packet of a PDF, as text."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    info = {str(k): str(v) for k, v in (reader.metadata or {}).items()}
    xmp = reader.trailer["/Root"].get("/Metadata")
    packet = xmp.get_object().get_data().decode("utf-8", errors="replace") if xmp else ""
    return f"{info}\n{packet}"


def zip_text(path: Path) -> str:
    """The XML and text members of a zip container (docx, xlsx), concatenated."""
    with zipfile.ZipFile(path) as archive:
        return "\n".join(
            archive.read(name).decode("utf-8", errors="replace")
            for name in archive.namelist()
            if name.endswith((".xml", ".rels", ".txt", ".json"))
        )


def parquet_text(path: Path) -> str:
    """A Parquet table as CSV text, plus its schema metadata."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    meta = "\n".join(
        f"{k.decode(errors='replace')}={v.decode(errors='replace')}"
        for k, v in (schema.metadata or {}).items()
    )
    return pd.read_parquet(path).to_csv(index=False) + "\n" + meta


def png_text(path: Path) -> str:
    """The text chunks (tEXt, iTXt, zTXt) of a PNG, decoded; the pixels hold no searchable text."""
    from PIL import Image

    with Image.open(path) as image:
        info = dict(getattr(image, "text", {}) or {})
        info.update({str(k): v for k, v in image.info.items() if isinstance(v, str | bytes)})
    return "\n".join(
        f"{k}={v.decode(errors='replace') if isinstance(v, bytes) else v}" for k, v in info.items()
    )


def searchable_texts(path: Path) -> Iterable[tuple[str, str]]:
    """(how, text) views of a file: its raw bytes as text, and extracted text where it has some."""
    yield "raw", path.read_bytes().decode("utf-8", errors="replace")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield "parquet as CSV", parquet_text(path)
    elif suffix == ".pdf":
        yield "pdftotext", pdf_text(path)
        yield "PDF metadata", pdf_metadata(path)
    elif suffix in (".docx", ".xlsx"):
        yield "zip members", zip_text(path)
    elif suffix == ".png":
        yield "PNG text chunks", png_text(path)
    elif suffix in (".html", ".htm"):
        yield "html unescaped", _html_text(path)


def _html_text(path: Path) -> str:
    import base64
    import html

    text = path.read_text(encoding="utf-8", errors="replace")
    found = [html.unescape(text)]
    for blob in re.findall(r"base64,([A-Za-z0-9+/=]+)", text):  # embedded files and images
        try:
            found.append(base64.b64decode(blob).decode("utf-8", errors="replace"))
        except ValueError:
            continue
    return "\n".join(found)


def find_canaries(folders: Sequence[Path], canaries: Sequence[str]) -> list[tuple[str, str, str]]:
    """(file, how it was read, canary) for every canary found in any file under the folders."""
    hits = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            for how, text in searchable_texts(path):
                lowered = text.lower()
                hits += [(str(path), how, c) for c in canaries if c.lower() in lowered]
    return hits


# ---- a run ----------------------------------------------------------------------------------


@dataclass
class WorkflowRun:
    """A copy of the project and the Snakemake run made in it."""

    root: Path
    output: str

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def jobs(self) -> list[PlannedJob]:
        """The jobs Snakemake ran (without `all`)."""
        return [j for j in parse_jobs(self.output) if j.rule != "all"]

    @classmethod
    def from_clean(cls, root: Path, source: Path = REPO) -> WorkflowRun:
        """Copy the project (from the repo or a snapshot of it) to `root` and run it there."""
        copy_project(root, source)
        done = run_snakemake(root)
        return cls(root, done.stdout + "\n" + done.stderr)

    @classmethod
    def killed_then_resumed(
        cls, root: Path, source: Path = REPO, *, after_jobs: int = 8, cores: int = 1
    ) -> WorkflowRun:
        """Start a run from clean, kill it (SIGKILL to its whole process group, as a power
        loss would) once `after_jobs` job records exist, then unlock the folder as the README
        says (`make unlock`) and run again with `cores` to the end."""
        copy_project(root, source)
        records = root / "results" / "provenance" / "jobs"
        started = subprocess.Popen(
            [str(snakemake_executable()), "--cores", "2"],
            cwd=root,
            env=workflow_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while time.monotonic() < deadline and started.poll() is None:
            if records.is_dir() and len(list(records.rglob("*.json"))) >= after_jobs:
                break
            time.sleep(0.2)
        if started.poll() is not None:
            raise AssertionError("the run ended before it could be killed; raise after_jobs")
        os.killpg(started.pid, signal.SIGKILL)
        started.wait()
        run_snakemake(root, "--unlock")
        done = run_snakemake(root, "--rerun-incomplete", cores=cores)
        run_snakemake(root, "--delete-temp-output")  # as `make run` does after every run
        return cls(root, done.stdout + "\n" + done.stderr)

    def rerun(self) -> WorkflowRun:
        """Run Snakemake again in the same folder (after inputs changed)."""
        done = run_snakemake(self.root)
        return WorkflowRun(self.root, done.stdout + "\n" + done.stderr)


# ---- changing raw data in a copy --------------------------------------------------------------


def rewrite_sav(path: Path, edit) -> None:
    """Read a .sav with user-missing codes, apply `edit(df) -> df`, write it back with its labels.

    Variable and value labels, user-missing values, measures, formats of numbers and dates and the
    file label are kept; string widths are recomputed by pyreadstat.
    """
    import pyreadstat

    data, meta = pyreadstat.read_sav(str(path), user_missing=True)
    data = edit(data.copy())
    formats = {
        name: fmt
        for name, fmt in meta.original_variable_types.items()
        if not fmt.upper().startswith("A")
    }
    pyreadstat.write_sav(
        data,
        str(path),
        file_label=meta.file_label or "",
        column_labels=dict(meta.column_names_to_labels),
        variable_value_labels=dict(meta.variable_value_labels),
        missing_ranges={k: list(v) for k, v in meta.missing_ranges.items()},
        variable_measure=dict(meta.variable_measure),
        variable_format=formats,
        row_compress=True,
    )


def rewrite_xlsx_rows(path: Path, edit) -> int:
    """Apply `edit(row: dict) -> dict | None` to each data row of the first sheet; cells whose value
    changed are written back (nothing else). Returns the number of rows changed."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    changed = 0
    for cells in sheet.iter_rows(min_row=2):
        row = {name: cell.value for name, cell in zip(header, cells, strict=False)}
        new = edit(dict(row))
        if not new:
            continue
        for name, cell in zip(header, cells, strict=False):
            if new.get(name) != row.get(name):
                cell.value = new[name]
        changed += 1
    book.save(path)
    return changed
