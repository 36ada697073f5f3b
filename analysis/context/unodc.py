"""UNODC GLOTIP data export: read it as published, keep "<5" censored, tidy it for ASEAN.

The export (dataUNODC, "GLOTIP" sheet) has title rows ("UNODC", the publication date) above the
header, one row per country x indicator x dimension x category x sex x age x year, and the count as
text: ``"1,469"`` (thousands separator) or ``"<5"`` (a count from 0 to 4, suppressed). A censored
count is carried as the range ``value_low``..``value_high`` with ``censored`` True and is never
replaced by one number; sums that include one are ranges too.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import load_workbook

from analysis.context.asean import resolve_countries
from analysis.errors import WpsInputError
from analysis.io import read_raw

DATASET = "unodc_glotip"
VICTIMS = "Detected trafficking victims"
FORM_DIMENSION = "by form of exploitation"
TOTAL = "Total"
KNOWN_SEXES = ("Female", "Male", "Other")
KNOWN_AGES = ("0 to 17 years", "18 years or over")
BASIS_KNOWN_FORM = "victims with a known form"
BASIS_ALL_VICTIMS = "all detected victims (forms multi-counted)"
BASIS_INCONSISTENT = "none (a form exceeds the published total)"

# export column -> tidy column
COLUMNS: dict[str, str] = {
    "Country": "country",
    "Iso3_code": "iso3",
    "Region": "region",
    "Subregion": "subregion",
    "Indicator": "indicator",
    "Dimension": "dimension",
    "Category": "category",
    "Sex": "sex",
    "Age": "age_group",
    "Year": "year",
}
VALUE_COLUMNS = ("txtVALUE", "VALUE")

_COUNT = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
_CENSORED = re.compile(r"(?:<|&lt;|\uff1c)\s*(\d+)")
_DATE_TEXT = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})|(\d{4})-(\d{2})-(\d{2})")
_HINT = (
    "download the GLOTIP data export again from the UNODC data portal (linked from www.unodc.org) "
    "and point config key context.unodc_glotip_xlsx at the .xlsx as saved, without editing it"
)


def parse_count(value: Any) -> tuple[float, float, bool] | None:
    """``(low, high, censored)`` for one published cell, or None when it is not a count.

    ``"1,469"`` -> (1469, 1469, False); ``"<5"`` -> (0, 4, True); blank -> (nan, nan, False).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return (math.nan, math.nan, False)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0 or float(value) != int(value):
            return None
        return (float(value), float(value), False)
    text = str(value).replace("\u00a0", " ").strip()
    if not text:
        return (math.nan, math.nan, False)
    if _COUNT.fullmatch(text):
        number = float(text.replace(",", ""))
        return (number, number, False)
    match = _CENSORED.fullmatch(text)
    if match and int(match.group(1)) > 0:
        return (0.0, float(int(match.group(1)) - 1), True)
    return None


