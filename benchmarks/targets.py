"""The issue's targets, checked against results: met, missed (and by how much), or not measured."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from benchmarks.edits import EDITS
from benchmarks.iteration import CHANGES

TARGET_ROWS = 1_000_000  # the scale targets are about this size
TARGET_CORES = 2  # the targets are set for a 2-core machine
GB = 1024.0  # MB in a GB (peaks are measured in MiB)


@dataclass(frozen=True)
class Target:
    """One goal: ``measured <op> limit`` where op is ``<`` or ``<=``."""

    id: str
    what: str
    limit: float
    op: str
    unit: str

    def goal(self) -> str:
        """The goal as text, e.g. ``< 3 s``."""
        return f"{self.op} {_fmt(self.limit)} {self.unit}".strip()

    def check(self, measured: float | None) -> dict[str, Any]:
        """The target row of results.json for a measured value (None: not measured)."""
        row: dict[str, Any] = {
            "id": self.id,
            "what": self.what,
            "goal": self.goal(),
            "limit": self.limit,
            "unit": self.unit,
            "measured": measured,
            "status": "not measured",
            "missed_by": None,
            "missed_by_pct": None,
        }
        if measured is None:
            return row
        ok = measured < self.limit if self.op == "<" else measured <= self.limit
        row["status"] = "met" if ok else "missed"
        if not ok:
            row["missed_by"] = round(measured - self.limit, 3)
            if self.limit:
                row["missed_by_pct"] = round(100 * (measured - self.limit) / self.limit, 1)
        return row


def _fmt(x: float) -> str:
    return f"{x:g}"


def _get(tree: dict[str, Any], *path: str) -> Any:
    """``tree[p0][p1]...`` or None where any step is missing."""
    node: Any = tree
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target row, in the issue's order."""
    wf = results.get("workflow", {})
    big = _get(results, "scale", "sizes", str(TARGET_ROWS), "stages") or {}
    ivc = big.get("ingest_validate_clean", {})
    rows = [
        Target("make_run_noop", "`make run` with nothing changed", 2, "<", "s").check(
            _get(wf, "make_run_noop_s", "median")
        ),
        Target(
            "make_run_to_noop",
            "`make run` with nothing changed, against the workflow's own no-op",
            1.3,
            "<=",
            "x no-op",
        ).check(_get(wf, "make_run_to_noop_ratio", "median")),
        Target("noop_rerun", "The workflow's own no-op (`snakemake`)", 3, "<", "s").check(
            _get(wf, "noop_rerun_s", "median")
        ),
        *edit_rows(wf),
        Target(
            "new_wave_rerun",
            "Rerun after a new wave file, as a share of a cold run",
            0.40,
            "<=",
            "x cold",
        ).check(_get(wf, "new_wave_to_cold_ratio", "median")),
        *notebook_rows(wf),
        Target(
            "ivc_1m_time",
            "1,000,000 rows: ingest + validate + clean, as a multiple of the floor (this turn)",
            3,
            "<=",
            "x floor",
        ).check(ivc.get("ratio_to_floor")),
        Target(
            "ivc_1m_time_later",
            "1,000,000 rows: ingest + validate + clean (the goal after this turn)",
            2,
            "<=",
            "x floor",
        ).check(ivc.get("ratio_to_floor")),
        Target(
            "ivc_1m_memory",
            "1,000,000 rows: peak memory of ingest, validate and clean",
            4 * GB,
            "<",
            "MB",
        ).check(_get(ivc, "peak_rss_mb", "median")),
        Target("models_1m_time", "1,000,000 rows: the plan's models", 60, "<", "s").check(
            _get(big, "models", "seconds", "median")
        ),
    ]
    briefs = _get(results, "render", "briefs") or {}
    if not briefs:
        rows.append(Target("render", "Each brief, each format (pandoc)", 3, "<", "s").check(None))
    for brief in sorted(briefs):
        for fmt in sorted(briefs[brief]):
            target = Target(f"render_{brief}_{fmt}", f"Brief {brief}, {fmt} (pandoc)", 3, "<", "s")
            rows.append(target.check(briefs[brief][fmt]["median"]))
    return rows


def edit_rows(wf: dict[str, Any]) -> list[dict[str, Any]]:
    """Per plan or words edit: no brief rendered again whose numbers and words did not change."""
    rows = []
    for edit in EDITS:
        needless = _get(wf, "changes", edit.id, "briefs_rendered_needlessly")
        rows.append(
            Target(
                f"needless_renders_{edit.id}",
                f"{edit.what}: briefs rendered again with unchanged numbers and words",
                0,
                "<=",
                "briefs",
            ).check(None if needless is None else len(needless))
        )
    return rows


def notebook_rows(wf: dict[str, Any]) -> list[dict[str, Any]]:
    """Per kind of change: the workflow's rerun costs less than the notebook's full run."""
    return [
        Target(
            f"notebook_{change.id}",
            f"{change.what}: the workflow's rerun against the notebook (everything again)",
            1,
            "<",
            "x notebook",
        ).check(_get(wf, "changes", change.id, "rerun_to_notebook_ratio", "median"))
        for change in CHANGES
    ]
