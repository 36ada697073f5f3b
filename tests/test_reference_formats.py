"""Every real third-party file in ../shared/reference-data/formats is read or cleanly refused.

Facts asserted below come from formats/SOURCE.txt (which cites the pyreadstat and haven test
suites); nothing here is copied into the repository.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import WpsInputError
from analysis.io import RawTable, read_ingested, read_raw, write_ingested

FORMATS = Path(__file__).resolve().parents[2] / "shared" / "reference-data" / "formats"
ALL_FILES = sorted(p for p in FORMATS.glob("*/*") if p.is_file()) if FORMATS.is_dir() else []


def _read(reference_data: Path, name: str) -> RawTable:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_raw(reference_data / "formats" / name, "reference")


@pytest.mark.parametrize("path", ALL_FILES, ids=[f"{p.parent.name}/{p.name}" for p in ALL_FILES])
def test_every_file_is_read_or_refused_clearly(reference_data: Path, path: Path, tmp_path: Path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = read_raw(path, "reference")
    except WpsInputError as err:  # any other exception type fails the test
        assert str(path) in str(err) and "What to do" in str(err)
        return
    assert isinstance(table, RawTable) and len(table.data.columns) > 0
    write_ingested(table, tmp_path / "w.parquet", tmp_path / "w.meta.json")
    back = read_ingested(tmp_path / "w.parquet", tmp_path / "w.meta.json")
    pd.testing.assert_frame_equal(back.data, table.data)
    assert back.value_labels == table.value_labels
    assert back.missing_codes == table.missing_codes


def test_reference_folder_is_not_empty(reference_data: Path):
    assert len(ALL_FILES) >= 40


def test_sas_format_catalog_is_refused_as_not_data(reference_data: Path):
    with pytest.raises(WpsInputError, match="format catalog"):
        _read(reference_data, "pyreadstat/missing_data_missing_formats.sas7bcat")


@pytest.mark.parametrize("ext", ["sav", "zsav", "por", "dta", "sas7bdat", "xpt"])
def test_basic_sample_same_table_in_six_formats(reference_data: Path, ext: str):
    table = _read(reference_data, f"pyreadstat/basic_sample.{ext}")
    data = table.data.rename(columns=str.lower)
    assert len(data) == 5
    assert data["mychar"].tolist()[:3] == ["a", "b", "c"]
    assert data["mynum"].tolist()[:3] == [1.1, 1.2, -1000.3]
    # date formats are read as whole-second datetimes at midnight (one NumPy step, not a
    # Python date object per cell)
    assert data["mydate"].dtype == "datetime64[s]"
    assert (data["mydate"].dropna() == data["mydate"].dropna().dt.normalize()).all()
    assert data["mydate"].dt.date.tolist()[:4] == [
        dt.date(2018, 5, 6),
        dt.date(1880, 5, 6),
        dt.date(1960, 1, 1),
        dt.date(1583, 1, 1),  # pre-epoch dates survive
    ]
    assert pd.isna(data["mydate"].iloc[4]) and pd.isna(data["dtime"].iloc[4])
    if ext in {"sav", "zsav", "por", "dta"}:
        labels = {k.lower(): v for k, v in table.value_labels.items()}
        assert labels["mylabl"] == {1: "Male", 2: "Female"}
        assert labels["myord"] == {1: "low", 2: "medium", 3: "high"}
    if ext in {"sav", "zsav"}:
        assert table.encoding == "windows-1252"


def test_spss_user_missing_ranges_and_codes(reference_data: Path):
    table = _read(reference_data, "pyreadstat/basic_sample_missing.sav")
    assert table.missing_ranges["mynum"] == [(2000.0, 3000.0)]
    assert table.missing_codes["mynum"] == [-1.0, 2500.0]  # -1 declared; 2500 observed in range
    assert table.missing_codes["mylabl"] == [-1.0]
    assert table.missing_codes["myord"] == [-3.0, -2.0, -1.0]
    assert table.value_labels["mylabl"] == {-1.0: "undetermined", 1.0: "Male", 2.0: "Female"}
    # rows 6-7 keep the user-missing codes as values
    assert table.data["mynum"].tolist()[5:7] == [-1.0, 2500.0]
    assert table.data["myord"].tolist()[5:7] == [-1.0, -3.0]


def test_user_missing_agrees_with_pyreadstat_csv(reference_data: Path):
    """The reference CSV written with user_missing=True holds the same values we keep."""
    table = _read(reference_data, "pyreadstat/basic_sample_missing.sav")
    expected = _read(reference_data, "pyreadstat/basic_sample_missing_user.csv").data
    assert table.data["myord"].tolist() == expected["myord"].astype(float).tolist()


def test_string_and_numeric_user_missing_values(reference_data: Path):
    char = _read(reference_data, "pyreadstat/missing_data_missing_char.sav")
    assert char.missing_codes == {"mychar": ["Z"]} and char.data["mychar"].tolist()[0] == "Z"
    num = _read(reference_data, "pyreadstat/missing_data_missing_test.sav")
    assert num.missing_codes == {"var1": [1.0]} and num.value_labels["var1"][1.0] == "missing"
    na = _read(reference_data, "haven/labelled-num-na.sav")
    assert na.data["VAR00002"].tolist()[1] == 9.0 and na.missing_codes["VAR00002"] == [9.0]


def test_stata_and_sas_tagged_missings_are_distinct(reference_data: Path):
    dta = _read(reference_data, "pyreadstat/missing_data_missing_test.dta")
    row = dta.data.iloc[0]
    assert [row[f"var{i}"] for i in range(1, 7)] == [".a", ".b", ".c", ".x", ".y", ".z"]
    assert pd.isna(row["var7"]) and pd.isna(row["var8"]) and row["var9"] == 1
    assert dta.value_labels["var1"] == {".a": "missing"}
    sas = _read(reference_data, "pyreadstat/missing_data_missing_test.sas7bdat")
    assert [sas.data.iloc[0][f"var{i}"] for i in range(1, 8)] == [
        ".A", ".B", ".C", ".X", ".Y", ".Z", "._"
    ]  # fmt: skip
    for name in ("haven/tagged-na-double.dta", "haven/tagged-na-int.dta"):
        table = _read(reference_data, name)
        assert table.data["x"].tolist()[5:] == [".a", ".h", ".z"]
        assert table.missing_codes["x"] == [".a", ".h", ".z"]
        assert table.value_labels["x"][".a"] == "apple"


def test_far_future_spss_datetime_is_read(reference_data: Path):
    """haven/datetime.sav: pyreadstat raises OverflowError; haven's expected values hold."""
    table = _read(reference_data, "haven/datetime.sav")
    assert table.data["date"].iloc[0] == dt.date(2014, 9, 22)
    assert table.data["date.posix"].iloc[1] == pd.Timestamp("2014-09-23 15:59:20")
    seconds = table.data["time"].iloc[0]
    assert seconds.hour * 3600 + seconds.minute * 60 + seconds.second == 43870