def _published_date(path: Path, header_row: int, sheet: str) -> str:
    """ISO date found in the title rows above the header (UNODC writes e.g. "14/04/2025")."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            rows = list(book[sheet].iter_rows(max_row=max(header_row - 1, 0), values_only=True))
        finally:
            book.close()
    for row in rows if header_row > 1 else []:
        for cell in row:
            if isinstance(cell, dt.datetime | dt.date):
                return cell.strftime("%Y-%m-%d")
            match = _DATE_TEXT.search(str(cell or ""))
            if match and match.group(3):
                day, month, year = (int(match.group(i)) for i in (1, 2, 3))
                return dt.date(year, month, day).isoformat()
            if match:
                return "-".join(match.group(i) for i in (4, 5, 6))
    found = re.search(r"(\d{4})-(\d{2})-(\d{2})", path.name)
    return found.group(0) if found else ""


def _sheet_rows(info: dict[str, Any], n: int) -> list[int]:
    rows = info.get("sheet_rows")
    first = int(info.get("header_row", 1)) + 1
    return list(rows) if rows else list(range(first, first + n))


def read_glotip(path: str | Path, *, dataset: str = DATASET) -> pd.DataFrame:
    """The GLOTIP export as a tidy table, one row per published cell (duplicates kept).

    Columns: country, iso3, region, subregion, indicator, dimension, category,
    form_of_exploitation, sex, age_group, year, unit, value_text, value_low, value_high, censored,
    source, sheet_row. Raises ``WpsInputError`` naming the file, column and rows when the file is
    not such an export or a value is neither a count nor a known censoring marker.
    """
    path = Path(path)
    raw = read_raw(path, dataset, expected_columns=[*COLUMNS, VALUE_COLUMNS[0]])
    data, info = raw.data, raw.file_info
    value_col = next((c for c in VALUE_COLUMNS if c in data.columns), None)
    missing = [c for c in COLUMNS if c not in data.columns] + ([] if value_col else ["txtVALUE"])
    if missing:
        raise WpsInputError(
            f"not a GLOTIP export: header row {info.get('header_row')} lacks the columns "
            f"{', '.join(missing)} (found: {', '.join(map(str, data.columns))})",
            dataset=dataset,
            file=path,
            hint=_HINT,
        )
    sheet_rows = np.asarray(_sheet_rows(info, len(data)))
    values = data[value_col].astype(object)
    values = values.where(values.notna(), None)
    parsed = {v: parse_count(v) for v in pd.unique(values)}
    bad = [v for v, p in parsed.items() if p is None]
    if bad:
        mask = values.isin(bad).to_numpy()
        shown = ", ".join(repr(v) for v in sorted(map(str, bad))[:5])
        raise WpsInputError(
            f"values {shown} are neither counts (like '1,469') nor the censoring marker '<5'",
            dataset=dataset,
            file=path,
            column=value_col,
            rows=sheet_rows[mask].tolist(),
            hint="check these cells against the published export; a new marker must be added "
            "to analysis.context.unodc.parse_count with its range, never guessed as one number",
        )
    years = pd.to_numeric(data["Year"], errors="coerce")
    bad_year = (years.isna() | (years % 1 != 0)).to_numpy()
    if bad_year.any():
        raise WpsInputError(
            "years must be whole numbers",
            dataset=dataset,
            file=path,
            column="Year",
            rows=sheet_rows[bad_year].tolist(),
            hint=_HINT,
        )
    tidy = pd.DataFrame({new: data[old] for old, new in COLUMNS.items()})
    tidy["year"] = years.astype("int64")
    for column in tidy.columns.drop("year"):
        tidy[column] = tidy[column].astype("string").str.strip()
    tidy["form_of_exploitation"] = tidy["category"].where(tidy["dimension"] == FORM_DIMENSION)
    tidy["unit"] = data.get("Unit of measurement", pd.NA)
    triples = [parsed[v] for v in values]
    tidy["value_text"] = data[value_col].astype("string")
    tidy["value_low"] = [t[0] for t in triples]
    tidy["value_high"] = [t[1] for t in triples]
    tidy["censored"] = [t[2] for t in triples]
    published = _published_date(path, int(info.get("header_row", 1)), info["sheet"])
    tidy["source"] = glotip_source_label(path.name, published)
    tidy["sheet_row"] = sheet_rows
    order = ["country", "iso3", "region", "subregion", "indicator", "dimension", "category"]
    order += ["form_of_exploitation", "sex", "age_group", "year", "unit", "value_text"]
    order += ["value_low", "value_high", "censored", "source", "sheet_row"]
    tidy = tidy[order]
    tidy.attrs["published"] = published
    return tidy.reset_index(drop=True)


def glotip_source_label(file_name: str, published: str) -> str:
    """One line naming the source, its publication date and the file it was read from."""
    date = f", published {published}" if published else ""
    return f"UNODC Global Report on Trafficking in Persons (GLOTIP) data{date} ({file_name})"


def sum_ranges(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Sum ``value_low`` and ``value_high`` within ``by``: a total with a censored part is a range.

    Adds ``censored`` (any part censored) and ``cells`` (parts summed). Blank parts are skipped;
    a group of blanks only stays blank.
    """
    grouped = frame.groupby(list(by), dropna=False, sort=True)
    out = grouped[["value_low", "value_high"]].sum(min_count=1)
    out["censored"] = grouped["censored"].any()
    out["cells"] = grouped.size()
    return out.reset_index()


