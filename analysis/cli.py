"""The `wps` command: audit a finished run, trace a brief back to raw data, and more.

Subcommands live in a registry. A module elsewhere in `analysis` joins it by being listed in
`PLUGIN_COMMANDS` and defining `add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST = "provenance/manifest.json"


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}

# name -> (module, help): modules defining add_arguments(parser) and run(args) -> int.
PLUGIN_COMMANDS: dict[str, tuple[str, str]] = {
    "preview": (
        "analysis.render.preview",
        "ready a brief's Quarto project in reports/ for `quarto preview` with a run's numbers",
    ),
    "codebook": (
        "analysis.validate.codebook_draft",
        "draft a codebook from a data file (draft) and list what is still to decide (check)",
    ),
    "quotes": (
        "analysis.interviews.review",
        "quotes reach a brief only once a person approved them: where the review sheets are "
        "and what to fill in (review)",
    ),
}


def register(command: Command) -> Command:
    """Add a subcommand to `wps`."""
    COMMANDS[command.name] = command
    return command


def _load_plugins() -> None:
    for name, (module_name, help_text) in PLUGIN_COMMANDS.items():
        if name in COMMANDS:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name and module_name.startswith(err.name):
                continue  # not written yet
            raise
        if hasattr(module, "add_arguments") and hasattr(module, "run"):
            register(Command(name, help_text, module.add_arguments, module.run))


# --- shared helpers -------------------------------------------------------------------------


def _load_manifest(results: Path) -> dict[str, Any]:
    from analysis.provenance.manifest import ManifestError, load_manifest

    path = results / MANIFEST
    if not path.is_file():
        raise SystemExit(
            f"wps: no manifest at {path}. Run the workflow first (snakemake --cores 2), or point "
            "--results at the results folder of a finished run."
        )
    try:
        return load_manifest(path)
    except ManifestError as err:
        raise SystemExit(f"wps: {err}") from None


def _root_of(results: Path, manifest: Mapping[str, Any]) -> Path:
    """The folder the manifest's paths are relative to, found from --results."""
    recorded = Path(manifest.get("results_dir", "results"))
    if recorded.is_absolute():
        return Path("/")
    results = results.absolute()
    parts = recorded.parts
    if results.parts[-len(parts) :] == parts:
        return Path(*results.parts[: -len(parts)])
    return Path.cwd()


def _add_results(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--results", type=Path, default=Path("results"), help="results folder (default: results)"
    )


# --- wps audit ------------------------------------------------------------------------------


def _audit_arguments(parser: argparse.ArgumentParser) -> None:
    _add_results(parser)
    parser.add_argument(
        "--raw", type=Path, default=None, help="raw data folder (default: the run's, data/raw)"
    )


def _audit(args: argparse.Namespace) -> int:
    from analysis.provenance.audit import audit, failed, verdict

    manifest = _load_manifest(args.results)
    root = _root_of(args.results, manifest)
    problems = audit(manifest, root=root, raw_dir=args.raw)
    print(verdict(manifest, problems))
    return 1 if failed(problems) else 0


register(
    Command(
        "audit",
        "re-hash every output and raw file of the last run and compare with its manifest",
        _audit_arguments,
        _audit,
    )
)


# --- wps trace ------------------------------------------------------------------------------


def _trace_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a brief (or any output), e.g. results/briefs/2025/x.html")
    parser.add_argument(
        "finding", nargs="?", help="a finding key in the brief's findings file (optional)"
    )
    _add_results(parser)


def _short(sha: str | None) -> str:
    return (sha or "-")[:16]


def _params_lines(params: Any) -> list[str]:
    """A job's parameters (its plan entry, thresholds, seeds) as YAML lines, keys sorted."""
    import yaml

    if not params:
        return ["(none)"]
    text = yaml.safe_dump(params, sort_keys=True, allow_unicode=True, width=96)
    return text.rstrip("\n").splitlines()


def _software_line(job: Mapping[str, Any]) -> str:
    """The job's software versions on one line, Python first, then packages by name."""
    software = dict(job.get("software") or {})
    python = software.pop("python", None)
    parts = ([f"python {python}"] if python else []) + [
        f"{name} {version}" for name, version in sorted(software.items())
    ]
    return ", ".join(parts) or "(not recorded)"


def _code_line(job: Mapping[str, Any]) -> str:
    """The code a job ran: git commit (and whether the tree had uncommitted changes), script."""
    code = job.get("code") or {}
    git = code.get("git") or {}
    commit = git.get("commit")
    state = (" (uncommitted changes)" if git.get("dirty") else "") if commit else ""
    script = code.get("script") or {}
    shown = f"; script {script['path']} {_short(script.get('sha256'))}" if script else ""
    modules = f"; {len(code['modules'])} analysis modules hashed" if code.get("modules") else ""
    return f"git {commit or '(not a git checkout)'}{state}{shown}{modules}"


def _print_job_setting(job: Mapping[str, Any]) -> None:
    """Under a step of `wps trace`: the job's parameters, software and code."""
    print("    params:")
    for line in _params_lines(job.get("params")):
        print(f"      {line}")
    seeds = job.get("seeds")
    if seeds:
        print(f"    seeds     {', '.join(f'{k} {v}' for k, v in sorted(seeds.items()))}")
    print(f"    software  {_software_line(job)}")
    print(f"    code      {_code_line(job)}")


