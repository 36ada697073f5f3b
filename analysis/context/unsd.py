"""UN Statistics Division gender indicator IV.4 "Share of female police officers" (tab-separated).

The Minimum Set of Gender Indicators series file has one row per country and year with the share
in percent (``OBS_VALUE``, ``UNIT_MEASURE`` "PT"), computed as female / (male + female) police
personnel on 31 December (data from UNODC's UN-CTS survey).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.context.asean import ASEAN_NAMES, resolve_countries, short_name
from analysis.errors import WpsInputError

DATASET = "unsd_female_police"
REQUIRED = ("REF_AREA_DESC", "ISO3", "TIME_PERIOD", "OBS_VALUE", "UNIT_MEASURE")
_HINT = (
    "download the series for indicator IV.4 again from the UN Statistics Division gender "
    "statistics site (unstats.un.org) and point config key context.unsd_female_police_tsv at the "
    "tab-separated file as saved"
)


def _read_text_table(path: Path, dataset: str) -> pd.DataFrame:
    if not path.is_file():
        raise WpsInputError("file not found", dataset=dataset, file=path, hint=_HINT)
    try:
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError:
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, encoding="cp1252")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise WpsInputError(
            f"cannot be read as a tab-separated table ({exc})",
            dataset=dataset,
            file=path,
            hint=_HINT,
        ) from exc


def _bad_rows(mask: pd.Series) -> list[int]:
    return (np.flatnonzero(mask.to_numpy()) + 2).tolist()  # line 1 is the header


def read_female_police(path: str | Path, *, dataset: str = DATASET) -> pd.DataFrame:
    """The IV.4 series as a tidy table, one row per country and year.

    Columns: country, iso3, m49, year, share (percent), is_latest, nature, source. Rows whose
    value is blank are dropped (the series publishes no estimates for missing years).
    """
    path = Path(path)
    raw = _read_text_table(path, dataset)
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        separator = " (is it comma-separated?)" if len(raw.columns) == 1 else ""
        raise WpsInputError(
            f"not a UNSD gender-indicator series file{separator}: the columns "
            f"{', '.join(missing)} are missing",
            dataset=dataset,
            file=path,
            hint=_HINT,
        )
    units = raw["UNIT_MEASURE"].str.strip()
    if (units != "PT").any():
        raise WpsInputError(
            f"expected percentages (UNIT_MEASURE 'PT'), found {sorted(set(units) - {'PT'})}",
            dataset=dataset,
            file=path,
            column="UNIT_MEASURE",
            rows=_bad_rows(units != "PT"),
            hint=_HINT,
        )
    text = raw["OBS_VALUE"].str.strip()
    share = pd.to_numeric(text, errors="coerce")
    bad = (text != "") & (share.isna() | (share < 0) | (share > 100))
    if bad.any():
        raise WpsInputError(
            "shares must be numbers from 0 to 100",
            dataset=dataset,
            file=path,
            column="OBS_VALUE",
            rows=_bad_rows(bad),
            hint=_HINT,
        )
    year = pd.to_numeric(raw["TIME_PERIOD"].str.strip(), errors="coerce")
    if (year.isna() | (year % 1 != 0)).any():
        raise WpsInputError(
            "years must be whole numbers",
            dataset=dataset,
            file=path,
            column="TIME_PERIOD",
            rows=_bad_rows(year.isna() | (year % 1 != 0)),
            hint=_HINT,
        )
    column = raw.get
    tidy = pd.DataFrame(
        {
            "country": raw["REF_AREA_DESC"].str.strip(),
            "iso3": raw["ISO3"].str.strip().str.upper(),
            "m49": column("REF_AREA", pd.Series("", index=raw.index)).str.strip(),
            "year": year.astype("int64"),
            "share": share,
            "is_latest": column("isLatestValue", pd.Series("", index=raw.index))
            .str.strip()
            .str.casefold()
            .eq("true"),
            "nature": column("NATURE_DESC", pd.Series("", index=raw.index)).str.strip(),
            "file_line": np.arange(2, len(raw) + 2),
        }
    )
    tidy["source"] = female_police_source_label(path.name, _source_years(raw))
    tidy = tidy[text != ""]
    return tidy.sort_values(["iso3", "year"], kind="stable").reset_index(drop=True)


def _source_years(raw: pd.DataFrame) -> str:
    years = sorted(set(raw.get("SOURCE_YEAR", pd.Series(dtype=str)).str.strip()) - {""})
    return ", ".join(years)


def female_police_source_label(file_name: str, source_year: str) -> str:
    """One line naming the indicator, its source and date, and the file it was read from."""
    date = f", source year {source_year}" if source_year else ""
    return (
        "UN Statistics Division, Minimum Set of Gender Indicators IV.4 'Share of female police "
        f"officers' (UNODC UN-CTS{date}) ({file_name})"
    )


def asean_female_police_series(
    police: pd.DataFrame, countries: Iterable[str] | None = None
) -> pd.DataFrame:
    """The share of women among police over time for the ASEAN countries that report it."""
    codes = resolve_countries(countries)
    out = police[police["iso3"].isin(codes)].copy()
    out.insert(1, "short_name", [short_name(c) for c in out["iso3"]])
    return out.sort_values(["iso3", "year"], kind="stable").reset_index(drop=True)


def asean_female_police_latest(
    police: pd.DataFrame, countries: Iterable[str] | None = None
) -> pd.DataFrame:
    """One row per ASEAN country: the latest year and share, or blanks where nothing is published.

    The latest year is the highest year with a value (the file's ``isLatestValue`` flag agrees on
    the published file; this does not rely on it).
    """
    codes = resolve_countries(countries)
    series = asean_female_police_series(police, codes)
    latest = series.sort_values(["iso3", "year"]).groupby("iso3").tail(1).set_index("iso3")
    rows = []
    for code in codes:
        if code in latest.index:
            row = latest.loc[code]
            rows.append(
                (code, short_name(code), row["country"], int(row["year"]), float(row["share"]))
            )
        else:
            rows.append((code, short_name(code), ASEAN_NAMES.get(code, ""), pd.NA, np.nan))
    out = pd.DataFrame(rows, columns=["iso3", "short_name", "country", "year", "share"])
    out["year"] = out["year"].astype("Int64")
    out["source"] = "; ".join(sorted(set(police["source"]))) if len(police) else ""
    return out


class FemalePoliceContext(NamedTuple):
    """The latest share per ASEAN country and the series over time."""

    latest: pd.DataFrame
    series: pd.DataFrame


def asean_female_police(
    police: pd.DataFrame, countries: Iterable[str] | None = None
) -> FemalePoliceContext:
    """Latest share per ASEAN country (blank where none is published) and the series."""
    return FemalePoliceContext(
        asean_female_police_latest(police, countries), asean_female_police_series(police, countries)
    )
