"""Findings: every number a brief prints, formatted, with the table cell it came from.

A brief never computes: it prints the `text` of a finding. Each finding keeps the raw `value`
and a `source` (table path, the row's identifying columns, the column) so a reviewer, or
`wps trace`, can walk from the printed number to the table cell and on to the raw files.
Every estimate passes disclosure control (analysis.disclosure) before it becomes a finding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import yaml

from analysis.disclosure import protect_estimates
from analysis.errors import WpsInputError

SUPPRESSED = "suppressed"
DASH = "–"


def percent(value: float | None, digits: int = 0) -> str:
    """0.1423 -> '14%' ('14.2%' with digits=1); missing -> 'suppressed'."""
    if value is None or pd.isna(value):
        return SUPPRESSED
    if digits:
        return f"{100 * float(value):.{digits}f}%"
    return f"{round(100 * float(value)):d}%"


def percent_range(low: float | None, high: float | None) -> str:
    """A 95% CI of a proportion as '12–16%'."""
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return SUPPRESSED
    return f"{round(100 * float(low)):d}{DASH}{round(100 * float(high)):d}%"


def number(value: float | None, digits: int = 1) -> str:
    """A plain number with fixed decimals; minus as a real minus sign."""
    if value is None or pd.isna(value):
        return SUPPRESSED
    text = f"{float(value):.{digits}f}"
    return text.replace("-", "−") if not text.startswith("-0.0") else text.lstrip("-")


def signed(value: float | None, digits: int = 1) -> str:
    """A number with its sign: +3.9, −0.4."""
    if value is None or pd.isna(value):
        return SUPPRESSED
    text = number(value, digits)
    return text if text.startswith("−") or float(text) == 0 else f"+{text}"


def number_range(low: float | None, high: float | None, digits: int = 2) -> str:
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return SUPPRESSED
    return f"{number(low, digits)}{DASH}{number(high, digits)}"


def points(value: float | None, digits: int = 0) -> str:
    """A change in percentage points with its sign: +3 points, −2 points."""
    if value is None or pd.isna(value):
        return SUPPRESSED
    pts = round(100 * float(value), digits)
    sign = "+" if pts > 0 else ("−" if pts < 0 else "±")
    unit = "point" if abs(pts) == 1 and digits == 0 else "points"
    return f"{sign}{abs(pts):.{digits}f} {unit}"


def change(now: pd.Series, then: pd.Series) -> tuple[float | None, bool | None]:
    """Difference of two independent survey estimates (rows with estimate, se) and whether its
    95% interval (normal, SEs combined) excludes zero; (None, None) when either is withheld."""
    values = [now.get("estimate"), then.get("estimate"), now.get("se"), then.get("se")]
    if any(v is None or pd.isna(v) for v in values):
        return None, None
    diff = float(now["estimate"]) - float(then["estimate"])
    half = 1.96 * math.hypot(float(now["se"]), float(then["se"]))
    return diff, abs(diff) > half


def change_text(diff: float | None, significant: bool | None) -> str:
    """'+19.4 points' or '−0.8 points, within sampling error'."""
    if diff is None:
        return SUPPRESSED
    text = points(diff, 1)
    return text if significant else f"{text}, within sampling error"


def count(value: float | None, threshold: int) -> str:
    """A count of people as printed: '37', or 'fewer than 5' when under the threshold."""
    if value is None or pd.isna(value):
        return SUPPRESSED
    n = int(value)
    if 0 < n < threshold:
        return f"fewer than {threshold}"
    return f"{n:,}"


def with_cell_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `disclosure_n`, the unweighted count an estimate's publication rests on.

    For a proportion it is the smallest of the group's officers (`n`), those in the level
    (`n_level`) and those not in it (`n - n_level`): neither a small group nor a rare answer
    is published, nor a near-universal one whose few exceptions 100% minus it would reveal.
    For a mean or total it is `n`.
    """
    n = frame["n"].astype("Float64")
    level = frame["n_level"].astype("Float64") if "n_level" in frame else n
    rest = (n - level).where(level.notna())
    smallest = pd.concat([n, level, rest], axis=1).min(axis=1, skipna=True).fillna(n)
    return frame.assign(disclosure_n=smallest.astype("Int64"))


