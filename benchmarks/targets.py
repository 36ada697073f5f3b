"""The issue's targets, checked against results: met, missed (and by how much), or not measured."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    rows = [
        Target("noop_rerun", "No-op rerun (nothing changed)", 3, "<", "s").check(
            _get(wf, "noop_rerun_s", "median")
        ),
        Target(
            "new_wave_rerun",
            "Rerun after a new wave file, as a share of a cold run",
            0.40,
            "<=",
            "x cold",
        ).check(_get(wf, "new_wave_to_cold_ratio", "median")),
        Target(
            "ivc_1m_time",
            "1,000,000 rows: ingest + validate + clean, as a multiple of the floor",
            2,
            "<=",
            "x floor",
        ).check(_get(big, "ingest_validate_clean", "ratio_to_floor")),
        Target(
            "ivc_1m_memory",
            "1,000,000 rows: peak memory of ingest, validate and clean",
            4 * GB,
            "<",
            "MB",
        ).check(_get(big, "ingest_validate_clean", "peak_rss_mb", "median")),
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
