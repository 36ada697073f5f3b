"""Official statistics as context for the regional brief: tidy ASEAN tables, and their findings.

Two jobs, kept apart like the rest of the pipeline:

- ``tidy_*`` turn what the readers of ``analysis.context`` return into the three tables the
  workflow writes (``results/context/{glotip_victims,glotip_exploitation,female_police}.csv``):
  ASEAN totals and shares as ranges (a "<5" cell is 0-4, never one number), with the source and
  its publication date on every row.
- ``ContextFindings`` reads those tables and adds the findings the section quotes, each with the
  table row it came from, and fills the authored section template
  (``reports/regional/text/context.md``) with their texts. Without the tables the section is
  an empty string and the brief omits it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from analysis.context import (
    asean_female_police,
    asean_victims,
    exploitation_shares,
    read_female_police,
    read_glotip,
)
from analysis.context.asean import ASEAN_ISO3, short_name
from analysis.context.unodc import (
    BASIS_KNOWN_FORM,
    KNOWN_AGES,
    KNOWN_SEXES,
    TOTAL,
    composition,
    regional_totals,
    sum_ranges,
)
from analysis.findings.book import DASH, FindingsBook

CHILDREN = "0 to 17 years"
CONTEXT_TABLES = ("glotip_victims", "glotip_exploitation", "female_police")
SECTION = "context"  # included by the brief as _sections/context.md
PLACEHOLDER = re.compile(r"\{\{<\s*var\s+([\w.-]+)\s*>\}\}")
# Authors' comments in the template (not the block markers) are dropped before filling.
COMMENT = re.compile(r"<!--(?!\s*(?:glotip|police|end)\s*-->).*?-->\n?", re.S)


# -- tidy tables ---------------------------------------------------------------------------------
def _published(tidy: pd.DataFrame) -> str:
    return str(tidy.attrs.get("published", "") or "")


def tidy_glotip_victims(tidy: pd.DataFrame) -> pd.DataFrame:
    """ASEAN detected victims by year, sex and age group, summed over the countries that
    reported (ranges when a part is censored), with the share of each sex among victims of
    known sex (same year and age group) and of each age group among victims of known age
    (same year and sex), in percent, as ranges."""
    victims = asean_victims(tidy)
    totals = regional_totals(victims)
    keys = ["year", "sex", "age_group"]
    by_sex = composition(totals, "sex", KNOWN_SEXES, ["year", "age_group"])
    by_age = composition(totals, "age_group", KNOWN_AGES, ["year", "sex"])
    out = totals.merge(
        by_sex[[*keys, "share_low", "share_high"]].rename(
            columns={"share_low": "sex_share_low", "share_high": "sex_share_high"}
        ),
        on=keys,
        how="left",
    ).merge(
        by_age[[*keys, "share_low", "share_high"]].rename(
            columns={"share_low": "age_share_low", "share_high": "age_share_high"}
        ),
        on=keys,
        how="left",
    )
    out["published"] = _published(tidy)
    out["source"] = "; ".join(sorted(set(victims["source"]))) if len(victims) else ""
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def tidy_glotip_exploitation(tidy: pd.DataFrame) -> pd.DataFrame:
    """ASEAN detected victims (all sexes and ages) by form of exploitation and year.

    Only countries that published their total of detected victims and whose forms add up to
    no more than it (each victim under one form, ``denominator_basis`` "victims with a known
    form") are summed; the others are listed in ``iso3_excluded``. Shares are over the summed
    victims with a known form.
    """
    forms = exploitation_shares(tidy)
    forms = forms[(forms["sex"] == TOTAL) & (forms["age_group"] == TOTAL)]
    forms = forms.dropna(subset=["total_victims_high"])  # countries that published a total
    usable = forms[forms["denominator_basis"] == BASIS_KNOWN_FORM].dropna(subset=["value_high"])
    excluded = (
        forms[forms["denominator_basis"] != BASIS_KNOWN_FORM]
        .groupby("year")["iso3"]
        .agg(lambda s: ",".join(sorted(set(s))))
        .rename("iso3_excluded")
    )
    summed = sum_ranges(usable, ["year", "form_of_exploitation"])
    reporting = (
        usable.groupby("year")["iso3"]
        .agg(lambda s: ",".join(sorted(set(s))))
        .rename("iso3_reporting")
    )
    out = composition(
        summed, "form_of_exploitation", sorted(set(summed["form_of_exploitation"])), ["year"]
    )
    out = out.merge(reporting, left_on="year", right_index=True, how="left")
    out = out.merge(excluded, left_on="year", right_index=True, how="left")
    out["iso3_excluded"] = out["iso3_excluded"].fillna("")
    out["countries"] = out["iso3_reporting"].str.count(",") + 1
    out["denominator_basis"] = BASIS_KNOWN_FORM
    out["published"] = _published(tidy)
    out["source"] = "; ".join(sorted(set(forms["source"]))) if len(forms) else ""
    columns = ["year", "form_of_exploitation", "value_low", "value_high", "censored", "cells"]
    columns += ["denominator_low", "denominator_high", "denominator_censored", "share_low"]
    columns += ["share_high", "denominator_basis", "countries", "iso3_reporting"]
    columns += ["iso3_excluded", "published", "source"]
    return out[columns].sort_values(["year", "form_of_exploitation"]).reset_index(drop=True)


def tidy_female_police(police: pd.DataFrame) -> pd.DataFrame:
    """Women's share (percent) of police officers in the ASEAN countries with data, by year;
    ``latest`` marks each country's most recent year."""
    series = asean_female_police(police).series
    latest = series.groupby("iso3")["year"].transform("max")
    out = series.assign(latest=series["year"] == latest)
    years = re.search(r"source year ([\d, ]+)", " ".join(sorted(set(out["source"]))))
    out["published"] = years.group(1).strip() if years else ""
    columns = ["iso3", "short_name", "country", "year", "share", "latest", "file_line"]
    return out[[*columns, "published", "source"]].reset_index(drop=True)


def empty_table(name: str) -> pd.DataFrame:
    """The header-only table written for a source that is not configured."""
    columns = {
        "glotip_victims": ["year", "sex", "age_group", "value_low", "value_high", "source"],
        "glotip_exploitation": ["year", "form_of_exploitation", "share_low", "share_high"],
        "female_police": ["iso3", "short_name", "year", "share", "latest", "source"],
    }[name]
    return pd.DataFrame(columns=columns)


def tidy_tables(glotip_xlsx: str | Path | None, police_tsv: str | Path | None) -> dict:
    """The three context tables from the configured files (header-only for a missing one)."""
    tables = {name: empty_table(name) for name in CONTEXT_TABLES}
    if glotip_xlsx:
        tidy = read_glotip(glotip_xlsx)
        tables["glotip_victims"] = tidy_glotip_victims(tidy)
        tables["glotip_exploitation"] = tidy_glotip_exploitation(tidy)
    if police_tsv:
        tables["female_police"] = tidy_female_police(read_female_police(police_tsv))
    return tables


# -- printing ranges -----------------------------------------------------------------------------
def count_range(low: float, high: float) -> str:
    """'1,234' for an exact total, '5,087–5,091' when a censored part makes it a range."""
    low_text, high_text = f"{int(round(low)):,}", f"{int(round(high)):,}"
    return low_text if low_text == high_text else f"{low_text}{DASH}{high_text}"


def percent_bounds(low: float, high: float) -> str:
    """Percent bounds (0-100) as '60%' or '59–61%' when censoring leaves a range."""
    low_text, high_text = f"{round(float(low)):d}", f"{round(float(high)):d}"
    return f"{low_text}%" if low_text == high_text else f"{low_text}{DASH}{high_text}%"


def country_names(codes: str) -> str:
    """'MMR,THA' -> 'Myanmar and Thailand' (short names, in alphabetical order)."""
    names = sorted(short_name(c) for c in str(codes).split(",") if c.strip())
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def date_text(iso: str) -> str:
    """'2025-04-14' -> '14 April 2025'; anything else as given."""
    try:
        day = pd.Timestamp(iso)
    except (ValueError, TypeError):
        return iso
    return (
        f"{day.day} {day.strftime('%B')} {day.year}"
        if re.fullmatch(r"\d{4}-\d\d-\d\d", iso)
        else iso
    )


def fill_template(template: str, texts: Mapping[str, str], where: str) -> str:
    """Replace each {{< var key >}} of an authored template with the finding's text."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in texts:
            raise KeyError(f"{where}: {{{{< var {key} >}}}} has no finding '{key}'")
        return texts[key]

    return PLACEHOLDER.sub(replace, template).strip() + "\n"


# -- findings ------------------------------------------------------------------------------------
class ContextFindings:
    """Adds the context findings and the filled section to a brief's findings book."""

    def __init__(self, book: FindingsBook, paths: Mapping[str, str]):
        self.book = book
        self.paths = {
            name: paths[f"context_{name}"] for name in CONTEXT_TABLES if f"context_{name}" in paths
        }
        self.template = paths.get("context_template")

    def frame(self, name: str) -> pd.DataFrame:
        if name not in self.paths:
            return empty_table(name)
        return pd.read_csv(self.paths[name], keep_default_na=True)

    def build(self) -> str:
        """Add every context finding; return the filled section ('' when there is nothing)."""
        victims = self.frame("glotip_victims")
        police = self.frame("female_police")
        parts = []
        if len(victims):
            self.victims(victims)
            self.exploitation(self.frame("glotip_exploitation"))
            parts.append("glotip")
        if len(police):
            self.police(police)
            parts.append("police")
        section = ""
        if parts and self.template:
            template = Path(self.template).read_text(encoding="utf-8")
            section = self.section(template, parts)
        self.book.add_section(SECTION, section, [{"table": p} for p in sorted(self.paths.values())])
        return section

    def section(self, template: str, parts: list[str]) -> str:
        """The template's blocks for the configured sources, numbers filled in.

        The template is split by lines '<!-- glotip -->', '<!-- police -->' and
        '<!-- end -->'; text before the first marker (the heading) is always kept.
        """
        template = COMMENT.sub("", template)
        blocks = re.split(r"^<!--\s*(glotip|police|end)\s*-->\s*$", template, flags=re.M)
        kept = [blocks[0]]
        for name, body in zip(blocks[1::2], blocks[2::2], strict=True):
            if name in parts or name == "end":
                kept.append(body)
        texts = {k: v["text"] for k, v in self.book.findings.items()}
        return fill_template("".join(kept), texts, str(self.template))

    def _add(self, key: str, value, text: str, table: str, row: Mapping, column: str) -> None:
        self.book.add(
            key, value, text, {"table": self.paths[table], "row": dict(row), "column": column}
        )

    def victims(self, frame: pd.DataFrame) -> None:
        everyone = frame[(frame["sex"] == TOTAL) & (frame["age_group"] == TOTAL)]
        everyone = everyone.dropna(subset=["value_high"])
        row = everyone.sort_values("year").iloc[-1]
        year = int(row["year"])
        locate = {"year": year, "sex": TOTAL, "age_group": TOTAL}
        self._add("context_victims_year", year, str(year), "glotip_victims", locate, "year")
        self._add(
            "context_victims_total",
            [float(row["value_low"]), float(row["value_high"])],
            count_range(row["value_low"], row["value_high"]),
            "glotip_victims",
            locate,
            "value_low, value_high",
        )
        names = country_names(row["iso3_reporting"])
        self._add(
            "context_victims_countries",
            row["iso3_reporting"],
            f"{int(row['countries'])} ASEAN "
            f"{'country' if int(row['countries']) == 1 else 'countries'} ({names})",
            "glotip_victims",
            locate,
            "countries, iso3_reporting",
        )
        for key, match, column in (
            ("context_share_female", {"sex": "Female", "age_group": TOTAL}, "sex_share"),
            ("context_share_children", {"sex": TOTAL, "age_group": CHILDREN}, "age_share"),
        ):
            cell = frame[
                (frame["year"] == year)
                & (frame["sex"] == match["sex"])
                & (frame["age_group"] == match["age_group"])
            ].iloc[0]
            low, high = cell[f"{column}_low"], cell[f"{column}_high"]
            self._add(
                key,
                [float(low), float(high)],
                percent_bounds(low, high),
                "glotip_victims",
                {"year": year, **match},
                f"{column}_low, {column}_high",
            )
        self._add(
            "context_glotip_source",
            row["published"],
            f"UNODC, Global Report on Trafficking in Persons data, published "
            f"{date_text(str(row['published']))}",
            "glotip_victims",
            locate,
            "source, published",
        )

    def exploitation(self, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        year = int(frame["year"].max())
        rows = frame[frame["year"] == year].sort_values(
            ["value_high", "value_low", "form_of_exploitation"],
            ascending=[False, False, True],
            kind="stable",
        )
        top = rows.iloc[0]
        locate = {"year": year, "form_of_exploitation": top["form_of_exploitation"]}
        self._add(
            "context_top_form",
            top["form_of_exploitation"],
            str(top["form_of_exploitation"]).lower(),
            "glotip_exploitation",
            locate,
            "form_of_exploitation",
        )
        self._add(
            "context_top_form_share",
            [float(top["share_low"]), float(top["share_high"])],
            percent_bounds(top["share_low"], top["share_high"]),
            "glotip_exploitation",
            locate,
            "share_low, share_high",
        )
        basis = (
            f"the {count_range(top['denominator_low'], top['denominator_high'])} victims with "
            f"a known form in {country_names(top['iso3_reporting'])}"
        )
        if str(top["iso3_excluded"] or "").strip() and str(top["iso3_excluded"]) != "nan":
            left_out = country_names(top["iso3_excluded"])
            basis += f"; {left_out}, where some victims were counted under several forms, left out"
        self._add(
            "context_top_form_basis",
            top["denominator_basis"],
            basis,
            "glotip_exploitation",
            locate,
            "denominator_low, denominator_high, denominator_basis, iso3_reporting, iso3_excluded",
        )

    def police(self, frame: pd.DataFrame) -> None:
        latest = frame[frame["latest"].astype(str).str.lower() == "true"].sort_values("iso3")
        parts = []
        for _, row in latest.iterrows():
            series = frame[frame["iso3"] == row["iso3"]].sort_values("year")
            first = series.iloc[0]
            text = f"{row['short_name']} {round(float(row['share'])):d}% ({int(row['year'])}"
            if int(first["year"]) < int(row["year"]):
                text += f"; {round(float(first['share'])):d}% in {int(first['year'])}"
            text += ")"
            self._add(
                f"context_police_{str(row['iso3']).lower()}",
                float(row["share"]),
                text,
                "female_police",
                {"iso3": row["iso3"], "year": int(row["year"])},
                "share",
            )
            parts.append(text)
        self.book.add_text(
            "context_police_latest",
            ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts),
            [{"finding": f"context_police_{str(c).lower()}"} for c in latest["iso3"]],
        )
        missing = len(ASEAN_ISO3) - len(latest)
        self.book.add_text("context_police_missing", f"{missing}", [])
        published = str(frame["published"].dropna().iloc[0]) if len(frame) else ""
        self._add(
            "context_police_source",
            published,
            "UN Statistics Division, Minimum Set of Gender Indicators IV.4 (UNODC UN-CTS data"
            + (f", source year {published})" if published else ")"),
            "female_police",
            {"iso3": latest.iloc[0]["iso3"], "year": int(latest.iloc[0]["year"])},
            "source, published",
        )
