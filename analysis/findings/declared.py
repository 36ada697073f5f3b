"""The one engine that turns a brief's declaration and its tables into its findings book.

Each declared number is one cell of a table the pipeline wrote: an estimate (by id, level and
group), a model term, a model card's field, or a row of another input table (training gains,
interview tables). The engine finds the row with the one row locator (book.table_row), formats
the cell with the one set of formatters (analysis.findings.book) and records the cell as the
finding's source. Estimates are protected as they are loaded (inputs.BriefTables). Things that
are not one number are the declaration's sections, built by the kinds registered in
analysis.findings.sections.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.findings.book import (
    SUPPRESSED,
    FindingsBook,
    MissingRow,
    count,
    estimate_row,
    is_withheld,
    number,
    number_range,
    percent,
    percent_range,
    plain,
    signed,
    table_row,
)
from analysis.findings.declaration import Declaration, DeclarationError
from analysis.findings.inputs import BriefTables, as_mapping, model_ids
from analysis.findings.words import covariates_sentence
from analysis.survey.design import OVERALL

CROSS = "|"
DEFAULT_FORMAT = {"estimate": "percent", "model": "number", "card": "text", "table": "number"}
DEFAULT_DIGITS = {"number": 1, "signed": 1, "range": 2, "percent": 0}


@dataclass(frozen=True)
class BriefRun:
    """What a brief's findings rest on besides its tables: the wave, the wave before, the
    figure files, the chosen quote and the disclosure thresholds."""

    wave: str
    threshold: int
    interview_threshold: int = 5
    previous_wave: str | None = None
    figure_paths: Mapping[str, str] = field(default_factory=dict)
    quote_id: str | None = None
    quote_file: str = ""
    #: the regional and country briefs: officers, and interviewees counted; a survey's own
    #: declared brief: its respondents, no interviews
    respondents: str = "officers"
    counts_interviewees: bool = True

    def values(self) -> dict[str, str]:
        """The built-in names a declaration may use as {name}."""
        return {
            "wave": self.wave,
            "previous_wave": self.previous_wave or "",
            "threshold": str(self.threshold),
            "threshold_interviews": str(self.interview_threshold),
        }


def source_of(spec: Mapping[str, Any]) -> str:
    """Which kind of source a declared number names."""
    for kind in ("estimate", "model", "card", "table"):
        if kind in spec:
            return kind
    raise ValueError(f"no source in {dict(spec)}")  # the schema makes this unreachable


def needs_met(spec: Mapping[str, Any], tables: BriefTables) -> bool:
    """Whether every input table the item `needs` was given (else it is left out)."""
    needs = spec.get("needs") or []
    return all(tables.has(name) for name in ([needs] if isinstance(needs, str) else needs))


class DeclaredBrief:
    """Builds one brief's findings book from its (bound) declaration."""

    def __init__(
        self, declaration: Declaration, tables: BriefTables, run: BriefRun, brief: str
    ) -> None:
        self.declaration = declaration
        self.tables = tables
        self.run = run
        self.book = FindingsBook(
            brief=brief,
            wave=run.wave,
            threshold=run.threshold,
            interview_threshold=run.interview_threshold,
            respondents=run.respondents,
            counts_interviewees=run.counts_interviewees,
        )

    # -- errors ------------------------------------------------------------------------------
    def error(self, key: str, problem: str, hint: str = "") -> DeclarationError:
        """An error naming the declaration's file and the number (or 'table x', 'figure x')."""
        where = key if " " in key else f"number '{key}'"
        return self.declaration.error(where, problem, hint)

    def table(self, key: str, name: str) -> pd.DataFrame:
        if not self.tables.has(name):
            raise self.error(
                key,
                f"the table '{name}' is not an input of this brief",
                hint=f"the tables it has are: {', '.join(self.tables.names()) or 'none'}.",
            )
        return self.tables.frame(name)

    # -- locating the one row ----------------------------------------------------------------
    def estimates_of(self, key: str, estimate_id: str, table: str = "estimates") -> pd.DataFrame:
        """The rows of one estimate of the plan (an error naming the estimates there are)."""
        frame = self.table(key, table)
        made = sorted(frame["estimate_id"].dropna().astype(str).unique())
        if estimate_id not in made:
            raise self.error(
                key,
                f"the plan makes no estimate '{estimate_id}'",
                hint=f"the estimates of the dataset's plan are: {', '.join(made)}.",
            )
        return frame[frame["estimate_id"].astype(str) == estimate_id]

    def model_frame(self, key: str, model: str) -> pd.DataFrame:
        """The terms table of one model of the plan (an error naming the models there are)."""
        if not self.tables.has(f"model_{model}"):
            raise self.error(
                key,
                f"the plan fits no model '{model}'",
                hint=f"the models of the dataset's plan are: {', '.join(model_ids(self.tables))}.",
            )
        return self.tables.frame(f"model_{model}")

    def estimate_cell(
        self, key: str, spec: Mapping[str, Any], table: str = "estimates"
    ) -> tuple[pd.Series, dict]:
        """The row of an estimates table that a declared estimate names, and its source."""
        frame = self.table(key, table)
        estimate_id = str(spec["estimate"])
        rows = self.estimates_of(key, estimate_id, table)
        group = as_mapping(spec.get("group"))
        group_var = CROSS.join(group) if group else OVERALL
        group_value = CROSS.join(group.values()) if group else OVERALL
        # default: level "1" of a proportion; a mean or total has no level (written "")
        has_levels = bool(rows["level"].notna().any())
        level = str(spec["level"]) if "level" in spec else ("1" if has_levels else "")
        try:
            return estimate_row(
                frame,
                self.tables.path(table),
                estimate_id=estimate_id,
                group_var=group_var,
                group_value=group_value,
                level=level,
            )
        except MissingRow:
            groups = sorted(
                {
                    f"{v}: {g}" if v != OVERALL else OVERALL
                    for v, g in zip(rows["group_var"], rows["group_value"], strict=True)
                }
            )
            levels = sorted(rows["level"].dropna().astype(str).unique())
            raise self.error(
                key,
                f"estimate '{estimate_id}' has no row for level '{level}' and group "
                f"{dict(group) or OVERALL}",
                hint=f"its levels are: {', '.join(levels)}; its groups are: "
                f"{', '.join(groups[:40])}{' ...' if len(groups) > 40 else ''}.",
            ) from None

    def model_cell(self, key: str, spec: Mapping[str, Any]) -> tuple[pd.Series, dict]:
        model, term = str(spec["model"]), str(spec["term"])
        name = f"model_{model}"
        frame = self.model_frame(key, model)
        try:
            row, source = table_row(frame, self.tables.path(name), {"term": term})
        except MissingRow:
            raise self.error(
                key,
                f"model '{model}' has no term '{term}'",
                hint=f"its terms are: {', '.join(map(str, frame['term']))}.",
            ) from None
        return row, {**source, "row": {"model_id": model, "term": term}}

    def card_cell(self, key: str, spec: Mapping[str, Any]) -> tuple[pd.Series, dict]:
        model, name = str(spec["card"]), f"card_{spec['card']}"
        if not self.tables.has(name):
            raise self.error(
                key,
                f"the plan fits no model '{model}' (no model card)",
                hint=f"the models of the dataset's plan are: {', '.join(model_ids(self.tables))}.",
            )
        card = self.tables.json(name)
        if spec["field"] not in card:
            raise self.error(
                key,
                f"the card of model '{model}' has no field '{spec['field']}'",
                hint=f"its fields are: {', '.join(sorted(card))}.",
            )
        row = pd.Series({k: v for k, v in card.items() if not isinstance(v, dict | list)})
        row[spec["field"]] = card[spec["field"]]
        return row, {"table": self.tables.path(name), "row": {"id": card["id"]}}

    def table_cell(self, key: str, spec: Mapping[str, Any]) -> tuple[pd.Series, dict]:
        name = str(spec["table"])
        frame = self.table(key, name)
        path = self.tables.path(name)
        if "row" in spec:
            try:
                return table_row(frame, path, as_mapping(spec["row"]))
            except MissingRow as exc:
                raise self.error(key, exc.problem, exc.hint) from None
        where = as_mapping(spec.get("where"))
        cite = list(spec.get("cite") or where)
        order = [spec["order_by"]] if "order_by" in spec else []
        self.has_columns(key, name, frame, [*where, *cite, *order])
        rows = frame
        for column, value in where.items():
            rows = rows[rows[column].astype("string").fillna("") == value]
        if "order_by" in spec:
            rows = rows.sort_values(spec["order_by"], ascending=False, kind="stable")
        position = int(spec.get("pick", 1))
        if len(rows) < position:
            raise self.error(
                key,
                f"the table '{name}' has {len(rows)} rows where {where}, not {position}",
                hint="declare another row, or leave the number out of the brief.",
            )
        row = rows.iloc[position - 1]
        cited = {c: plain(row[c]) for c in cite}
        try:  # the cited columns must name the picked row alone: its source is one cell
            table_row(frame, path, {c: "" if v is None else v for c, v in cited.items()})
        except MissingRow:
            raise self.error(
                key,
                f"the columns in `cite` ({', '.join(cite)}) name more than one row of '{name}'",
                hint="add the columns that tell the rows apart.",
            ) from None
        return row, {"table": path, "row": cited}

    def has_columns(self, key: str, name: str, frame: pd.DataFrame, columns: list[str]) -> None:
        absent = [c for c in columns if c not in frame.columns]
        if absent:
            raise self.error(
                key,
                f"the table '{name}' has no column {', '.join(map(repr, absent))}",
                hint=f"its columns are: {', '.join(map(str, frame.columns))}.",
            )

    def cell(self, key: str, spec: Mapping[str, Any]) -> tuple[pd.Series, dict]:
        kind = source_of(spec)
        return {
            "estimate": self.estimate_cell,
            "model": self.model_cell,
            "card": self.card_cell,
            "table": self.table_cell,
        }[kind](key, spec)

    # -- formatting --------------------------------------------------------------------------
    def labels(self, key: str, name: str, column: str) -> dict[str, str]:
        """Value labels of a column from a cleaned codebook (Table Schema) input."""
        if not self.tables.has(name):
            raise self.error(key, f"the codebook '{name}' is not an input of this brief")
        for spec in self.tables.json(name).get("fields", []):
            if spec.get("name") == column:
                return {
                    str(c["value"]): str(c.get("label", c["value"]))
                    for c in spec.get("categories") or []
                }
        return {}

    def text(self, key: str, spec: Mapping[str, Any], row: pd.Series, column: str) -> str:
        fmt = spec.get("format") or DEFAULT_FORMAT[source_of(spec)]
        digits = int(spec.get("digits", DEFAULT_DIGITS.get(fmt, 1)))
        if "columns" in spec:
            low, high = (self.column(key, row, c) for c in spec["columns"])
            if fmt == "percent_range":
                return percent_range(low, high)
            if fmt != "range":
                raise self.error(key, f"format '{fmt}' prints one column, not two (`columns`)")
            text = number_range(low, high, digits)
            caveat = spec.get("caveat")
            if caveat and str(row.get(caveat["column"])) == caveat["when"]:
                note = row.get(caveat.get("note", ""), None)
                note = str(note) if note is not None and pd.notna(note) and note else ""
                text = f"{text}, {caveat['when']}: {note or caveat.get('otherwise', '')}"
            return text
        value = self.column(key, row, column, absent_ok="missing" in spec)
        if fmt in ("range", "percent_range"):
            raise self.error(key, f"format '{fmt}' needs two columns (`columns: [low, high]`)")
        if value is None or pd.isna(value):
            return SUPPRESSED
        match fmt:
            case "percent":
                return percent(value, digits if "digits" in spec else 0)
            case "number":
                return number(value, digits)
            case "signed":
                return signed(value, digits)
            case "integer":
                return f"{int(value):,}"
            case "count":
                limit = self.run.threshold
                if spec.get("threshold", "interviews") == "interviews":
                    limit = self.run.interview_threshold
                return count(value, limit)
            case "label":
                labels = self.labels(key, str(spec.get("labels", "")), column)
                return self.case(spec, labels.get(str(value), str(value)))
            case "covariates":
                exposure = str(spec.get("exposure", ""))
                return covariates_sentence(str(value), exposure, self.declaration.words)
            case _:  # text
                return self.case(spec, str(value))

    @staticmethod
    def case(spec: Mapping[str, Any], text: str) -> str:
        return text.lower() if spec.get("case") == "lower" else text

    def column(self, key: str, row: pd.Series, column: str, absent_ok: bool = False) -> Any:
        """The row's cell in `column` (None for an absent column the declaration words as
        `missing`; else an error naming the columns there are)."""
        if column not in row.index and absent_ok:
            return None
        if column not in row.index:
            raise self.error(
                key,
                f"the row has no column '{column}'",
                hint=f"its columns are: {', '.join(map(str, row.index))}.",
            )
        return row[column]

    # -- building ----------------------------------------------------------------------------
    def add_number(self, key: str, spec: Mapping[str, Any]) -> str:
        """One declared number: its cell, printed, with the cell as its source."""
        row, source = self.cell(key, spec)
        kind = source_of(spec)
        column = spec.get("column") or (spec["field"] if kind == "card" else "estimate")
        text = self.text(key, spec, row, column)
        withheld = is_withheld(text)
        if text == SUPPRESSED and not bool(row.get("suppressed", False)) and "missing" in spec:
            text, withheld = str(spec["missing"]), False  # no value in the table: not withheld
        elif withheld and "suppressed" in spec:
            text = str(spec["suppressed"])
        value = None if "columns" in spec else row.get(column)
        columns = ", ".join(spec["columns"]) if "columns" in spec else column
        if "caveat" in spec and str(row.get(spec["caveat"]["column"])) == spec["caveat"]["when"]:
            columns += f", {spec['caveat']['column']}"
        return self.book.add(key, value, text, {**source, "column": columns}, withheld)

    def build(self) -> FindingsBook:
        from analysis.findings.sections import SECTION_KINDS

        for key, spec in self.declaration.numbers.items():
            if needs_met(spec, self.tables):
                self.add_number(key, spec)
        for spec in self.declaration.sections:
            if needs_met(spec, self.tables):
                SECTION_KINDS[spec["kind"]].build(self, spec)
        return self.book


