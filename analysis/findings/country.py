"""Country briefs: which countries get one, and the findings of one country's brief.

Which countries get a brief comes from the data: every country present in the cleaned wave with
at least `min_respondents` officers; the others get a short note instead of an empty brief.
A country brief quotes the same estimates tables as the regional brief (the plan's country and
country-by-sex breakdowns), after the same disclosure control, beside the regional figure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import WpsInputError
from analysis.findings.book import (
    SUPPRESSED,
    FindingsBook,
    add_variance_method,
    count,
    estimate_row,
    percent,
)
from analysis.findings.regional import BriefTables, add_changes, add_first_wave
from analysis.survey.design import OVERALL

TITLE = "Women in law enforcement and the gendered dynamics of trafficking: {country}, {wave}"
COUNTRY = "country_label"
RESERVED_SLUGS = frozenset({"regional", "briefs"})

# (finding key stem, estimate id, words for the comparison table)
INDICATORS = (
    ("training", "training_coverage", "Had gender-sensitive trafficking training"),
    ("harassment", "harassment_prevalence", "Experienced sexual harassment at work (12 months)"),
    ("report_safe", "report_safe", "Could report harassment without negative consequences"),
    ("intend_stay", "intend_stay", "Intend to stay in the service five more years"),
)
SEXES = (("women", "1", "women"), ("men", "0", "men"))


def slugify(name: str) -> str:
    """'Lao PDR' -> 'lao-pdr', 'Viet Nam' -> 'viet-nam' (lower-case letters, digits, hyphens)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = f"country-{slug}".rstrip("-")
    return slug


def plan_country_briefs(
    clean: pd.DataFrame,
    *,
    dataset: str,
    wave: str,
    min_respondents: int,
    column: str = COUNTRY,
    file: str = "",
) -> dict[str, Any]:
    """Countries of a cleaned wave of `dataset` (config's brief_dataset; `file` its cleaned
    table), split into those with a brief and those with a note.

    Returns {"wave", "min_respondents", "briefs": [...], "notes": [...]}, each entry
    {"country", "slug", "respondents"}, sorted by slug.
    """
    if column not in clean.columns:
        raise WpsInputError(
            f"the cleaned wave has no column '{column}' to find countries in",
            dataset=dataset,
            file=file,
            column=column,
            hint="the regional and country briefs are written for an officer survey with a "
            f"'{column}' column: clean the wave with a codebook that labels country, or set "
            "brief_dataset to null in config/config.yaml to make only each survey's default "
            "brief.",
        )
    counts = clean[column].dropna().astype(str).value_counts()
    entries: dict[str, dict[str, Any]] = {}
    for country, n in counts.items():
        slug = slugify(str(country))
        if slug in RESERVED_SLUGS:
            slug = f"country-{slug}"
        if slug in entries:
            raise WpsInputError(
                f"countries '{entries[slug]['country']}' and '{country}' share the brief name "
                f"'{slug}'",
                dataset=dataset,
                file=file,
                column=column,
                hint="give the countries labels that differ in letters or digits.",
            )
        entries[slug] = {"country": str(country), "slug": slug, "respondents": int(n)}
    ordered = [entries[s] for s in sorted(entries)]
    return {
        "wave": str(wave),
        "min_respondents": int(min_respondents),
        "briefs": [e for e in ordered if e["respondents"] >= min_respondents],
        "notes": [e for e in ordered if e["respondents"] < min_respondents],
    }


def plan_entry(plan: Mapping[str, Any], slug: str) -> dict[str, Any]:
    """The plan's entry for one slug, from either list."""
    for entry in [*plan.get("briefs", []), *plan.get("notes", [])]:
        if entry["slug"] == slug:
            return dict(entry)
    raise KeyError(f"no country with brief name '{slug}' in the wave's brief plan")


def country_note(
    template: str, entry: Mapping[str, Any], *, wave: str, min_respondents: int, threshold: int
) -> str:
    """The short note a country with too little data gets, from the authored template."""
    return template.format_map(
        {
            "country": entry["country"],
            "wave": wave,
            "respondents": count(entry["respondents"], threshold),
            "minimum": f"{int(min_respondents):,}",
        }
    )


