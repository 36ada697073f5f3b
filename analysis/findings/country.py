"""Country briefs: which countries get one, and the note the others get.

Which countries get a brief comes from the data: every country present in the cleaned wave with
at least `min_respondents` officers; the others get a short note instead of an empty brief.
What a country brief quotes is declared in reports/country/numbers.yaml ({country} filled from
the country's entry in this plan) and built by analysis.findings.declared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis.errors import WpsInputError
from analysis.findings.book import count

COUNTRY = "country_label"
RESERVED_SLUGS = frozenset({"regional", "briefs"})


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