def _print_chain(manifest: Mapping[str, Any], path: str) -> None:
    from analysis.provenance.manifest import trace

    steps = trace(manifest, path)
    sources = manifest["lineage"].get(path, [path] if path in manifest["raw"] else [])
    print(f"lineage of {path}")
    print("  raw files:")
    for raw in sources:
        entry = manifest["raw"].get(raw, {})
        print(f"    {raw}  sha256 {entry.get('sha256', '(not in the run)')}")
    for number, step in enumerate(steps, 1):
        script = f", script {step['script']}" if step["script"] else ""
        print(f"  step {number}: job {step['job']} (rule {step['rule']}{script})")
        _print_job_setting(manifest["jobs"].get(step["job"]) or {})
        for item in step["inputs"]:
            tag = "  (raw)" if item["raw"] else ""
            print(f"    in   {item['path']}  {_short(item['sha256'])}{tag}")
        for item in step["outputs"]:
            mark = "  <==" if item["path"] == path else ""
            print(f"    out  {item['path']}  {_short(item['sha256'])}{mark}")


def _findings_file(results: Path, brief: Path) -> Path:
    """results/findings/<wave>/<brief>.yaml for results/briefs/<wave>/<brief>.<fmt>."""
    return results / "findings" / brief.parent.name / f"{brief.stem}.yaml"


def _find(findings: Any, key: str) -> Mapping[str, Any] | None:
    if isinstance(findings, Mapping) and "findings" in findings:
        findings = findings["findings"]
    if isinstance(findings, Mapping):
        found = findings.get(key)
        return found if isinstance(found, Mapping) else None
    if isinstance(findings, list):
        for item in findings:
            if isinstance(item, Mapping) and key in (item.get("key"), item.get("id")):
                return item
    return None


def _keys(findings: Any) -> list[str]:
    if isinstance(findings, Mapping) and "findings" in findings:
        findings = findings["findings"]
    if isinstance(findings, Mapping):
        return sorted(str(k) for k in findings)
    if isinstance(findings, list):
        return sorted(str(i.get("key", i.get("id"))) for i in findings if isinstance(i, Mapping))
    return []


def _cell(table: Path, row: Any, column: str) -> Any:
    """The value at (row, column): row is a 0-based position, a {column: value} match, or a
    label in the table's first column."""
    import pandas as pd

    frame = pd.read_parquet(table) if table.suffix == ".parquet" else pd.read_csv(table)
    if column not in frame.columns:
        raise SystemExit(f"wps: {table} has no column '{column}' (columns: {list(frame.columns)})")
    if isinstance(row, Mapping):
        mask = pd.Series(True, index=frame.index)
        for col, value in row.items():
            mask &= frame[col].astype(str) == str(value)
        hits = frame.loc[mask, column]
    elif isinstance(row, int):
        hits = frame[column].iloc[[row]] if 0 <= row < len(frame) else frame[column].iloc[[]]
    else:
        hits = frame.loc[frame.iloc[:, 0].astype(str) == str(row), column]
    if len(hits) != 1:
        raise SystemExit(f"wps: row {row!r} matches {len(hits)} rows of {table}, not one")
    value = hits.iloc[0]
    return value.item() if hasattr(value, "item") else value


def _trace(args: argparse.Namespace) -> int:
    from analysis.provenance.common import display_path

    manifest = _load_manifest(args.results)
    root = _root_of(args.results, manifest)
    path = display_path(args.path, root)
    if path not in manifest["outputs"] and path not in manifest["raw"]:
        print(
            f"wps: {path} is not in the manifest of the last run; run the workflow, or check "
            "the path (it is relative to the repository, e.g. results/briefs/2025/x.html)",
            file=sys.stderr,
        )
        return 2
    if args.finding is None:
        _print_chain(manifest, path)
        return 0

    import yaml

    findings_path = _findings_file(args.results, Path(path))
    if not findings_path.is_file():
        print(f"wps: no findings file {findings_path} for {path}", file=sys.stderr)
        return 2
    findings = yaml.safe_load(findings_path.read_text(encoding="utf-8"))
    finding = _find(findings, args.finding)
    if finding is None:
        print(
            f"wps: no finding '{args.finding}' in {findings_path}; "
            f"keys: {', '.join(_keys(findings))}",
            file=sys.stderr,
        )
        return 2
    source = finding.get("source") or {}
    table = display_path(root / str(source.get("table", "")), root)
    text, value = finding.get("text"), finding.get("value")
    shown = f"{text} (value {value})" if text is not None and value is not None else text
    print(f"finding {args.finding} in {display_path(findings_path, root)}: {shown or value}")
    row, column = source.get("row"), source.get("column")
    cell = _cell(root / table, row, str(column)) if (root / table).is_file() else "(table gone)"
    print(f"  source: {table}, row {row!r}, column {column!r}: {cell}")
    if table in manifest["outputs"]:
        _print_chain(manifest, table)
    else:
        print(f"  {table} is not an output in the manifest: no lineage recorded")
        return 1
    return 0


register(
    Command(
        "trace",
        "show the chain of jobs from raw data to a brief or finding: files with hashes, each "
        "job's parameters (its plan entry), software versions and code",
        _trace_arguments,
        _trace,
    )
)


# --- wps example-data -----------------------------------------------------------------------


def _example_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("data/raw"), help="output folder (default: data/raw)"
    )


def _example_data(args: argparse.Namespace) -> int:
    from analysis.synth import generate_all

    for path in generate_all(args.out):
        print(path)
    return 0


register(
    Command(
        "example-data",
        "write the bundled SYNTHETIC datasets, codebooks and checksums from fixed seeds",
        _example_data_arguments,
        _example_data,
    )
)


# --- entry point ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    _load_plugins()
    parser = argparse.ArgumentParser(
        prog="wps", description="wps-evidence: provenance and tools for the pipeline's results"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in sorted(COMMANDS):
        command = COMMANDS[name]
        child = sub.add_parser(name, help=command.help, description=command.help)
        command.add_arguments(child)
        child.set_defaults(_run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `wps`; returns the exit code (0 when all is well)."""
    args = build_parser().parse_args(argv)
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