def protect_for_brief(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The one disclosure-control pass an estimates table gets before a brief (text, table or
    figure) uses it: values resting on fewer than `threshold` officers become missing."""
    return protect_estimates(with_cell_counts(frame), threshold=threshold, n_col="disclosure_n")


def is_withheld(text: Any) -> bool:
    """True for a printed value that disclosure control withheld ('suppressed', 'fewer than 5')."""
    return isinstance(text, str) and (text == SUPPRESSED or text.startswith("fewer than "))


def plain(value: Any) -> Any:
    """A YAML-safe Python scalar (numpy and pandas scalars become float/int/str; NA -> None)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 10)
    return value


@dataclass
class FindingsBook:
    """Collects a brief's findings, tables and figures, and counts suppressed cells."""

    brief: str
    wave: str
    threshold: int
    interview_threshold: int = 5
    #: who the survey's estimates rest on, as the disclosure note names them
    respondents: str = "respondents"
    #: whether the brief prints counts of interviewees (and so their rule in the note)
    counts_interviewees: bool = False
    findings: dict[str, dict] = field(default_factory=dict)
    tables: dict[str, dict] = field(default_factory=dict)
    figures: dict[str, dict] = field(default_factory=dict)
    sections: dict[str, dict] = field(default_factory=dict)
    suppressed_cells: int = 0
    lonely_cells: int = 0  # figures resting on a stratum with a single sampled cluster

    def protect(self, frame: pd.DataFrame, threshold: int | None = None) -> pd.DataFrame:
        """The one disclosure-control pass every estimate table gets before a brief uses it."""
        return protect_for_brief(frame, threshold or self.threshold)

    def add(
        self,
        key: str,
        value: Any,
        text: str,
        source: Mapping[str, Any],
        withheld: bool | None = None,
    ) -> str:
        """A finding; `withheld` (default: the text says so) counts it as withheld."""
        if key in self.findings:
            raise ValueError(f"finding '{key}' defined twice for brief {self.brief}")
        self.findings[key] = {"value": plain(value), "text": text, "source": dict(source)}
        if is_withheld(text) if withheld is None else withheld:
            self.suppressed_cells += 1
        elif source.get("lonely_strata"):
            self.lonely_cells += 1
        return text

    def add_section(self, name: str, markdown: str, sources: list[Mapping[str, Any]]) -> str:
        """A block of authored words with findings filled in (empty when it does not apply);
        the brief includes it as `_sections/<name>.md`."""
        if name in self.sections:
            raise ValueError(f"section '{name}' defined twice for brief {self.brief}")
        self.sections[name] = {"markdown": markdown, "source": {"derived_from": sources}}
        return markdown

    def add_text(self, key: str, text: str, sources: list[Mapping[str, Any]]) -> str:
        """A sentence assembled from other findings (e.g. a change between waves)."""
        if key in self.findings:
            raise ValueError(f"finding '{key}' defined twice for brief {self.brief}")
        self.findings[key] = {"value": None, "text": text, "source": {"derived_from": sources}}
        return text

    def add_table(
        self,
        name: str,
        caption: str,
        columns: list[str],
        rows: list[list[str]],
        note: str = "",
        source: str = "",
        widths: list[int] | None = None,
        align: str | None = None,
    ) -> None:
        """A ready table; `widths` (relative column widths) and `align` ('l'/'r' per column)
        are layout hints for the renderer."""
        self.suppressed_cells += sum(is_withheld(cell) for row in rows for cell in row)
        self.tables[name] = {
            "caption": caption,
            "columns": columns,
            "rows": rows,
            "note": note,
            "source": source,
        }
        if widths is not None:
            self.tables[name]["widths"] = list(widths)
        if align is not None:
            self.tables[name]["align"] = align

    def add_figure(self, name: str, paths: Mapping[str, str], alt: str, caption: str) -> None:
        self.figures[name] = {
            "path": paths["svg"],
            "png": paths["png"],
            "alt": alt,
            "caption": caption,
        }

    def suppressed_note(self) -> str:
        """The methods box's sentence on disclosure control, with this brief's count."""
        rule = (
            f"estimates resting on fewer than {self.threshold} {self.respondents} are shown as "
            f"“{SUPPRESSED}”"
        )
        if self.counts_interviewees:
            rule += (
                f", and counts of fewer than {self.interview_threshold} interviewees "
                f"as “fewer than {self.interview_threshold}”"
            )
        n = self.suppressed_cells
        if n == 0:
            note = f"No figure in this brief needed to be withheld ({rule})."
        else:
            figures = "figure was" if n == 1 else "figures were"
            note = f"To protect respondents, {n} {figures} withheld in this brief: {rule}."
        if self.lonely_cells:
            some = "figure rests" if self.lonely_cells == 1 else "figures rest"
            note += (
                f" {self.lonely_cells} {some} on a stratum with a single sampled cluster: "
                "its variance follows the plan's lonely_psu rule and is less certain."
            )
        return note

    def to_dict(self, title: str, source_date_epoch: int, provenance: Mapping) -> dict:
        return {
            "brief": self.brief,
            "wave": self.wave,
            "title": title,
            "source_date_epoch": int(source_date_epoch),
            "suppressed_cells": self.suppressed_cells,
            "suppressed_note": self.suppressed_note(),
            "provenance": dict(provenance),
            "findings": dict(sorted(self.findings.items())),
            "tables": self.tables,
            "figures": self.figures,
            "sections": self.sections,
        }


