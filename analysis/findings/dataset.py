"""The default brief of any survey dataset: what its plan estimates and fits, with no
declaration and no code from its user.

For one wave of a dataset it reads the plan's estimates table, each model's terms table, card
and figure, and the cleaned codebook (titles and value labels), and writes a findings book:
key messages (each estimate's overall figure), one table per estimate by each breakdown, one
table and figure per model with a plain-language reading, and a methods box naming the design.
Every estimate passes the one disclosure-control pass (FindingsBook.protect) before it is
printed; numbers are formatted by analysis.findings.book only. The brief's words and layout are the
Quarto document reports/survey/survey.qmd, which includes the sections made here; a section
includes its tables and figures by paths relative to itself (`../_tables/...`), as Quarto
resolves a nested include from the file that holds it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.findings.book import (
    FindingsBook,
    count,
    number,
    number_range,
    percent,
    percent_range,
)
from analysis.markdown import escape_md
from analysis.survey.design import UNWEIGHTED
from analysis.tables import level_text

KIND = "survey"
OVERALL = "(overall)"
CROSS = "|"
BINARY_EVENTS = ("1", "True", "true", "Yes", "yes")
KEY_MESSAGES_MAX = 6
LONELY_MARK = "†"
TERM = re.compile(r"^C\((?P<var>[^,)]+)[^)]*\)\[T\.(?P<level>.*)\]$")
FACTOR = re.compile(r"^C\((?P<var>[^,)]+)[^)]*\)$")


@dataclass(frozen=True)
class Labels:
    """Variable titles and value labels from a cleaned codebook (Frictionless Table Schema)."""

    titles: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    dataset_title: str = ""

    @classmethod
    def from_codebook(cls, codebook: Mapping[str, Any]) -> Labels:
        titles: dict[str, str] = {}
        values: dict[str, dict[str, str]] = {}
        for spec in codebook.get("fields", []):
            name = str(spec["name"])
            if spec.get("title"):
                titles[name] = str(spec["title"])
            coded = {
                level_text(c["value"]): str(c["label"])
                for c in spec.get("categories") or []
                if isinstance(c, Mapping) and "value" in c and "label" in c
            }
            if coded:
                values[name] = coded
        return cls(titles, values, str(codebook.get("title") or ""))

    def title(self, variable: str) -> str:
        """The variable's title, without the ' (label)' the cleaning step adds to label columns."""
        return self.titles.get(variable, variable).removesuffix(" (label)")

    def value(self, variable: str, code: Any) -> str:
        return self.values.get(variable, {}).get(level_text(code), str(code))


@dataclass(frozen=True)
class ModelInputs:
    """One fitted model of the plan: its terms table, card and figure files."""

    model_id: str
    terms: pd.DataFrame
    table: str
    card: Mapping[str, Any]
    figure: Mapping[str, str]  # svg, png
    alt: str


def group_label(group_var: str, group_value: str, labels: Labels) -> str:
    """'Country: Thailand × Woman' for a crossed breakdown; 'All' overall. A value label that
    names the group by itself (Woman, Man for a variable titled 'Woman') stands alone."""
    if group_var == OVERALL:
        return "All"
    parts = zip(str(group_var).split(CROSS), str(group_value).split(CROSS), strict=False)
    shown = []
    for variable, code in parts:
        title, value = labels.title(variable), labels.value(variable, code)
        own = {v.casefold() for v in labels.values.get(variable, {}).values()}
        shown.append(value if title.casefold() in own else f"{title}: {value}")
    return " × ".join(shown)


def _shown_levels(rows: pd.DataFrame) -> list[str]:
    """Levels of a proportion to print: only the event of a yes/no variable, else all."""
    levels = [str(x) for x in rows["level"].dropna().unique()]
    events = [level for level in levels if level in BINARY_EVENTS]
    if len(levels) == 2 and len(events) == 1:
        return events
    return levels


