"""What a researcher should read at the end of a run, printed once on the console: every job
that failed (with where its log is) and every warning about the data (quarantined rows, columns
left out, codebook fields absent from a wave, missing codes the codebook lacks, quotes whose
review no longer applies).

Failures come from the `.failed` notes a failing job leaves beside its log
(analysis.provenance.record); warnings from the validation reports in results/quarantine/
and the quote review sheets (analysis.interviews.review).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from analysis.interviews.review import review_warnings

FAILED_SUFFIX = ".failed"


def clear_failure_notes(results: str | Path) -> None:
    """Forget the failures of earlier runs (a run starts: what fails again says so again)."""
    logs = Path(results) / "logs"
    if logs.is_dir():
        for path in logs.rglob(f"*{FAILED_SUFFIX}"):
            path.unlink(missing_ok=True)


def failure_notes(results: Path) -> list[str]:
    """One line per job whose last run failed."""
    logs = results / "logs"
    if not logs.is_dir():
        return []
    return [
        path.read_text(encoding="utf-8").strip() for path in sorted(logs.rglob(f"*{FAILED_SUFFIX}"))
    ]


def data_warnings(results: Path) -> list[str]:
    """One line per warning of every wave's validation report."""
    lines: list[str] = []
    for path in sorted((results / "quarantine").rglob("*.report.json")):
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        where = f"{report.get('dataset', '?')}: {report.get('file', path.name)}"
        quarantined = int(report.get("rows_quarantined") or 0)
        if quarantined:
            by_rule = sorted((report.get("problems_by_rule") or {}).items())
            rules = ", ".join(f"{rule} ({n})" for rule, n in by_rule)
            lines.append(
                f"{where}: {quarantined} of {report.get('rows_in')} rows quarantined"
                + (f" ({rules})" if rules else "")
                + f"; see {path.with_suffix('').with_suffix('.csv')}"
            )
        lines += [f"{where}: {warning}" for warning in report.get("warnings") or []]
    return lines + review_warnings(results)


def run_summary(results: Path) -> str:
    """The end-of-run summary ('' when there is nothing to say)."""
    failures, warnings = failure_notes(results), data_warnings(results)
    parts = []
    if failures:
        parts.append(f"{len(failures)} job(s) failed; the others ran:")
        parts += [f"  - {line}" for line in failures]
    if warnings:
        parts.append("Warnings about the data:")
        parts += [f"  - {line}" for line in warnings]
    return "\n".join(parts)


def print_run_summary(results: str | Path) -> None:
    """Print the summary on the console (stderr), when there is something to say."""
    summary = run_summary(Path(results))
    if summary:
        print(summary, file=sys.stderr)