def build_brief(
    declaration: Declaration,
    paths: Mapping[str, str],
    run: BriefRun,
    *,
    brief: str,
    parameters: Mapping[str, str] | None = None,
) -> tuple[FindingsBook, str]:
    """A brief's findings book and title, from its declaration, its input tables by name and
    its parameters (a country brief: {'country': ...})."""
    bound = declaration.bind({**run.values(), **(parameters or {})})
    tables = BriefTables(paths, threshold=run.threshold)
    return DeclaredBrief(bound, tables, run, brief).build(), bound.title


def brief_parameters(
    declaration: Declaration, plan: Mapping[str, Any] | None, brief: str
) -> dict[str, str]:
    """The values of a declaration's parameters for one brief: the fields of the brief's entry
    in the wave's brief plan (a country brief's entry gives `country`)."""
    if not declaration.parameters:
        return {}
    entries = [*(plan or {}).get("briefs", []), *(plan or {}).get("notes", [])]
    entry = next((e for e in entries if e.get("slug") == brief), None)
    if entry is None:
        raise declaration.error(
            "parameters",
            f"the brief '{brief}' has no entry in the wave's brief plan to take "
            f"{', '.join(declaration.parameters)} from",
        )
    absent = [p for p in declaration.parameters if p not in entry]
    if absent:
        raise declaration.error(
            "parameters",
            f"the brief plan's entry for '{brief}' has no {', '.join(absent)}",
            hint=f"its fields are: {', '.join(sorted(entry))}.",
        )
    return {p: str(entry[p]) for p in declaration.parameters}
