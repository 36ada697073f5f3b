"""Section kinds a brief's declaration may list: everything that is not one number.

One registry (SECTION_KINDS) names each kind with its builder, the schema of its settings and
the finding keys it provides (so a document's {{< var >}} can be checked against the
declaration). Builders are generic: what a brief shows comes from its declaration's settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pandas as pd

from analysis.errors import WpsInputError
from analysis.findings.book import (
    SUPPRESSED,
    change,
    change_text,
    count,
    estimate_row,
    number,
    number_range,
    percent,
    percent_range,
    table_row,
)
from analysis.findings.context import ContextFindings
from analysis.findings.declaration import Declaration
from analysis.findings.inputs import as_mapping
from analysis.findings.programme_results import ProgrammeResults
from analysis.findings.words import join_words
from analysis.interviews.quotes import brief_speaker
from analysis.interviews.reliability import ALL_CODES, RELIABLE, TENTATIVE

if TYPE_CHECKING:
    from analysis.findings.declared import DeclaredBrief

Spec = Mapping[str, Any]
TERM = re.compile(r"^C\((?P<var>[^,)]+)[^)]*\)\[T\.(?P<level>.*)\]$")
REFERENCE = re.compile(r"\{reference\.(\w+)\}")
ALL = "All"  # the interview tables' row for everyone


@dataclass(frozen=True)
class SectionKind:
    """A registered section kind: how to build it, its settings' schema, the keys it adds."""

    build: Callable[[DeclaredBrief, Spec], None]
    settings: dict[str, Any]
    provides: Callable[[Spec], list[str]] = lambda spec: []


def _schema(required: list[str], **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["kind", *required],
        "additionalProperties": False,
        "properties": {"kind": {"type": "string"}, "needs": {}, **properties},
    }


STRING = {"type": "string"}
STRINGS = {"type": "array", "items": STRING}
WORDS = {"type": "object", "additionalProperties": STRING}
GROUP = {"type": "object", "additionalProperties": {"type": ["string", "integer", "boolean"]}}


# -- tables ------------------------------------------------------------------------------------
ESTIMATE_COLUMNS = {
    "group": lambda r: str(r["group_value"]),
    "percent": lambda r: percent(r["estimate"]),
    "percent_range": lambda r: percent_range(r["ci_low"], r["ci_high"]),
    "number": lambda r: number(r["estimate"], 1),
    "range": lambda r: number_range(r["ci_low"], r["ci_high"], 1),
    "n": lambda r: f"{int(r['n']):,}",
}


def estimate_table(brief: DeclaredBrief, spec: Spec) -> None:
    """One estimate by one breakdown, a row per group (sorted by the group's name)."""
    key = f"table {spec['name']}"
    estimate = brief.estimates_of(key, spec["estimate"])
    # default: level "1" of a proportion; a mean or total has no level (written "")
    level = str(spec.get("level", "1" if estimate["level"].notna().any() else ""))
    rows = estimate[
        (estimate["group_var"] == spec["by"])
        & (estimate["level"].astype("string").fillna("") == level)
    ].sort_values("group_value", kind="stable")
    if rows.empty:
        breakdowns = sorted(set(estimate["group_var"].astype(str)))
        raise brief.error(
            key,
            f"estimate '{spec['estimate']}' has no level {level or '(none)'} by '{spec['by']}'",
            hint=f"its breakdowns are: {', '.join(breakdowns)}.",
        )
    brief.book.add_table(
        spec["name"],
        spec["caption"],
        [c["header"] for c in spec["columns"]],
        [[ESTIMATE_COLUMNS[c["show"]](row) for c in spec["columns"]] for _, row in rows.iterrows()],
        note=spec.get("note", ""),
        source=brief.tables.path("estimates"),
    )


def ratio_columns(row: pd.Series) -> tuple[str, str, str]:
    """The value and interval columns a model's terms table reports: a ratio where the family
    has one, else the coefficient."""
    for ratio, low, high in (
        ("odds_ratio", "or_ci_low", "or_ci_high"),
        ("rate_ratio", "rr_ci_low", "rr_ci_high"),
    ):
        if ratio in row.index and pd.notna(row[ratio]):
            return ratio, low, high
    return "estimate", "ci_low", "ci_high"


