"""Official statistics as context: UNODC GLOTIP export and UNSD share of female police."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from analysis.context import (
    ASEAN_ISO3,
    age_shares,
    asean_female_police,
    asean_victims,
    exploitation_shares,
    iso3_for,
    parse_count,
    read_female_police,
    read_glotip,
    regional_totals,
    resolve_countries,
    sex_shares,
)
from analysis.errors import WpsInputError

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference-data"
GLOTIP = REFERENCE / "trafficking" / "unodc_glotip_data_2025-04-14.xlsx"
POLICE = REFERENCE / "women_police" / "unstats_share_female_police_IV4.tsv"

HEADER = [
    "Iso3_code", "Country", "Region", "Subregion", "Indicator", "Dimension", "Category", "Sex",
    "Age", "Year", "Unit of measurement", "txtVALUE", "Source",
]  # fmt: skip
VICTIMS = "Detected trafficking victims"
FORM = "by form of exploitation"


def _row(iso3, country, sex, age, year, value, dimension="Total", category="Total"):
    return [iso3, country, "Asia", "South-eastern Asia", VICTIMS, dimension, category, sex, age,
            year, "Counts", value, "GLOTIP"]  # fmt: skip


def _write_export(path: Path, rows: list[list], title: bool = True) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "data_glotip_1"
    if title:
        sheet.append(["UNODC"])
        sheet.append(["14/04/2025"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _range(frame: pd.DataFrame) -> tuple[float, float]:
    assert len(frame) == 1, frame
    row = frame.iloc[0]
    return (row["value_low"], row["value_high"])


# --- parsing published cells ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1,469", (1469, 1469, False)),
        ("12,345,678", (12345678, 12345678, False)),
        (" 17 ", (17, 17, False)),
        ("0", (0, 0, False)),
        (42, (42, 42, False)),
        (42.0, (42, 42, False)),
        ("<5", (0, 4, True)),
        ("< 5", (0, 4, True)),
        ("&lt;5", (0, 4, True)),
        ("<10", (0, 9, True)),
    ],
)
def test_parse_count_reads_counts_and_censoring_markers(cell, expected):
    assert parse_count(cell) == expected


@pytest.mark.parametrize("cell", [None, "", "   ", float("nan")])
def test_parse_count_blank_is_missing_not_zero(cell):
    low, high, censored = parse_count(cell)
    assert math.isnan(low) and math.isnan(high) and not censored


@pytest.mark.parametrize("cell", ["1,46", "1.469,0", "x", "..", ">5", "<0", "-3", 2.5, "5-9"])
def test_parse_count_rejects_what_it_does_not_know(cell):
    assert parse_count(cell) is None


def test_asean_names_and_aliases():
    assert len(ASEAN_ISO3) == 10 and "TLS" not in ASEAN_ISO3
    assert iso3_for("Lao PDR") == iso3_for("Lao People's Democratic Republic") == "LAO"
    assert iso3_for("Vietnam") == iso3_for("Viet Nam") == iso3_for("vnm") == "VNM"
    assert iso3_for("Burma") == "MMR" and iso3_for("France") is None
    assert resolve_countries(["Laos", "THA"]) == ("LAO", "THA")
    with pytest.raises(ValueError, match="unknown country"):
        resolve_countries(["Atlantis"])


# --- synthetic exports -----------------------------------------------------------------------


@pytest.fixture
def small_export(tmp_path: Path) -> Path:
    rows = [
        _row("THA", "Thailand", "Female", "Total", 2020, "1,469"),
        _row("THA", "Thailand", "Male", "Total", 2020, "<5"),
        _row("THA", "Thailand", "Other", "Total", 2020, "<5"),
        _row("THA", "Thailand", "Total", "Total", 2020, "1,470"),
        _row("LAO", "Lao People's Democratic Republic", "Total", "Total", 2020, "<5"),
        _row("LAO", "Lao People's Democratic Republic", "Total", "Total", 2019, ""),
        _row("TLS", "Timor-Leste", "Total", "Total", 2020, "20"),
        _row("FRA", "France", "Total", "Total", 2020, "300"),
        # forms: THA sum 1,000 + <5 + <5 (repeated "Other" rows) <= total -> known-form basis
        _row("THA", "Thailand", "Total", "Total", 2020, "1,000", FORM, "Sexual exploitation"),
        _row("THA", "Thailand", "Total", "Total", 2020, "<5", FORM, "Other forms of exploitation"),
        _row("THA", "Thailand", "Total", "Total", 2020, "<5", FORM, "Other forms of exploitation"),
    ]
    return _write_export(tmp_path / "glotip_synthetic.xlsx", rows)


def test_read_glotip_synthetic(small_export):
    tidy = read_glotip(small_export)
    assert len(tidy) == 11
    assert tidy.attrs["published"] == "2025-04-14"
    assert "published 2025-04-14" in tidy["source"].iloc[0]
    thai_female = tidy[(tidy["iso3"] == "THA") & (tidy["sex"] == "Female")]
    assert _range(thai_female) == (1469, 1469)
    assert thai_female["sheet_row"].iloc[0] == 4  # two title rows, header on row 3
    male = tidy[(tidy["iso3"] == "THA") & (tidy["sex"] == "Male")]
    assert _range(male) == (0, 4) and bool(male["censored"].iloc[0])
    blank = tidy[(tidy["iso3"] == "LAO") & (tidy["year"] == 2019)]
    assert blank["value_low"].isna().all() and not blank["censored"].any()
    forms = tidy["form_of_exploitation"].dropna()
    assert set(forms) == {"Sexual exploitation", "Other forms of exploitation"}


def test_asean_victims_filters_and_keeps_ranges(small_export):
    victims = asean_victims(read_glotip(small_export))
    assert set(victims["iso3"]) == {"THA", "LAO"}  # not Timor-Leste, not France
    lao = victims[(victims["iso3"] == "LAO") & (victims["year"] == 2020)]
    assert _range(lao) == (0, 4) and bool(lao["censored"].iloc[0])
    with_tls = asean_victims(read_glotip(small_export), countries=[*ASEAN_ISO3, "TLS"])
    assert "TLS" in set(with_tls["iso3"])
    totals = regional_totals(victims[victims["sex"] == "Total"], by=["year"])
    row_2020 = totals[totals["year"] == 2020].iloc[0]
    assert (row_2020["value_low"], row_2020["value_high"]) == (1470, 1474)
    assert bool(row_2020["censored"]) and row_2020["countries"] == 2
    row_2019 = totals[totals["year"] == 2019].iloc[0]
    assert pd.isna(row_2019["value_low"])  # a blank stays blank, never 0


def test_sex_shares_are_ranges_over_known_sex(small_export):
    shares = sex_shares(asean_victims(read_glotip(small_export)))
    female = shares[(shares["iso3"] == "THA") & (shares["sex"] == "Female")].iloc[0]
    # female 1,469; male and other 0-4 each: known sex 1,469-1,477
    assert (female["denominator_low"], female["denominator_high"]) == (1469, 1477)
    assert female["share_low"] == pytest.approx(100 * 1469 / 1477)
    assert female["share_high"] == pytest.approx(100.0)
    male = shares[(shares["iso3"] == "THA") & (shares["sex"] == "Male")].iloc[0]
    assert male["share_low"] == 0 and male["share_high"] == pytest.approx(100 * 4 / 1473)
    assert "Total" not in set(shares["sex"])


def test_shares_of_censored_only_cells():
    frame = pd.DataFrame(
        {
            "iso3": ["SGP"] * 4,
            "country": ["Singapore"] * 4,
            "year": [2021, 2021, 2022, 2022],
            "sex": ["Total"] * 4,
            "age_group": ["0 to 17 years", "18 years or over"] * 2,
            "value_low": [0.0, 0, 0, 0],
            "value_high": [4.0, 4, 0, 0],
            "censored": [True, True, False, False],
            "cells": [1] * 4,
        }
    )
    shares = age_shares(frame)
    both_censored = shares[shares["year"] == 2021]
    assert (both_censored["share_low"] == 0).all() and (both_censored["share_high"] == 100).all()
    all_zero = shares[shares["year"] == 2022]
    assert all_zero["share_low"].isna().all() and all_zero["share_high"].isna().all()


def test_exploitation_shares_known_form_basis(small_export):
    shares = exploitation_shares(read_glotip(small_export))
    assert set(shares["denominator_basis"]) == {"victims with a known form"}
    other = shares[shares["form_of_exploitation"] == "Other forms of exploitation"].iloc[0]
    assert (other["value_low"], other["value_high"], other["cells"]) == (0, 8, 2)
    sexual = shares[shares["form_of_exploitation"] == "Sexual exploitation"].iloc[0]
    assert sexual["share_low"] == pytest.approx(100 * 1000 / 1008)
    assert sexual["share_high"] == pytest.approx(100.0)


def test_exploitation_shares_multi_counted_and_inconsistent(tmp_path):
    rows = [
        _row("PHL", "Philippines", "Total", "Total", 2019, "100"),
        _row("PHL", "Philippines", "Total", "Total", 2019, "70", FORM, "Forced labour"),
        _row("PHL", "Philippines", "Total", "Total", 2019, "60", FORM, "Sexual exploitation"),
        _row("MYS", "Malaysia", "Total", "Total", 2019, "50"),
        _row("MYS", "Malaysia", "Total", "Total", 2019, "80", FORM, "Sexual exploitation"),
    ]
    shares = exploitation_shares(read_glotip(_write_export(tmp_path / "forms.xlsx", rows)))
    phl = shares[shares["iso3"] == "PHL"]
    assert set(phl["denominator_basis"]) == {"all detected victims (forms multi-counted)"}
    assert phl["share_low"].sum() == pytest.approx(130.0)  # multi-response: above 100%
    mys = shares[shares["iso3"] == "MYS"].iloc[0]
    assert mys["denominator_basis"].startswith("none") and pd.isna(mys["share_low"])


def test_unknown_marker_names_file_column_and_rows(tmp_path):
    rows = [
        _row("THA", "Thailand", "Total", "Total", 2020, "12"),
        _row("THA", "Thailand", "Total", "Total", 2021, "x"),
        _row("THA", "Thailand", "Total", "Total", 2022, "n.a."),
    ]
    path = _write_export(tmp_path / "odd.xlsx", rows)
    with pytest.raises(WpsInputError) as caught:
        read_glotip(path)
    message = str(caught.value)
    assert "odd.xlsx" in message and "'txtVALUE'" in message and "rows 5, 6" in message
    assert "'x'" in message and "never guessed" in message


def test_missing_columns_and_missing_header_are_clear(tmp_path):
    book = Workbook()
    book.active.append(["Country", "Year", "Value"])
    book.active.append(["Thailand", 2020, 3])
    book.save(tmp_path / "other.xlsx")
    with pytest.raises(WpsInputError, match="no header row naming"):
        read_glotip(tmp_path / "other.xlsx")
    rows = [row[:11] + row[12:] for row in [_row("THA", "Thailand", "Total", "Total", 2020, "1")]]
    book = Workbook()
    book.active.append([c for c in HEADER if c != "txtVALUE"])
    book.active.append(rows[0])
    book.save(tmp_path / "novalue.xlsx")
    with pytest.raises(WpsInputError, match="lacks the columns txtVALUE"):
        read_glotip(tmp_path / "novalue.xlsx")


# --- UNSD synthetic --------------------------------------------------------------------------

UNSD_HEADER = ["REF_AREA", "REF_AREA_DESC", "ISO3", "TIME_PERIOD", "OBS_VALUE", "UNIT_MEASURE"]
UNSD_HEADER += ["NATURE_DESC", "SOURCE_YEAR", "isLatestValue"]


def _write_tsv(path: Path, rows: list[list], sep: str = "\t") -> Path:
    lines = [sep.join(UNSD_HEADER)] + [sep.join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_female_police_synthetic(tmp_path):
    rows = [
        [608, "Philippines", "PHL", 2013, "14.0", "PT", "Country Data", 2019, "False"],
        [608, "Philippines", "PHL", 2014, "15.0", "PT", "Country Data", 2019, "True"],
        [360, "Indonesia", "IDN", 2010, "", "PT", "Country Data", 2019, "True"],
    ]
    police = read_female_police(_write_tsv(tmp_path / "iv4.tsv", rows))
    assert list(police["iso3"]) == ["PHL", "PHL"]  # blank value dropped, not zero
    latest, series = asean_female_police(police)
    phl = latest.set_index("iso3").loc["PHL"]
    assert (phl["year"], phl["share"]) == (2014, 15.0)
    assert pd.isna(latest.set_index("iso3").loc["IDN", "share"])
    assert "source year 2019" in phl["source"]
    assert len(series) == 2


def test_female_police_errors(tmp_path):
    rows = [[608, "Philippines", "PHL", 2014, "150", "PT", "Country Data", 2019, "True"]]
    with pytest.raises(WpsInputError, match=r"column 'OBS_VALUE', row 2: shares must be"):
        read_female_police(_write_tsv(tmp_path / "bad.tsv", rows))
    with pytest.raises(WpsInputError, match="comma-separated"):
        read_female_police(_write_tsv(tmp_path / "commas.csv", rows, sep=","))
    rows[0][5] = "NUM"
    with pytest.raises(WpsInputError, match="UNIT_MEASURE"):
        read_female_police(_write_tsv(tmp_path / "unit.tsv", rows))


# --- the real published files ----------------------------------------------------------------


@pytest.fixture(scope="module")
def glotip() -> pd.DataFrame:
    if not GLOTIP.exists():
        pytest.skip(
            f"reference data {GLOTIP} is absent (shared/reference-data not beside the repo)"
        )
    return read_glotip(GLOTIP)


@pytest.fixture(scope="module")
def police() -> pd.DataFrame:
    if not POLICE.exists():
        pytest.skip(
            f"reference data {POLICE} is absent (shared/reference-data not beside the repo)"
        )
    return read_female_police(POLICE)


def _cell(tidy, iso3, year, sex="Total", age="Total", dimension="Total"):
    mask = (tidy["iso3"] == iso3) & (tidy["year"] == year) & (tidy["sex"] == sex)
    mask &= (tidy["age_group"] == age) & (tidy["dimension"] == dimension)
    return tidy[mask & (tidy["indicator"] == VICTIMS)]


def test_real_glotip_shape_and_source(glotip):
    assert len(glotip) == 58769
    assert glotip.attrs["published"] == "2025-04-14"
    assert glotip["source"].str.contains("published 2025-04-14").all()
    assert glotip["value_text"].eq("<5").sum() == glotip["censored"].sum() == 29558
    assert (glotip["value_low"] <= glotip["value_high"]).all()


def test_real_glotip_known_values(glotip):
    # Indonesia 2017, all victims: published as "1,469"
    total = _cell(glotip, "IDN", 2017)
    assert total["value_text"].iloc[0] == "1,469" and _range(total) == (1469, 1469)
    # Indonesia 2017, boys: published as "<5"
    boys = _cell(glotip, "IDN", 2017, sex="Male", age="0 to 17 years")
    assert boys["value_text"].iloc[0] == "<5" and _range(boys) == (0, 4)
    assert bool(boys["censored"].iloc[0])
    # Thailand 2019, adult men: "932"
    assert _range(_cell(glotip, "THA", 2019, sex="Male", age="18 years or over")) == (932, 932)


def test_real_asean_filter_and_range_totals(glotip):
    victims = asean_victims(glotip)
    assert set(victims["iso3"]) == set(ASEAN_ISO3)
    names = set(victims["country"])
    assert "Lao People's Democratic Republic" in names and "Viet Nam" in names
    assert "Timor-Leste" not in names
    everyone = victims[(victims["sex"] == "Total") & (victims["age_group"] == "Total")]
    row = regional_totals(everyone, by=["year"]).set_index("year").loc[2017]
    # BRN "<5" + IDN 1,469 + MMR 353 + MYS 1,119 + PHL 1,659 + SGP 16 + THA 471
    assert (row["value_low"], row["value_high"]) == (5087, 5091)
    assert bool(row["censored"]) and row["countries"] == 7


def test_real_shares(glotip):
    sexes = sex_shares(asean_victims(glotip))
    idn = sexes[
        (sexes["iso3"] == "IDN") & (sexes["year"] == 2017) & (sexes["age_group"] == "Total")
    ]
    female = idn[idn["sex"] == "Female"].iloc[0]
    assert female["share_low"] == pytest.approx(100 * 1450 / 1462)
    forms = exploitation_shares(glotip)
    cell = (forms["sex"] == "Total") & (forms["age_group"] == "Total")
    phl_2015 = forms[cell & (forms["iso3"] == "PHL") & (forms["year"] == 2015)]
    assert set(phl_2015["denominator_basis"]) == {"victims with a known form"}
    assert phl_2015["share_low"].sum() == pytest.approx(100.0)
    phl_2019 = forms[cell & (forms["iso3"] == "PHL") & (forms["year"] == 2019)]
    assert set(phl_2019["denominator_basis"]) == {"all detected victims (forms multi-counted)"}
    assert phl_2019["share_low"].sum() > 100
    assert (forms["share_high"].dropna() <= 100 + 1e-9).all()
    assert (forms["share_low"].dropna() <= forms["share_high"].dropna() + 1e-9).all()


def _file_rows(path: Path) -> dict[tuple[str, int], str]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        return {(r["ISO3"], int(r["TIME_PERIOD"])): r for r in reader}


def test_real_female_police(police):
    assert len(police) == 754 and police["iso3"].nunique() == 104
    file_rows = _file_rows(POLICE)
    latest, series = asean_female_police(police)
    latest = latest.set_index("iso3")
    for iso3, year, share in [("IDN", 2010, 3.0), ("PHL", 2014, 14.0), ("MMR", 2015, 6.0)]:
        row = latest.loc[iso3]
        assert (row["year"], row["share"]) == (year, share)
        assert 0 < row["share"] < 50  # plausible for the region
        assert row["share"] == float(file_rows[(iso3, year)]["OBS_VALUE"])
        assert file_rows[(iso3, year)]["isLatestValue"] == "True"
    assert pd.isna(latest.loc["LAO", "share"]) and pd.isna(latest.loc["LAO", "year"])
    assert latest.loc["LAO", "short_name"] == "Lao PDR"
    assert list(series.loc[series["iso3"] == "PHL", "share"]) == [9, 9, 10, 11, 12, 13, 14, 14]
    flagged = police[police["is_latest"]].set_index("iso3")["year"]
    assert flagged.equals(police.groupby("iso3")["year"].max().loc[flagged.index])