class CountryFindings:
    """Builds the findings file of one country's brief for one wave."""

    def __init__(self, tables: BriefTables, *, country: str, slug: str, wave: str, threshold: int):
        self.tables = tables
        self.country = country
        self.wave = wave
        self.book = FindingsBook(brief=slug, wave=wave, threshold=threshold)
        self.estimates_path = tables.paths["estimates"]
        self.estimates = self.book.protect(tables.frame("estimates"))

    def cell(
        self, frame: pd.DataFrame, path: str, estimate_id: str, group_var: str, group_value: str
    ) -> tuple[pd.Series, dict]:
        row, source = estimate_row(
            frame,
            path,
            estimate_id=estimate_id,
            group_var=group_var,
            group_value=group_value,
            level="1",
        )
        return row, {**source, "column": "estimate"}

    def share(self, key: str, estimate_id: str, group_var: str, group_value: str) -> str:
        row, source = self.cell(
            self.estimates, self.estimates_path, estimate_id, group_var, group_value
        )
        return self.book.add(key, row["estimate"], percent(row["estimate"]), source)

    def by_sex(self, stem: str, estimate_id: str) -> None:
        for sex, code, _ in SEXES:
            self.share(f"{stem}_{sex}", estimate_id, f"{COUNTRY}|women", f"{self.country}|{code}")
            self.share(f"{stem}_{sex}_region", estimate_id, "women", code)

    def women(self) -> None:
        row, source = self.cell(
            self.estimates, self.estimates_path, "women_share", COUNTRY, self.country
        )
        self.book.add(
            "country_name", self.country, self.country, {**source, "column": "group_value"}
        )
        self.book.add("women_share", row["estimate"], percent(row["estimate"]), source)
        self.book.add(
            "officers_surveyed", row["n"], f"{int(row['n']):,}", {**source, "column": "n"}
        )
        self.share("women_share_region", "women_share", OVERALL, OVERALL)

    def comparison_table(self) -> None:
        """The country's row of the regional tables beside the regional figure."""
        rows = [
            [
                "Women among officers",
                "all",
                self.text("women_share"),
                self.text("women_share_region"),
            ]
        ]
        for stem, _, words in INDICATORS:
            for sex, _, sex_words in SEXES:
                rows.append(
                    [
                        words if sex == "women" else "",
                        sex_words,
                        self.text(f"{stem}_{sex}"),
                        self.text(f"{stem}_{sex}_region"),
                    ]
                )
        self.book.add_table(
            "country_vs_region",
            f"{self.country} and the region: officers surveyed in {self.wave} (weighted)",
            ["Indicator", "Officers", self.country, "Region"],
            rows,
            note=f"Estimates resting on fewer than {self.book.threshold} officers are suppressed.",
            source=self.estimates_path,
            widths=[52, 10, 12, 12],
            align="llrr",
        )

    def text(self, key: str) -> str:
        return self.book.findings[key]["text"]

    def change_since(self, previous_wave: str) -> None:
        add_changes(
            self.book,
            (self.estimates, self.estimates_path),
            (
                self.book.protect(self.tables.frame("estimates_previous")),
                self.tables.paths["estimates_previous"],
            ),
            previous_wave,
            (
                ("women_share", "women_share", COUNTRY, self.country, "women's share of officers"),
                (
                    "training_women",
                    "training_coverage",
                    f"{COUNTRY}|women",
                    f"{self.country}|1",
                    "women officers with gender training",
                ),
            ),
        )

    def first_wave(self) -> None:
        add_first_wave(self.book)

    def figures(self, figure_paths: Mapping[str, str]) -> None:
        name = "women_by_country"
        paths = {kind: figure_paths[f"figure_{name}_{kind}"] for kind in ("svg", "png", "alt")}
        alt = Path(paths["alt"]).read_text(encoding="utf-8").strip()
        self.book.add_figure(
            name, paths, alt=alt, caption="Women as a share of officers surveyed, by country"
        )

    def build(self, *, previous_wave: str | None, figure_paths: Mapping[str, str]) -> FindingsBook:
        add_variance_method(self.book, self.estimates, self.estimates_path)
        self.women()
        for stem, estimate_id, _ in INDICATORS:
            self.by_sex(stem, estimate_id)
        self.comparison_table()
        if previous_wave is not None and self.tables.has("estimates_previous"):
            self.change_since(previous_wave)
        else:
            self.first_wave()
        self.figures(figure_paths)
        return self.book


__all__ = [
    "SUPPRESSED",
    "TITLE",
    "CountryFindings",
    "country_note",
    "plan_country_briefs",
    "plan_entry",
    "slugify",
]
