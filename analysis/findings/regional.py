"""The regional brief's findings: which table cells it quotes, and how each is printed.

This module chooses and formats; it computes nothing new beyond a difference between two
published estimates. Every value is one cell of a table the pipeline wrote (estimates, model
terms, training gains, interview tables), after disclosure control, and each finding records
that cell as its source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import WpsInputError
from analysis.findings.book import (
    SUPPRESSED,
    FindingsBook,
    add_variance_method,
    change,
    change_text,
    count,
    estimate_row,
    number,
    number_range,
    percent,
    percent_range,
    signed,
    table_row,
)
from analysis.findings.context import ContextFindings
from analysis.findings.programme_results import ProgrammeResults
from analysis.interviews.quotes import brief_speaker
from analysis.interviews.reliability import ALL_CODES, RELIABLE, TENTATIVE
from analysis.survey.design import OVERALL

TITLE = "Women in law enforcement and the gendered dynamics of trafficking: ASEAN, {wave}"
ALL = "All"

# How a model's covariates read in a sentence ("after allowing for ...").
COVARIATE_WORDS = {
    "harassment": "experience of harassment",
    "training_gender": "gender training",
    "women": "sex",
    "age_band": "age group",
    "years_service": "years of service",
    "rank": "rank",
    "rank_label": "rank",
    "country": "country",
    "country_label": "country",
    "agency": "agency",
    "agency_label": "agency",
    "border_posting": "border posting",
}
TERM_LABELS = {
    "harassment": "Experienced harassment",
    "training_gender": "Had gender training",
    "women": "Woman (vs man)",
}
# Training modules the brief names, by the key its words use.
MODULE_KEYS = {
    "Gender awareness": "awareness",
    "Gender-informed investigation": "investigation",
    "Team building and self-care": "selfcare",
}
RESPONDENT_KEYS = {
    "Survivor": "survivors",
    "Family member": "family",
    "Front-line officer": "officers",
    "Facilitator": "facilitators",
}


def join_words(words: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def formula_terms(formula: str) -> list[str]:
    """Variables on the right of a model formula: 'y ~ a + C(b)' -> ['a', 'b']."""
    if "~" not in formula:
        raise ValueError(f"not a model formula (no '~'): {formula!r}")
    right = formula.split("~", 1)[1]
    terms = []
    for part in right.split("+"):
        part = part.strip()
        inner = re.fullmatch(r"C\(\s*([A-Za-z_][\w]*)\s*(?:,.*)?\)", part)
        name = inner.group(1) if inner else part
        if name and name not in ("1", "0") and name not in terms:
            terms.append(name)
    return terms


def covariates_sentence(formula: str, exposure: str) -> str:
    """The covariates a model allows for, other than the exposure, in words."""
    words = [COVARIATE_WORDS.get(t, t.replace("_", " ")) for t in formula_terms(formula)]
    exposure_word = COVARIATE_WORDS.get(exposure, exposure)
    return join_words([w for w in words if w != exposure_word])


@dataclass(frozen=True)
class BriefTables:
    """Paths of the tables a brief reads (as Snakemake names them) and the loaded frames."""

    paths: Mapping[str, str]

    def frame(self, name: str) -> pd.DataFrame:
        path = Path(self.paths[name])
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)

    def json(self, name: str) -> Any:
        return json.loads(Path(self.paths[name]).read_text(encoding="utf-8"))

    def has(self, name: str) -> bool:
        return name in self.paths


def add_changes(
    book: FindingsBook,
    now: tuple[pd.DataFrame, str],
    before: tuple[pd.DataFrame, str],
    previous_wave: str,
    items: tuple[tuple[str, str, str, str, str], ...],
) -> None:
    """Findings `<key>_previous`, `<key>_change`, `previous_wave` and the `change_summary`
    sentence for (key, estimate id, group var, group value, words) items of two protected
    estimates tables (frame, path) of consecutive waves."""
    parts = []
    for key, estimate_id, group_var, group_value, words in items:
        locate = {"estimate_id": estimate_id, "group_var": group_var, "group_value": group_value}
        row_now, src_now = estimate_row(now[0], now[1], **locate, level="1")
        try:
            row_then, src_then = estimate_row(before[0], before[1], **locate, level="1")
        except KeyError:
            parts.append(f"{words}: not measured in {previous_wave}")
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
    book.add_text("previous_wave", previous_wave, [])
    book.add_text(
        "change_summary",
        f"Change since {previous_wave}: " + "; ".join(parts) + ".",
        [{"finding": f"{item[0]}_change"} for item in items],
    )


def add_first_wave(book: FindingsBook) -> None:
    """The `change_summary` of a first wave: no earlier wave to compare with."""
    book.add_text(
        "change_summary",
        f"This is the first wave of the officer survey ({book.wave}); later briefs will report "
        "change since it.",
        [],
    )


class RegionalFindings:
    """Builds the findings file of the regional brief for one wave."""

    brief = "regional"

    def __init__(
        self,
        tables: BriefTables,
        *,
        wave: str,
        threshold: int,
        interview_threshold: int,
        quote_id: str | None = None,
    ):
        self.tables = tables
        self.wave = wave
        self.book = FindingsBook(
            brief=self.brief,
            wave=wave,
            threshold=threshold,
            interview_threshold=interview_threshold,
        )
        self.interview_threshold = interview_threshold
        self.quote_id = quote_id
        self.estimates_path = tables.paths["estimates"]
        self.estimates = self._protected("estimates")

    def _protected(self, name: str) -> pd.DataFrame:
        return self.book.protect(self.tables.frame(name))

    # -- single cells ------------------------------------------------------------------------
    def share(
        self,
        key: str,
        estimate_id: str,
        group_var: str = OVERALL,
        group_value: str = OVERALL,
        level: str = "1",
    ) -> str:
        row, source = estimate_row(
            self.estimates,
            self.estimates_path,
            estimate_id=estimate_id,
            group_var=group_var,
            group_value=group_value,
            level=level,
        )
        return self.book.add(
            key, row["estimate"], percent(row["estimate"]), {**source, "column": "estimate"}
        )

    def model_term(self, key: str, model: str, term: str, column: str, digits: int = 2) -> None:
        path = self.tables.paths[f"model_{model}"]
        row, source = table_row(self.tables.frame(f"model_{model}"), path, {"term": term})
        source["row"] = {"model_id": model, "term": term}
        self.book.add(key, row[column], number(row[column], digits), {**source, "column": column})
        low, high = (
            column.replace("odds_ratio", "or_ci_low"),
            column.replace("odds_ratio", "or_ci_high"),
        )
        self.book.add(
            f"{key.removesuffix('_or')}_ci",
            None,
            number_range(row[low], row[high], digits),
            {**source, "column": f"{low}, {high}"},
        )

    def plan_models(self) -> None:
        """Every term of every model in the plan as a finding (`model_<id>_<term>`), so a model
        added to the plan reaches the findings without code: ratio and CI where the family
        has one, else the coefficient."""
        for name in sorted(n for n in self.tables.paths if n.startswith("model_")):
            model = name.removeprefix("model_")
            path = self.tables.paths[name]
            for _, row in self.tables.frame(name).iterrows():
                term = str(row["term"])
                slug = re.sub(r"[^a-z0-9]+", "_", term.lower()).strip("_")
                value, low, high = "estimate", "ci_low", "ci_high"
                for ratio, (lo, hi) in (
                    ("odds_ratio", ("or_ci_low", "or_ci_high")),
                    ("rate_ratio", ("rr_ci_low", "rr_ci_high")),
                ):
                    if ratio in row.index and pd.notna(row[ratio]):
                        value, low, high = ratio, lo, hi
                text = f"{number(row[value], 2)} ({number_range(row[low], row[high], 2)})"
                source = {"table": path, "row": {"model_id": model, "term": term}}
                self.book.add(
                    f"model_{model}_{slug}",
                    row[value],
                    text,
                    {**source, "column": f"{value}, {low}, {high}"},
                )

    # -- sections ----------------------------------------------------------------------------
    def women_in_services(self) -> None:
        self.share("women_share", "women_share")
        self.share("women_senior_share", "women_share", "rank_label", "Senior officer")
        self.share("women_border_share", "women_share", "border_posting", "1")
        rows = []
        by_country = self.estimates[
            (self.estimates["estimate_id"] == "women_share")
            & (self.estimates["group_var"] == "country_label")
            & (self.estimates["level"] == "1")
        ].sort_values("group_value", kind="stable")
        for _, row in by_country.iterrows():
            rows.append(
                [
                    str(row["group_value"]),
                    percent(row["estimate"]),
                    percent_range(row["ci_low"], row["ci_high"]),
                    f"{int(row['n']):,}",
                ]
            )
        self.book.add_table(
            "women_by_country",
            "Women as a share of officers surveyed, by country (weighted, 95% CI)",
            ["Country", "Women", "95% CI", "Officers surveyed"],
            rows,
            note=f"Estimates resting on fewer than {self.book.threshold} officers are suppressed.",
            source=self.estimates_path,
        )

    def training(self) -> None:
        self.share("training_women", "training_coverage", "women", "1")
        self.share("training_men", "training_coverage", "women", "0")
        self.share("gs_procedure_trained", "gs_procedure_followed", "training_gender", "1")
        self.share("gs_procedure_untrained", "gs_procedure_followed", "training_gender", "0")
        if self.tables.has("prepost"):
            self.training_gains()

    def training_gains(self) -> None:
        """Mean gain and Hedges' g of the pilot course, overall and by module."""
        path = self.tables.paths["prepost"]
        gains = self.tables.frame("prepost")
        overall, source = table_row(gains, path, {"statistic": "gain", "group": "all"})
        self.book.add(
            "training_gain",
            overall["estimate"],
            number(overall["estimate"], 1),
            {**source, "column": "estimate"},
        )
        interval = number_range(overall["ci_low"], overall["ci_high"], 1)
        columns = "ci_low, ci_high"
        if overall.get("ci_flag") == "unreliable":  # two cohorts: say so beside the interval
            interval = f"{interval}, unreliable: {overall.get('ci_note') or 'only 2 cohorts'}"
            columns += ", ci_flag"
        self.book.add("training_gain_ci", None, interval, {**source, "column": columns})
        self.book.add(
            "training_g",
            overall["hedges_g"],
            number(overall["hedges_g"], 1),
            {**source, "column": "hedges_g"},
        )
        self.book.add(
            "training_paired_tests",
            overall["n"],
            f"{int(overall['n']):,}",
            {**source, "column": "n"},
        )
        for label, key in MODULE_KEYS.items():
            row, src = table_row(
                gains, path, {"statistic": "gain", "group": "module_label", "module_label": label}
            )
            self.book.add(
                f"training_gain_{key}",
                row["estimate"],
                signed(row["estimate"], 1),
                {**src, "column": "estimate"},
            )
            self.book.add(
                f"training_g_{key}",
                row["hedges_g"],
                number(row["hedges_g"], 1),
                {**src, "column": "hedges_g"},
            )

    def harassment_and_retention(self) -> None:
        self.share("harassment_women", "harassment_prevalence", "women", "1")
        self.share("harassment_men", "harassment_prevalence", "women", "0")
        self.share("report_safe_women", "report_safe", "women", "1")
        self.share("intend_stay_women", "intend_stay", "women", "1")
        self.share("intend_stay_men", "intend_stay", "women", "0")
        self.model_term("model_harassment_or", "stay_logit", "harassment", "odds_ratio")
        card_name = "card_stay_logit"
        card = self.tables.json(card_name)
        self.book.add(
            "model_stay_covariates",
            card["formula"],
            covariates_sentence(card["formula"], "harassment"),
            {"table": self.tables.paths[card_name], "row": {"id": card["id"]}, "column": "formula"},
        )
        self.book.add(
            "model_stay_n",
            card["n"],
            f"{int(card['n']):,}",
            {"table": self.tables.paths[card_name], "row": {"id": card["id"]}, "column": "n"},
        )
        path = self.tables.paths["model_stay_logit"]
        terms = self.tables.frame("model_stay_logit")
        rows = []
        for _, row in terms.iterrows():
            if row["term"] == "Intercept":
                continue
            label = TERM_LABELS.get(
                row["term"], str(row["term"]).replace("C(age_band)[T.", "Age ").rstrip("]")
            )
            rows.append(
                [
                    label,
                    number(row["odds_ratio"], 2),
                    number_range(row["or_ci_low"], row["or_ci_high"], 2),
                    "<0.001" if row["p"] < 0.001 else number(row["p"], 3),
                ]
            )
        reference = card.get("reference", {}).get("age_band", "18-29")
        self.book.add_table(
            "model_stay",
            "Odds of intending to stay five more years (design-based logistic regression)",
            ["Factor", "Odds ratio", "95% CI", "p"],
            rows,
            note=f"Reference groups: men, no harassment, no training, aged {reference}. "
            "Odds ratios below 1 mean lower odds of staying.",
            source=path,
        )

    # -- interviews --------------------------------------------------------------------------
    def interviews(self) -> None:
        """Who was interviewed, what they raised most, and one consented quote."""
        path = self.tables.paths["interviews_frequencies"]
        freq = self.tables.frame("interviews_frequencies")
        themes = freq[freq["level"] == "theme"]
        everyone = {"respondent_type": ALL, "sex": ALL, "country": ALL}
        first_theme = str(themes["theme"].iloc[0])
        total, src = table_row(themes, path, {"level": "theme", "theme": first_theme, **everyone})
        self.book.add(
            "interviews_total",
            total["interviews"],
            count(total["interviews"], self.interview_threshold),
            {**src, "column": "interviews"},
        )
        for label, key in RESPONDENT_KEYS.items():
            row, src = table_row(
                themes,
                path,
                {
                    "level": "theme",
                    "theme": first_theme,
                    "respondent_type": label,
                    "sex": ALL,
                    "country": ALL,
                },
            )
            self.book.add(
                f"interviews_{key}",
                row["interviews"],
                count(row["interviews"], self.interview_threshold),
                {**src, "column": "interviews"},
            )
        self.survivors_by_sex()
        overall = themes[
            (themes["respondent_type"] == ALL) & (themes["sex"] == ALL) & (themes["country"] == ALL)
        ].sort_values("interviews_mentioning", ascending=False, kind="stable")
        for rank, (_, row) in enumerate(overall.head(3).iterrows(), start=1):
            match = {"level": "theme", "theme": row["theme"], **everyone}
            self.book.add(
                f"interview_theme_{rank}",
                row["theme"],
                str(row["theme"]).lower(),
                {"table": path, "row": match, "column": "theme"},
            )
            self.book.add(
                f"interview_theme_{rank}_n",
                row["interviews_mentioning"],
                count(row["interviews_mentioning"], self.interview_threshold),
                {"table": path, "row": match, "column": "interviews_mentioning"},
            )
        self.push_factors(freq, path)
        self.strongest_pair()
        self.reliability()
        if self.quote_id is not None:
            self.quote(self.quote_id)

    def survivors_by_sex(self) -> None:
        """Men among survivors: a small number, printed as 'fewer than N' under the threshold.

        The number of women survivors is not printed: with the total it would give the men.
        """
        path = self.tables.paths["interviews_sex_differences"]
        diffs = self.tables.frame("interviews_sex_differences")
        first = diffs.iloc[0]
        match = {"level": first["level"], "theme": first["theme"], "code": first["code"]}
        row, src = table_row(diffs, path, match)
        self.book.add(
            "survivors_men",
            row["men"],
            count(row["men"], self.interview_threshold),
            {**src, "column": "men"},
        )

    def code_labels(self) -> dict[str, str]:
        if not self.tables.has("interviews_codebook"):
            return {}
        codebook = self.tables.json("interviews_codebook")
        for field in codebook.get("fields", []):
            if field.get("name") == "code":
                return {c["value"]: c.get("label", c["value"]) for c in field.get("categories", [])}
        return {}

    def reliability(self) -> None:
        """The methods box's sentence on inter-coder reliability: overall alpha with its CI, how
        many codes were double-coded, and the codes below the thresholds, by their labels."""
        if not self.tables.has("interviews_reliability"):
            return
        path = self.tables.paths["interviews_reliability"]
        table = self.tables.frame("interviews_reliability")
        overall, src = table_row(table, path, {"code": ALL_CODES})
        codes = table[table["code"].astype(str) != ALL_CODES]
        labels = self.code_labels()
        self.book.add(
            "reliability_alpha",
            overall["alpha"],
            number(overall["alpha"], 2),
            {**src, "column": "alpha"},
        )
        self.book.add(
            "reliability_alpha_ci",
            None,
            number_range(overall["alpha_low"], overall["alpha_high"], 2),
            {**src, "column": "alpha_low, alpha_high"},
        )
        self.book.add(
            "reliability_interviews",
            overall["interviews"],
            f"{int(overall['interviews']):,}",
            {**src, "column": "interviews"},
        )
        self.book.add(
            "reliability_codes",
            len(codes),
            f"{len(codes):,}",
            {
                "derived_from": [
                    {"table": path, "row": {"code": str(c)}, "column": "code"}
                    for c in codes["code"]
                ]
            },
        )
        flagged: dict[str, list[str]] = {}
        for flag in ("unreliable", "tentative"):
            rows = codes[codes["flag"] == flag]
            words = [labels.get(c, str(c)) for c in rows["code"].astype(str)]
            flagged[flag] = words
            self.book.add(
                f"reliability_{flag}",
                list(rows["code"].astype(str)),
                join_words(words) if words else "none",
                {
                    "derived_from": [
                        {"table": path, "row": {"code": str(c)}, "column": "flag"}
                        for c in rows["code"]
                    ]
                },
            )
        parts = []
        if flagged["unreliable"]:
            parts.append(f"below {TENTATIVE} (unreliable) for {join_words(flagged['unreliable'])}")
        if flagged["tentative"]:
            parts.append(
                f"between {TENTATIVE} and {RELIABLE} (tentative) for "
                f"{join_words(flagged['tentative'])}"
            )
        sentence = (
            f"Two coders coded {self.book.findings['reliability_interviews']['text']} interviews "
            f"independently for all {len(codes)} codes; their agreement, Krippendorff’s alpha, "
            f"was {self.book.findings['reliability_alpha']['text']} overall (95% bootstrap "
            f"interval {self.book.findings['reliability_alpha_ci']['text']})"
        )
        if parts:
            sentence += (
                ". Alpha was "
                + "; ".join(parts)
                + ": findings resting on these codes should be read with caution."
            )
        else:
            sentence += f", and at least {RELIABLE} for every code."
        self.book.add_text(
            "reliability_note",
            sentence,
            [{"finding": k} for k in ("reliability_alpha", "reliability_alpha_ci")]
            + [{"finding": f"reliability_{f}"} for f in ("unreliable", "tentative")],
        )

    def push_factors(self, freq: pd.DataFrame, path: str) -> None:
        """The two push factors most often raised, in all interviews."""
        labels = self.code_labels()
        codes = freq[
            (freq["level"] == "code")
            & (freq["theme"] == "Push factors")
            & (freq["respondent_type"] == ALL)
            & (freq["sex"] == ALL)
            & (freq["country"] == ALL)
        ].sort_values("interviews_mentioning", ascending=False, kind="stable")
        for rank, (_, row) in enumerate(codes.head(2).iterrows(), start=1):
            match = {"level": "code", "code": row["code"], "respondent_type": ALL, "sex": ALL}
            match["country"] = ALL
            self.book.add(
                f"push_factor_{rank}",
                row["code"],
                labels.get(row["code"], str(row["code"])).lower(),
                {"table": path, "row": match, "column": "code"},
            )
            self.book.add(
                f"push_factor_{rank}_n",
                row["interviews_mentioning"],
                count(row["interviews_mentioning"], self.interview_threshold),
                {"table": path, "row": match, "column": "interviews_mentioning"},
            )

    def strongest_pair(self) -> None:
        """The two different themes most often raised in the same interview."""
        path = self.tables.paths["interviews_theme_cooccurrence"]
        matrix = self.tables.frame("interviews_theme_cooccurrence")
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
            self.book.add("theme_pair", None, SUPPRESSED, {"table": path})
            self.book.add("theme_pair_n", None, SUPPRESSED, {"table": path})
            return
        value, a, b = best
        source = {"table": path, "row": {first: a}, "column": b}
        self.book.add("theme_pair", f"{a} | {b}", f"{a.lower()} and {b.lower()}", source)
        self.book.add("theme_pair_n", value, count(value, self.interview_threshold), source)

    def quote(self, quote_id: str) -> None:
        """One consented, de-identified quote from the quote bank, chosen by the authors."""
        path = self.tables.paths["quotes"]
        quotes = self.tables.frame("quotes")
        if quote_id not in set(quotes["quote_id"].astype(str)):
            raise WpsInputError(
                f"quote {quote_id} chosen for the {self.brief} brief is not in the quote bank "
                "(no consent, or removed by redaction)",
                dataset="interviews",
                file=path,
                column="quote_id",
                hint="choose a quote ID listed in the quote bank in "
                "reports/regional/text/quotes.yaml.",
            )
        row, src = table_row(quotes, path, {"quote_id": quote_id})
        self.book.add("quote_text", row["quote"], str(row["quote"]), {**src, "column": "quote"})
        self.book.add("quote_id", quote_id, quote_id, {**src, "column": "quote_id"})
        who = brief_speaker(row)
        self.book.add("quote_speaker", who, who, {**src, "column": "respondent_type, country"})

    # -- change between waves ----------------------------------------------------------------
    def change_since(self, previous_wave: str) -> None:
        """The latest wave's change since the previous one, for the key messages."""
        add_changes(
            self.book,
            (self.estimates, self.estimates_path),
            (self._protected("estimates_previous"), self.tables.paths["estimates_previous"]),
            previous_wave,
            (
                ("women_share", "women_share", OVERALL, OVERALL, "women's share of officers"),
                (
                    "training_women",
                    "training_coverage",
                    "women",
                    "1",
                    "women officers with gender training",
                ),
            ),
        )

    def first_wave(self) -> None:
        add_first_wave(self.book)

    def figures(self, figure_paths: Mapping[str, str]) -> None:
        for name, caption in (
            ("women_by_country", "Women as a share of officers surveyed, by country"),
            ("training_gain", "Knowledge-test gain after the pilot training, by module"),
            ("code_cooccurrence", "How often themes were raised together in interviews"),
        ):
            paths = {kind: figure_paths[f"figure_{name}_{kind}"] for kind in ("svg", "png", "alt")}
            alt = Path(paths["alt"]).read_text(encoding="utf-8").strip()
            self.book.add_figure(name, paths, alt=alt, caption=caption)

    def build(self, *, previous_wave: str | None, figure_paths: Mapping[str, str]) -> FindingsBook:
        add_variance_method(self.book, self.estimates, self.estimates_path)
        self.women_in_services()
        self.training()
        self.harassment_and_retention()
        if self.tables.has("interviews_frequencies"):
            self.interviews()
        if previous_wave is not None and self.tables.has("estimates_previous"):
            self.change_since(previous_wave)
        else:
            self.first_wave()
        if "reliability_note" not in self.book.findings:
            self.book.add_text("reliability_note", "", [])
        ContextFindings(self.book, self.tables.paths).build()
        ProgrammeResults(self.book, self.tables.paths).build()
        self.plan_models()
        self.figures(figure_paths)
        return self.book