def term_label(term: str, labels: Mapping[str, str], factors: Mapping[str, str]) -> str:
    """How a model term reads in a table: its declared label, or 'Age 30-39' for C(age)[T.30-39]
    when the factor's word is declared, else the term as written."""
    if term in labels:
        return labels[term]
    match = TERM.match(term)
    if match:
        return f"{factors.get(match['var'], match['var'])} {match['level']}"
    return term


def model_table(brief: DeclaredBrief, spec: Spec) -> None:
    """A model's terms as ratios (or coefficients) with 95% CIs and p-values."""
    key = f"table {spec['name']}"
    name = f"model_{spec['model']}"
    terms = brief.model_frame(key, spec["model"])
    card = brief.tables.json(f"card_{spec['model']}")
    skip = set(spec.get("skip", ["Intercept"]))
    rows = []
    for _, row in terms.iterrows():
        if row["term"] in skip:
            continue
        value, low, high = ratio_columns(row)
        rows.append(
            [
                term_label(str(row["term"]), spec.get("labels", {}), spec.get("factors", {})),
                number(row[value], 2),
                number_range(row[low], row[high], 2),
                "<0.001" if row["p"] < 0.001 else number(row["p"], 3),
            ]
        )
    reference = card.get("reference") or {}

    def refer(match: re.Match[str]) -> str:
        if match.group(1) not in reference:
            raise brief.error(
                key,
                f"the card of model '{spec['model']}' names no reference level of {match[1]}",
                hint=f"declare `reference: {{{match[1]}: ...}}` for the model in the plan.",
            )
        return str(reference[match.group(1)])

    brief.book.add_table(
        spec["name"],
        spec["caption"],
        spec["columns"],
        rows,
        note=REFERENCE.sub(refer, spec.get("note", "")),
        source=brief.tables.path(name),
    )


def findings_table(brief: DeclaredBrief, spec: Spec) -> None:
    """A table of findings already made ({finding: key} cells) and words."""
    texts = brief.book.findings

    def cell(value: Any) -> str:
        if isinstance(value, Mapping):
            if value["finding"] not in texts:
                raise brief.error(f"table {spec['name']}", f"no finding '{value['finding']}'")
            return texts[value["finding"]]["text"]
        return str(value)

    rows = [[cell(value) for value in row] for row in spec["rows"]]
    brief.book.add_table(
        spec["name"],
        spec["caption"],
        spec["columns"],
        rows,
        note=spec.get("note", ""),
        source=brief.tables.path(spec.get("source", "estimates")),
        widths=spec.get("widths"),
        align=spec.get("align"),
    )


# -- change between waves ------------------------------------------------------------------------
def wave_changes(brief: DeclaredBrief, spec: Spec) -> None:
    """Findings `<key>_previous`, `<key>_change`, `previous_wave` and the `change_summary`
    sentence for the declared items; a first wave (or no earlier table) gets the declared
    `first_wave` sentence instead."""
    book, previous = brief.book, brief.run.previous_wave
    if previous is None or not brief.tables.has("estimates_previous"):
        book.add_text("change_summary", spec["first_wave"], [])
        return
    parts = []
    for item in spec["items"]:
        key, words = item["key"], item["words"]
        group = as_mapping(item.get("group"))
        locate = {
            "estimate_id": item["estimate"],
            "group_var": "|".join(group) or "(overall)",
            "group_value": "|".join(group.values()) or "(overall)",
            "level": str(item.get("level", "1")),
        }
        row_now, src_now = brief.estimate_cell(f"change {key}", {**item, "group": group})
        before = brief.tables.frame("estimates_previous")
        try:
            row_then, src_then = estimate_row(
                before, brief.tables.path("estimates_previous"), **locate
            )
        except KeyError:
            parts.append(f"{words}: not measured in {previous}")
            continue
        src_now, src_then = {**src_now, "column": "estimate"}, {**src_then, "column": "estimate"}
        book.add(f"{key}_previous", row_then["estimate"], percent(row_then["estimate"]), src_then)
        diff, significant = change(row_now, row_then)
        text = book.add(
            f"{key}_change",
            diff,
            change_text(diff, significant),
            {"derived_from": [src_now, src_then], "column": "estimate, se"},
        )
        levels = f"{percent(row_then['estimate'], 1)} → {percent(row_now['estimate'], 1)}"
        parts.append(f"{words} {levels} ({text})")
    book.add_text("previous_wave", previous, [])
    book.add_text(
        "change_summary",
        f"Change since {previous}: " + "; ".join(parts) + ".",
        [{"finding": f"{item['key']}_change"} for item in spec["items"]],
    )