def test_labels_encodings_and_long_strings(reference_data: Path):
    assert _read(reference_data, "haven/variable-label.sav").variable_labels["sex"] == "Gender"
    assert _read(reference_data, "haven/labelled-num.sav").value_labels["VAR00002"] == {
        1.0: "This is one"
    }
    assert _read(reference_data, "haven/labelled-str.sav").value_labels["gender"] == {
        "F": "Female",
        "M": "Male",
    }
    umlauts = _read(reference_data, "haven/umlauts.sav")
    assert umlauts.variable_labels["var1"] == "This is an ä-umlaut"
    assert next(iter(umlauts.value_labels["var1"].values())) == "the ä umlaut"
    telugu = _read(reference_data, "pyreadstat/basic_tegulu.sav")
    assert telugu.data.iloc[0, 1] == "నేను గతంలో వాడిన బ"
    assert _read(reference_data, "pyreadstat/basic_hebrews.sav").data.columns[0] == "ותק_ב"
    width = _read(reference_data, "pyreadstat/basic_test_width.sav")
    assert width.file_info["formats"]["StartDate"] == "A1024"
    notes = _read(reference_data, "haven/notes.dta")
    assert notes.file_info["file_label"] == "This is a test dataset."
    # Stata keeps the note count in note0; the one real note is note1
    assert notes.file_info["notes"] == ["Reference: https://github.com/hadley/haven/issues/186"]
    dates = _read(reference_data, "haven/datetime-d.dta").data["date"]
    assert dates.dtype == "datetime64[s]" and dates.iloc[0] == pd.Timestamp(2015, 11, 2)
    iris = _read(reference_data, "haven/iris.sav")
    assert len(iris.data) == 150 and len(iris.value_labels["Species"]) == 3


def test_unodc_glotip_export_header_below_title_rows(reference_data: Path):
    """A real Excel export: title rows above the header, a wrong declared range, '<5' cells."""
    if os.environ.get("WPS_SLOW_TESTS") != "1":
        pytest.skip("reads 58,769 spreadsheet rows (about 10 s of CPU); set WPS_SLOW_TESTS=1")
    path = reference_data / "trafficking" / "unodc_glotip_data_2025-04-14.xlsx"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    table = read_raw(path, "glotip", expected_columns=["Iso3_code", "Indicator", "txtVALUE"])
    assert table.file_info["header_row"] == 3
    assert table.data.shape == (58769, 13)
    assert table.data["Indicator"].value_counts()["Detected trafficking victims"] == 39485
    assert "<5" in set(table.data["txtVALUE"])


@pytest.mark.parametrize("path", ALL_FILES, ids=[f"{p.parent.name}/{p.name}" for p in ALL_FILES])
def test_a_file_read_in_two_processes_is_the_same_table(reference_data: Path, path: Path):
    """A large wave's job reads SPSS, Stata and SAS files in two row chunks at once: the same
    table (data, labels, missing codes, file facts) as one process reads, for every file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            one = read_raw(path, "reference")
        except WpsInputError:
            with pytest.raises(WpsInputError):
                read_raw(path, "reference", processes=2)
            return
        two = read_raw(path, "reference", processes=2)
    pd.testing.assert_frame_equal(two.data, one.data)
    assert two.value_labels == one.value_labels
    assert two.missing_codes == one.missing_codes
    assert two.missing_ranges == one.missing_ranges
    assert two.file_info == one.file_info