def _select(
    tidy: pd.DataFrame, countries: Iterable[str] | None, indicator: str, dimension: str
) -> pd.DataFrame:
    codes = resolve_countries(countries)
    keep = (
        tidy["iso3"].isin(codes)
        & (tidy["indicator"] == indicator)
        & (tidy["dimension"] == dimension)
    )
    return tidy[keep.fillna(False)]


_CELL = ["iso3", "country", "year", "sex", "age_group"]


def asean_victims(
    tidy: pd.DataFrame, countries: Iterable[str] | None = None, *, indicator: str = VICTIMS
) -> pd.DataFrame:
    """Detected victims by country, year, sex and age group (the export's "Total" dimension).

    Rows the export repeats for one cell are summed (as ranges). Columns: iso3, country, year,
    sex, age_group, value_low, value_high, censored, cells, source.
    """
    rows = _select(tidy, countries, indicator, TOTAL)
    out = sum_ranges(rows, _CELL)
    out["source"] = _source_of(tidy)
    return out.sort_values(_CELL, kind="stable").reset_index(drop=True)


def regional_totals(
    victims: pd.DataFrame, by: Sequence[str] = ("year", "sex", "age_group")
) -> pd.DataFrame:
    """Totals over countries (e.g. ASEAN by year): ranges when any part is censored.

    ``countries`` counts the countries that reported; it changes from year to year, so a total is
    only the sum of what was reported.
    """
    out = sum_ranges(victims, by)
    reporting = victims.dropna(subset=["value_high"]).groupby(list(by), dropna=False)["iso3"]
    out = out.merge(
        reporting.agg(countries="nunique", iso3_reporting=lambda s: ",".join(sorted(set(s)))),
        left_on=list(by),
        right_index=True,
        how="left",
    )
    return out