def to_yaml(data: Mapping) -> str:
    """Deterministic YAML (insertion order kept; unicode as is)."""
    return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100)


class MissingRow(WpsInputError, KeyError):
    """A brief quotes a table row that the table does not have (or has more than once)."""


def table_row(frame: pd.DataFrame, table: str, match: Mapping[str, Any]) -> tuple[pd.Series, dict]:
    """The one row of a table whose columns equal `match` (as text), and its source locator:
    the one row locator every brief uses."""
    mask = pd.Series(True, index=frame.index)
    for column, value in match.items():
        if column not in frame:
            raise MissingRow(
                f"a brief quotes a row by column '{column}', which the table does not have",
                file=table,
                hint=f"the table's columns are: {', '.join(map(str, frame.columns))}.",
            )
        mask &= frame[column].astype("string").fillna("") == str(value)
    rows = frame.loc[mask]
    if len(rows) != 1:
        key, value = next(iter(match.items()))
        present = sorted({str(v) for v in frame[key].dropna().unique()})
        raise MissingRow(
            f"a brief quotes the row {dict(match)}, and the table has {len(rows)} such rows",
            file=table,
            hint=f"the {key} values it has are: {', '.join(present[:30]) or 'none'}. A brief "
            "quotes the rows its declaration (reports/<kind>/numbers.yaml) names: declare rows "
            "your plan makes, or set brief_dataset to null in config/config.yaml to make only "
            "each survey's default brief.",
        )
    return rows.iloc[0], {"table": table, "row": dict(match)}


def estimate_row(
    frame: pd.DataFrame,
    table: str,
    *,
    estimate_id: str,
    group_var: str = "(overall)",
    group_value: str = "(overall)",
    level: str | None = None,
) -> tuple[pd.Series, dict]:
    """The one row of a stacked estimates table that matches, and its source locator."""
    match = {"estimate_id": estimate_id, "group_var": group_var, "group_value": group_value}
    if level is not None:
        match["level"] = level
    row, source = table_row(frame, table, match)
    lonely = row.get("lonely_strata")
    if lonely is not None and pd.notna(lonely) and int(lonely) > 0:
        source["lonely_strata"] = int(lonely)  # the brief's methods box says so
    return row, source