def wave_change_keys(spec: Spec) -> list[str]:
    keys = ["previous_wave", "change_summary"]
    for item in spec["items"]:
        keys += [f"{item['key']}_previous", f"{item['key']}_change"]
    return keys


# -- interviews ----------------------------------------------------------------------------------
def code_labels(brief: DeclaredBrief, codebook: str) -> dict[str, str]:
    if not brief.tables.has(codebook):
        return {}
    for field in brief.tables.json(codebook).get("fields", []):
        if field.get("name") == "code":
            return {c["value"]: c.get("label", c["value"]) for c in field.get("categories", [])}
    return {}


def reliability(brief: DeclaredBrief, spec: Spec) -> None:
    """The methods box's sentence on inter-coder reliability (finding `reliability_note`,
    empty without a reliability table): overall alpha with its CI, how many codes were
    double-coded, and the codes below the thresholds, by their labels."""
    book, name = brief.book, spec.get("table", "interviews_reliability")
    if not brief.tables.has(name):
        book.add_text("reliability_note", "", [])
        return
    path = brief.tables.path(name)
    table = brief.tables.frame(name)
    overall, src = table_row(table, path, {"code": ALL_CODES})
    codes = table[table["code"].astype(str) != ALL_CODES]
    labels = code_labels(brief, spec.get("codebook", "interviews_codebook"))
    book.add(
        "reliability_alpha",
        overall["alpha"],
        number(overall["alpha"], 2),
        {**src, "column": "alpha"},
    )
    book.add(
        "reliability_alpha_ci",
        None,
        number_range(overall["alpha_low"], overall["alpha_high"], 2),
        {**src, "column": "alpha_low, alpha_high"},
    )
    book.add(
        "reliability_interviews",
        overall["interviews"],
        f"{int(overall['interviews']):,}",
        {**src, "column": "interviews"},
    )
    cited = [{"table": path, "row": {"code": str(c)}, "column": "code"} for c in codes["code"]]
    book.add("reliability_codes", len(codes), f"{len(codes):,}", {"derived_from": cited})
    flagged: dict[str, list[str]] = {}
    for flag in ("unreliable", "tentative"):
        rows = codes[codes["flag"] == flag]
        words = [labels.get(c, str(c)) for c in rows["code"].astype(str)]
        flagged[flag] = words
        book.add(
            f"reliability_{flag}",
            list(rows["code"].astype(str)),
            join_words(words) if words else "none",
            {
                "derived_from": [
                    {"table": path, "row": {"code": str(c)}, "column": "flag"} for c in rows["code"]
                ]
            },
        )
    parts = []
    if flagged["unreliable"]:
        parts.append(f"below {TENTATIVE} (unreliable) for {join_words(flagged['unreliable'])}")
    if flagged["tentative"]:
        parts.append(
            f"between {TENTATIVE} and {RELIABLE} (tentative) for {join_words(flagged['tentative'])}"
        )
    texts = {k: v["text"] for k, v in book.findings.items()}
    sentence = (
        f"Two coders coded {texts['reliability_interviews']} interviews independently for all "
        f"{len(codes)} codes; their agreement, Krippendorff’s alpha, was "
        f"{texts['reliability_alpha']} overall (95% bootstrap interval "
        f"{texts['reliability_alpha_ci']})"
    )
    if parts:
        sentence += (
            ". Alpha was "
            + "; ".join(parts)
            + ": findings resting on these codes should be read with caution."
        )
    else:
        sentence += f", and at least {RELIABLE} for every code."
    book.add_text(
        "reliability_note",
        sentence,
        [{"finding": k} for k in ("reliability_alpha", "reliability_alpha_ci")]
        + [{"finding": f"reliability_{f}"} for f in ("unreliable", "tentative")],
    )