def _bounded_share(
    part_low: pd.Series, part_high: pd.Series, rest_low: pd.Series, rest_high: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Percent bounds of part / (part + rest) with both in ranges; undefined (0/0) is left out.

    The share rises with the part and falls with the rest, so the bounds sit at the corners. When
    a corner is 0/0 the nearest defined value is used (a lone part of 1..4 is 100%); when no
    value is defined (everything 0) both bounds are NaN.
    """
    part_low, part_high = part_low.astype(float), part_high.astype(float)
    rest_low, rest_high = rest_low.astype(float), rest_high.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = 100 * part_low / (part_low + rest_high)
        high = 100 * part_high / (part_high + rest_low)
    low = low.where((part_low + rest_high) > 0, np.where(part_high > 0, 100.0, np.nan))
    high = high.where((part_high + rest_low) > 0, np.where(rest_high > 0, 0.0, np.nan))
    undefined = (part_high + rest_high) == 0
    return low.mask(undefined), high.mask(undefined)


def composition(
    frame: pd.DataFrame, part: str, known: Sequence[str], by: Sequence[str]
) -> pd.DataFrame:
    """Share of each ``known`` value of ``part`` among the known ones, within ``by``.

    Unknown values (and published totals) are left out of the denominator. With censored parts
    the share is a range: lowest with the part at its low and the rest at their highs.
    ``censored`` is about the part itself, ``denominator_censored`` about the denominator.
    """
    rows = frame[frame[part].isin(known)].dropna(subset=["value_high"])
    keys = list(by)
    whole = sum_ranges(rows, keys).rename(
        columns={
            "value_low": "denominator_low",
            "value_high": "denominator_high",
            "censored": "denominator_censored",
        }
    )
    out = rows.merge(whole.drop(columns="cells"), on=keys, how="left")
    share_low, share_high = _bounded_share(
        out["value_low"],
        out["value_high"],
        out["denominator_low"] - out["value_low"],
        out["denominator_high"] - out["value_high"],
    )
    out["share_low"], out["share_high"] = share_low, share_high
    return out.sort_values([*keys, part], kind="stable")


def sex_shares(victims: pd.DataFrame) -> pd.DataFrame:
    """Share of female, male and other victims among victims of known sex, per country-year-age."""
    out = composition(victims, "sex", KNOWN_SEXES, ["iso3", "country", "year", "age_group"])
    return out.reset_index(drop=True)


def age_shares(victims: pd.DataFrame) -> pd.DataFrame:
    """Share of children (0-17) and adults among victims of known age, per country-year-sex."""
    out = composition(victims, "age_group", KNOWN_AGES, ["iso3", "country", "year", "sex"])
    return out.reset_index(drop=True)


def exploitation_shares(
    tidy: pd.DataFrame, countries: Iterable[str] | None = None, *, indicator: str = VICTIMS
) -> pd.DataFrame:
    """Detected victims by form of exploitation with shares over the right denominator.

    Following the CTDC codebook (sec. 6), the denominator is the victims whose form is known, not
    all detected victims. The export does not publish that number: where the forms add up to no
    more than the published total, each victim is taken to appear under one form and the sum of
    the forms is the denominator (shares add up to 100%). Where the forms add up to more than the
    total, victims were counted under several forms (multi-response): the denominator is then the
    published total and the shares can add up to more than 100%. Where one form alone exceeds
    the published total the figures contradict each other and no share is given.
    ``denominator_basis`` says which rule applied.
    """
    rows = _select(tidy, countries, indicator, FORM_DIMENSION)
    forms = sum_ranges(rows, [*_CELL, "form_of_exploitation"])
    shares = composition(
        forms, "form_of_exploitation", sorted(set(forms["form_of_exploitation"])), _CELL
    )
    totals = asean_victims(tidy, countries, indicator=indicator)[
        [*_CELL, "value_low", "value_high"]
    ].rename(columns={"value_low": "total_victims_low", "value_high": "total_victims_high"})
    out = shares.merge(totals, on=_CELL, how="left")
    total_low, total_high = out["total_victims_low"], out["total_victims_high"]
    group_max = out.groupby(_CELL, dropna=False)["value_low"].transform("max")
    inconsistent = group_max > total_high  # one form alone above the total: no share is sound
    multi = (out["denominator_low"] > total_high) & ~inconsistent
    out["denominator_basis"] = np.select(
        [inconsistent, multi],
        [BASIS_INCONSISTENT, BASIS_ALL_VICTIMS],
        default=BASIS_KNOWN_FORM,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        multi_low = 100 * out["value_low"] / total_high
        multi_high = (100 * out["value_high"] / total_low).clip(upper=100).fillna(100.0)
    for column, multi_value in (
        ("share_low", multi_low),
        ("share_high", multi_high),
        ("denominator_low", total_low),
        ("denominator_high", total_high),
    ):
        out[column] = out[column].where(~multi, multi_value).mask(inconsistent)
    out["source"] = _source_of(tidy)
    columns = [*_CELL, "form_of_exploitation", "value_low", "value_high", "censored", "cells"]
    columns += ["denominator_low", "denominator_high", "denominator_censored"]
    columns += ["denominator_basis", "share_low"]
    columns += ["share_high", "total_victims_low", "total_victims_high", "source"]
    return out[columns].sort_values([*_CELL, "form_of_exploitation"]).reset_index(drop=True)


def _source_of(tidy: pd.DataFrame) -> str:
    labels = sorted(set(tidy["source"].dropna())) if "source" in tidy else []
    return "; ".join(labels)