def _formatted(row: pd.Series) -> tuple[str, str]:
    """(estimate, 95% CI) as printed, by statistic."""
    statistic = str(row["statistic"])
    if statistic == "proportion":
        return percent(row["estimate"], 1), percent_range(row["ci_low"], row["ci_high"])
    digits = 0 if statistic == "total" else 2
    return number(row["estimate"], digits), number_range(row["ci_low"], row["ci_high"], digits)


def _locator(row: pd.Series, table: str) -> dict[str, Any]:
    match = {k: str(row[k]) for k in ("estimate_id", "group_var", "group_value")}
    if pd.notna(row.get("level")):
        match["level"] = str(row["level"])
    return {"table": table, "row": match, "column": "estimate"}


class DatasetBrief:
    """Builds the default brief's findings for one wave of one survey dataset."""

    def __init__(
        self,
        *,
        dataset: str,
        wave: str,
        estimates: pd.DataFrame,
        estimates_table: str,
        models: Sequence[ModelInputs],
        labels: Labels,
        threshold: int,
    ) -> None:
        self.dataset, self.wave, self.labels = dataset, wave, labels
        self.table = estimates_table
        self.models = list(models)
        self.book = FindingsBook(brief=dataset, wave=wave, threshold=threshold)
        self.estimates = self.book.protect(estimates) if len(estimates) else estimates

    @property
    def title(self) -> str:
        name = self.labels.dataset_title or self.dataset.replace("_", " ").capitalize()
        return f"{name}: {self.wave}"

    def build(self) -> FindingsBook:
        ids = list(dict.fromkeys(self.estimates["estimate_id"])) if len(self.estimates) else []
        messages = [m for eid in ids for m in self._key_messages(eid)]
        self.book.add_section(
            "key_messages",
            "\n".join(messages[:KEY_MESSAGES_MAX]) + "\n"
            if messages
            else "The analysis plan declares no estimates for this dataset.\n",
            [{"table": self.table}],
        )
        blocks = [self._estimate_block(eid) for eid in ids]
        self.book.add_section(
            "estimates",
            "\n".join(blocks) or "The analysis plan declares no estimates for this dataset.\n",
            [{"table": self.table}],
        )
        model_blocks = [self._model_block(m) for m in self.models]
        self.book.add_section(
            "models",
            "\n".join(model_blocks) or "The analysis plan fits no models for this dataset.\n",
            [{"table": m.table} for m in self.models],
        )
        self.book.add_section("methods", self._methods(), [{"table": self.table}])
        return self.book

    # -- estimates -------------------------------------------------------------------------

    def _rows(self, estimate_id: str) -> pd.DataFrame:
        rows = self.estimates[self.estimates["estimate_id"] == estimate_id]
        if (rows["statistic"] == "proportion").any():
            rows = rows[rows["level"].astype("string").isin(_shown_levels(rows))]
        return rows

    def _key_messages(self, estimate_id: str) -> list[str]:
        rows = self._rows(estimate_id)
        overall = rows[rows["group_var"] == OVERALL]
        if overall.empty:
            return []
        title = escape_md(str(overall.iloc[0]["title"]))
        parts = []
        for _, row in overall.iterrows():
            value, ci = _formatted(row)
            key = f"{estimate_id}__overall" + (
                f"__{row['level']}" if pd.notna(row.get("level")) else ""
            )
            text = self.book.add(key, row["estimate"], value, _locator(row, self.table))
            level = self._level_label(row)
            shown = f"{level}: **{text}**" if level else f"**{text}**"
            parts.append(f"{shown} (95% CI {ci})" if ci != value else shown)
        return [f"- {title}: " + "; ".join(parts) + "."]

    def _level_label(self, row: pd.Series) -> str:
        """The answer a proportion counts, unless it is the 'yes' of a yes/no variable."""
        if str(row["statistic"]) != "proportion" or pd.isna(row.get("level")):
            return ""
        rows = self.estimates[self.estimates["estimate_id"] == row["estimate_id"]]
        if _shown_levels(rows) == [str(row["level"])] and len(rows["level"].unique()) == 2:
            return ""
        return escape_md(self.labels.value(str(row["variable"]), row["level"]))

    def _estimate_block(self, estimate_id: str) -> str:
        rows = self._rows(estimate_id)
        first = rows.iloc[0]
        statistic = str(first["statistic"])
        levels = statistic == "proportion" and len(_shown_levels(rows)) > 1
        columns = ["Group", *(["Answer"] if levels else []), "Estimate", "95% CI", "Respondents"]
        table_rows = []
        lonely = False
        for _, row in rows.iterrows():
            value, ci = _formatted(row)
            label = group_label(row["group_var"], row["group_value"], self.labels)
            if int(row.get("lonely_strata") or 0) > 0:
                label, lonely = f"{label} {LONELY_MARK}", True
            cells = [label]
            if levels:
                cells.append(self.labels.value(str(row["variable"]), row["level"]))
            cells += [value, ci, count(row["n"], self.book.threshold)]
            table_rows.append(cells)
        what = self._what(first, levels)
        name = f"estimate_{estimate_id}"
        self.book.add_table(
            name,
            caption=f"{first['title']}, {self.wave} ({what}; {self._kind_of_ci()})",
            columns=columns,
            rows=table_rows,
            note=f"Estimates resting on fewer than {self.book.threshold} respondents are "
            "suppressed."
            + (
                f" {LONELY_MARK} rests on a stratum with a single sampled cluster: its "
                "variance follows the plan's lonely_psu rule and is less certain."
                if lonely
                else ""
            ),
            source=self.table,
            align="l" * (len(columns) - 3) + "rrr",
        )
        return f"### {escape_md(str(first['title']))}\n\n{{{{< include ../_tables/{name}.md >}}}}\n"

    def _what(self, row: pd.Series, levels: bool) -> str:
        variable = self.labels.title(str(row["variable"]))
        statistic = str(row["statistic"])
        if statistic == "proportion" and not levels:
            event = self.labels.value(str(row["variable"]), row["level"])
            if event.casefold() == variable.casefold():
                return f"share: {event}"
            return f"share with {variable}: {event}"
        if statistic == "proportion":
            return f"share giving each answer to {variable}"
        return f"{statistic} of {variable}"

    # -- models ----------------------------------------------------------------------------

    def _term(self, term: str) -> str:
        match = TERM.match(term)
        if match:
            var = match.group("var").strip()
            return f"{self.labels.title(var)}: {self.labels.value(var, match.group('level'))}"
        factor = FACTOR.match(term)
        if factor:
            return self.labels.title(factor.group("var").strip())
        if ":" in term:
            return " × ".join(self._term(part) for part in term.split(":"))
        return self.labels.title(term)

    def _term_tests(self, model: ModelInputs) -> str:
        """A table of Wald F tests for terms of several columns (factors, interactions)."""
        tests = [t for t in model.card.get("term_tests") or [] if (t.get("df_num") or 0) > 1]
        if not tests:
            return ""
        name = f"tests_{model.model_id}"
        rows = [
            [
                self._term(str(t["term"])),
                number(t["F"], 2),
                f"{int(t['df_num'])}, {int(t['df_den'])}",
                "<0.001" if (t["p"] or 0) < 0.001 else number(t["p"], 3),
            ]
            for t in tests
        ]
        self.book.add_table(
            name,
            caption="Is each factor associated with the outcome at all? (design-based Wald F "
            "tests, as R's regTermTest)",
            columns=["Term", "F", "df", "p"],
            rows=rows,
            source=model.table.replace(".parquet", ".card.json"),
            align="lrrr",
        )
        return f"\n{{{{< include ../_tables/{name}.md >}}}}\n"

    def _model_block(self, model: ModelInputs) -> str:
        card, terms = model.card, model.terms
        title = str(card.get("title") or model.model_id)
        ratio = "odds_ratio" in terms.columns and terms["odds_ratio"].notna().any()
        shown = terms[terms["term"] != "Intercept"]
        rows = []
        for _, row in shown.iterrows():
            if ratio:
                value, ci = (
                    number(row["odds_ratio"], 2),
                    number_range(row["or_ci_low"], row["or_ci_high"]),
                )
            else:
                value, ci = (
                    number(row["estimate"], 3),
                    number_range(row["ci_low"], row["ci_high"], 3),
                )
            p = "<0.001" if row["p"] < 0.001 else number(row["p"], 3)
            rows.append([self._term(str(row["term"])), value, ci, p])
        name = f"model_{model.model_id}"
        self.book.add_table(
            name,
            caption=f"{title}, {self.wave}: {'odds ratios' if ratio else 'coefficients'} "
            f"(design-based 95% CI; {count(card.get('n'), self.book.threshold)} respondents)",
            columns=["Term", "Odds ratio" if ratio else "Coefficient", "95% CI", "p"],
            rows=rows,
            source=model.table,
            align="lrrr",
        )
        self.book.add_figure(name, model.figure, model.alt, f"{title}, {self.wave}")
        reading = self._reading(card, ratio)
        return (
            f"### {escape_md(title)}\n\n{reading}\n\n"
            f"{{{{< include ../_figures/{name}.md >}}}}\n\n"
            f"{{{{< include ../_tables/{name}.md >}}}}\n{self._term_tests(model)}"
        )

    def _reading(self, card: Mapping[str, Any], ratio: bool) -> str:
        outcome = str(card.get("formula", "")).split("~")[0].strip()
        modelled = str(card.get("modelled") or f"the outcome ({outcome})")
        if ratio:
            return escape_md(
                f"Modelled: {modelled}. An odds ratio above 1 means higher odds, below 1 lower "
                "odds, than the reference group or for one unit more, other terms held equal; "
                "an interval that spans 1 is consistent with no association."
            )
        return escape_md(
            f"Modelled: {modelled} ({card.get('family', 'model')}, link "
            f"{card.get('link', 'identity')}). A coefficient is the difference on the link "
            "scale for one unit more, or against the reference group, other terms held equal; "
            "an interval that spans 0 is consistent with no association."
        )

    # -- methods ---------------------------------------------------------------------------

    def _designs(self) -> list[str]:
        designs = sorted(set(self.estimates.get("design", pd.Series(dtype=str)).dropna()))
        return designs + sorted({str(m.card.get("design")) for m in self.models} - set(designs))

    def _unweighted(self) -> bool:
        """Data with no design (`design: none`): every respondent counts once."""
        designs = self._designs()
        return bool(designs) and all(UNWEIGHTED in d for d in designs)

    def _kind_of_ci(self) -> str:
        if self._unweighted():
            return "unweighted, each respondent counts once; 95% CI"
        return "weighted, design-based 95% CI"

    def _methods(self) -> str:
        design = "; ".join(self._designs()) or "not recorded"
        dfs = sorted(set(self.estimates.get("df", pd.Series(dtype=int)).dropna().astype(int)))
        df_text = ", ".join(map(str, dfs)) or "not recorded"
        variance = "; ".join(sorted(set(self.estimates.get("variance", pd.Series()).dropna())))
        return escape_md(
            f"Estimates are {self._estimates_are()} (Taylor linearisation, as R's survey "
            f"package), with 95% confidence intervals from the t distribution (degrees of "
            f"freedom: {df_text}). Survey design: {design}. Variances: "
            f"{variance or 'not recorded'}. Models are design-based "
            f"generalised linear models (svyglm). Respondents with a missing answer are left out "
            f"of the estimates that need it."
        )

    def _estimates_are(self) -> str:
        if self._unweighted():
            return "unweighted, with simple-random-sample variances (no survey design declared)"
        return "weighted and design-based"

    def findings(self, source_date_epoch: int, provenance: Mapping[str, Any]) -> dict:
        data = self.build().to_dict(self.title, source_date_epoch, provenance)
        return {"kind": KIND, **data}