def strongest_pair(brief: DeclaredBrief, spec: Spec) -> None:
    """The two different themes most often raised in the same interview (findings `<key>` and
    `<key>_n`), from a co-occurrence matrix with a Total margin."""
    name, key = spec.get("table", "interviews_theme_cooccurrence"), spec["key"]
    path = brief.tables.path(name)
    matrix = brief.tables.frame(name)
    first = matrix.columns[0]
    matrix = matrix[matrix[first] != "Total"].set_index(first)
    matrix = matrix.drop(columns="Total", errors="ignore")
    best: tuple[float, str, str] | None = None
    for i, a in enumerate(matrix.index):
        for b in matrix.columns[i + 1 :]:
            value = pd.to_numeric(matrix.loc[a, b], errors="coerce")
            if pd.notna(value) and (best is None or value > best[0]):
                best = (float(value), str(a), str(b))
    if best is None:
        brief.book.add(key, None, SUPPRESSED, {"table": path})
        brief.book.add(f"{key}_n", None, SUPPRESSED, {"table": path})
        return
    value, a, b = best
    source = {"table": path, "row": {first: a}, "column": b}
    brief.book.add(key, f"{a} | {b}", f"{a.lower()} and {b.lower()}", source)
    brief.book.add(f"{key}_n", value, count(value, brief.run.interview_threshold), source)


def quote(brief: DeclaredBrief, spec: Spec) -> None:
    """One consented, de-identified quote from the quote bank, chosen by the authors (findings
    quote_text, quote_id, quote_speaker); nothing when no quote is chosen for the brief."""
    quote_id = brief.run.quote_id
    if quote_id is None:
        return
    name = spec.get("table", "quotes")
    path = brief.tables.path(name)
    quotes = brief.tables.frame(name)
    if quote_id not in set(quotes["quote_id"].astype(str)):
        raise WpsInputError(
            f"quote {quote_id} chosen for the {brief.book.brief} brief is not in the quote bank "
            "(no consent, removed by redaction, or not approved by a reviewer for its current "
            "text)",
            dataset="interviews",
            file=path,
            column="quote_id",
            hint="run `wps quotes review` to see each candidate quote's status and how to record "
            "an approval in data/raw/<dataset>/_quote_reviews.csv, or choose a quote ID listed "
            f"in the quote bank in {brief.run.quote_file or 'the brief kind’s text/quotes.yaml'}.",
        )
    row, src = table_row(quotes, path, {"quote_id": quote_id})
    brief.book.add("quote_text", row["quote"], str(row["quote"]), {**src, "column": "quote"})
    brief.book.add("quote_id", quote_id, quote_id, {**src, "column": "quote_id"})
    who = brief_speaker(row)
    brief.book.add("quote_speaker", who, who, {**src, "column": "respondent_type, country"})


# -- models, figures, context, programme results -------------------------------------------------
def model_terms(brief: DeclaredBrief, spec: Spec) -> None:
    """Every term of every model in the plan as a finding (`model_<id>_<term>`), so a model
    added to the plan reaches the findings without a declaration: ratio and CI where the family
    has one, else the coefficient."""
    for name in brief.tables.names("model_"):
        model = name.removeprefix("model_")
        path = brief.tables.path(name)
        for _, row in brief.tables.frame(name).iterrows():
            term = str(row["term"])
            slug = re.sub(r"[^a-z0-9]+", "_", term.lower()).strip("_")
            value, low, high = ratio_columns(row)
            text = f"{number(row[value], 2)} ({number_range(row[low], row[high], 2)})"
            source = {"table": path, "row": {"model_id": model, "term": term}}
            brief.book.add(
                f"model_{model}_{slug}",
                row[value],
                text,
                {**source, "column": f"{value}, {low}, {high}"},
            )


def figures(brief: DeclaredBrief, spec: Spec) -> None:
    """The figures the workflow drew for the wave, with their alt text and captions."""
    for figure in spec["figures"]:
        name = figure["name"]
        paths = {}
        for kind in ("svg", "png", "alt"):
            input_name = f"figure_{name}_{kind}"
            if input_name not in brief.run.figure_paths:
                raise brief.error(
                    f"figure {name}",
                    "the workflow draws no such figure",
                    hint="the figures it draws are: "
                    + ", ".join(
                        sorted(
                            {
                                k.removeprefix("figure_").rsplit("_", 1)[0]
                                for k in brief.run.figure_paths
                                if k.startswith("figure_")
                            }
                        )
                    ),
                )
            paths[kind] = brief.run.figure_paths[input_name]
        alt = Path(paths["alt"]).read_text(encoding="utf-8").strip()
        brief.book.add_figure(name, paths, alt=alt, caption=figure["caption"])


def context(brief: DeclaredBrief, spec: Spec) -> None:
    """Official statistics (UNODC, UNSD) as context: findings context_* and the filled section
    `context` (empty without configured sources)."""
    ContextFindings(brief.book, brief.tables.paths).build()


def programme_results(brief: DeclaredBrief, spec: Spec) -> None:
    """A results framework's headline results: findings programme_* and the section
    `programme_results` (empty without a framework)."""
    ProgrammeResults(brief.book, brief.tables.paths).build()


# -- the registry ------------------------------------------------------------------------------
SECTION_KINDS: dict[str, SectionKind] = {
    "estimate_table": SectionKind(
        estimate_table,
        _schema(
            ["name", "caption", "estimate", "by", "columns"],
            name=STRING,
            caption=STRING,
            estimate=STRING,
            by=STRING,
            level={"type": ["string", "integer"]},
            note=STRING,
            columns={
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["header", "show"],
                    "additionalProperties": False,
                    "properties": {"header": STRING, "show": {"enum": sorted(ESTIMATE_COLUMNS)}},
                },
            },
        ),
    ),
    "model_table": SectionKind(
        model_table,
        _schema(
            ["name", "caption", "model", "columns"],
            name=STRING,
            caption=STRING,
            model=STRING,
            columns={**STRINGS, "minItems": 4, "maxItems": 4},
            labels=WORDS,
            factors=WORDS,
            skip=STRINGS,
            note=STRING,
        ),
    ),
    "findings_table": SectionKind(
        findings_table,
        _schema(
            ["name", "caption", "columns", "rows"],
            name=STRING,
            caption=STRING,
            columns=STRINGS,
            rows={
                "type": "array",
                "items": {
                    "type": "array",
                    "items": {
                        "oneOf": [
                            STRING,
                            {
                                "type": "object",
                                "required": ["finding"],
                                "additionalProperties": False,
                                "properties": {"finding": STRING},
                            },
                        ]
                    },
                },
            },
            note=STRING,
            source=STRING,
            widths={"type": "array", "items": {"type": "integer"}},
            align={"type": "string", "pattern": "^[lrc]+$"},
        ),
    ),
    "wave_changes": SectionKind(
        wave_changes,
        _schema(
            ["items", "first_wave"],
            first_wave=STRING,
            items={
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "estimate", "words"],
                    "additionalProperties": False,
                    "properties": {
                        "key": STRING,
                        "estimate": STRING,
                        "group": GROUP,
                        "level": {"type": ["string", "integer"]},
                        "words": STRING,
                    },
                },
            },
        ),
        wave_change_keys,
    ),
    "interview_reliability": SectionKind(
        reliability,
        _schema([], table=STRING, codebook=STRING),
        lambda spec: ["reliability_*"],
    ),
    "strongest_pair": SectionKind(
        strongest_pair,
        _schema(["key"], key=STRING, table=STRING),
        lambda spec: [spec["key"], f"{spec['key']}_n"],
    ),
    "quote": SectionKind(
        quote,
        _schema([], table=STRING),
        lambda spec: ["quote_text", "quote_id", "quote_speaker"],
    ),
    "model_terms": SectionKind(model_terms, _schema([]), lambda spec: ["model_*"]),
    "figures": SectionKind(
        figures,
        _schema(
            ["figures"],
            figures={
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "caption"],
                    "additionalProperties": False,
                    "properties": {"name": STRING, "caption": STRING},
                },
            },
        ),
    ),
    "context": SectionKind(context, _schema([]), lambda spec: ["context_*"]),
    "programme_results": SectionKind(programme_results, _schema([]), lambda spec: ["programme_*"]),
}


def check_section(declaration: Declaration, index: int, section: Spec) -> None:
    """A declared section's kind is registered and its settings match the kind's schema."""
    where = f"section {index + 1} ({section['kind']})"
    kind = SECTION_KINDS.get(section["kind"])
    if kind is None:
        raise declaration.error(
            where,
            f"there is no section kind '{section['kind']}'",
            hint=f"the kinds are: {', '.join(sorted(SECTION_KINDS))}.",
        )
    errors = list(jsonschema.Draft202012Validator(kind.settings).iter_errors(dict(section)))
    if errors:
        lines = [
            f"{'.'.join(map(str, e.absolute_path)) or 'settings'}: {e.message}" for e in errors[:5]
        ]
        raise declaration.error(where, "; ".join(lines))


def provided_keys(declaration: Declaration) -> list[str]:
    """The finding keys the declaration's sections add (exact, or prefixes ending in '*')."""
    keys: list[str] = []
    for section in declaration.sections:
        keys += SECTION_KINDS[section["kind"]].provides(section)
    return keys
