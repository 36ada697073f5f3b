"""Reading raw files (analysis.io) and the input-error messages (analysis.errors)."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from openpyxl import Workbook

from analysis.errors import (
    CodebookError,
    ConfigError,
    IngestError,
    IngestWarning,
    StructuralError,
    WpsInputError,
)
from analysis.io import RawTable, read_ingested, read_raw, sniff, write_ingested

# --------------------------------------------------------------------------- error messages


def test_error_message_names_everything_in_order():
    err = WpsInputError(
        "value 250 is above the maximum 65",
        dataset="officer_survey",
        file=Path("data/raw/officer_survey/2025.sav"),
        column="age",
        rows=[4, 17],
        hint="correct the value at source",
    )
    assert str(err) == (
        "officer_survey: data/raw/officer_survey/2025.sav: column 'age', rows 4, 17: "
        "value 250 is above the maximum 65. What to do: correct the value at source"
    )
    assert isinstance(err, ValueError)
    assert (err.dataset, err.file, err.column, err.rows) == (
        "officer_survey",
        "data/raw/officer_survey/2025.sav",
        "age",
        [4, 17],
    )


def test_error_message_shows_at_most_ten_rows():
    err = WpsInputError("bad", file="f.csv", rows=range(1, 16))
    assert "rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 5 more" in str(err)
    assert "11" not in str(err).split("and")[0]
    assert "row 3:" in str(WpsInputError("bad", rows=[3]))


def test_error_message_without_location_is_just_the_problem():
    assert str(WpsInputError("nothing here")) == "nothing here."


@pytest.mark.parametrize("cls", [IngestError, StructuralError, CodebookError, ConfigError])
def test_error_subclasses_keep_fields_through_pickle(cls):
    err = cls("broken", dataset="d", file="x.sav", column="c", rows=[2], hint="fix")
    assert isinstance(err, WpsInputError)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls and str(back) == str(err)


# --------------------------------------------------------------------------- fixtures


def _survey_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1.0, 2.0, 3.0, 4.0],
            "sex": [1.0, 2.0, 99.0, 2.0],
            "score": [10.0, 950.0, 20.0, 999.0],
            "name": ["Ana", "Binh", "Z", "Dao"],
        }
    )


@pytest.fixture
def sav_file(tmp_path: Path) -> Path:
    path = tmp_path / "2025.sav"
    pyreadstat.write_sav(
        _survey_frame(),
        path,
        column_labels={"sex": "Sex of respondent", "score": "Test score"},
        variable_value_labels={"sex": {1: "Man", 2: "Woman", 99: "Refused"}},
        missing_ranges={"sex": [99], "score": [{"lo": 900, "hi": 999}], "name": ["Z"]},
    )
    return path


# --------------------------------------------------------------------------- statistical formats


def test_sav_keeps_labels_and_user_missing_codes_as_values(sav_file: Path):
    table = read_raw(sav_file, "officer_survey")
    assert table.source_format == "sav"
    assert table.data["sex"].tolist() == [1.0, 2.0, 99.0, 2.0]  # 99 kept, not NaN
    assert table.data["score"].tolist() == [10.0, 950.0, 20.0, 999.0]
    assert table.variable_labels["sex"] == "Sex of respondent"
    assert table.value_labels["sex"] == {1.0: "Man", 2.0: "Woman", 99.0: "Refused"}
    assert table.missing_codes["sex"] == [99.0]
    assert table.missing_codes["name"] == ["Z"]
    # a declared range: the range itself, and the observed values that fall in it
    assert table.missing_ranges["score"] == [(900.0, 999.0)]
    assert table.missing_codes["score"] == [950.0, 999.0]
    assert 10.0 not in table.missing_codes["score"]


def test_dta_tagged_missing_stay_distinct_from_values(tmp_path: Path):
    path = tmp_path / "2024.dta"
    frame = pd.DataFrame({"x": [1.0, "a", 3.0, "z"], "note": ["p", "q", "r", "s"]})
    pyreadstat.write_dta(
        frame,
        path,
        missing_user_values={"x": ["a", "z"]},
        variable_value_labels={"x": {1: "one", "a": "refused"}},
        column_labels={"x": "Knowledge score"},
    )
    table = read_raw(path, "training")
    assert table.data["x"].tolist() == [1.0, ".a", 3.0, ".z"]
    assert table.missing_codes == {"x": [".a", ".z"]}
    assert table.value_labels["x"] == {1: "one", ".a": "refused"}
    assert table.variable_labels == {"x": "Knowledge score"}
    assert table.data["note"].tolist() == ["p", "q", "r", "s"]  # strings untouched


def test_xpt_is_read_with_labels(tmp_path: Path):
    path = tmp_path / "w.xpt"
    frame = pd.DataFrame({"AGE": [30.0, 41.0], "SITE": ["A", "B"]})
    pyreadstat.write_xport(frame, path, column_labels={"AGE": "Age in years"})
    table = read_raw(path)
    assert table.source_format == "xpt"
    assert table.data["AGE"].tolist() == [30.0, 41.0]
    assert table.variable_labels["AGE"] == "Age in years"


def test_far_future_datetime_is_read_not_crashed(tmp_path: Path):
    """pyreadstat overflows on dates past Python's year 9999; we convert them ourselves."""
    path = tmp_path / "dates.sav"
    spss_2014 = (dt.datetime(2014, 9, 23, 15, 59, 20) - dt.datetime(1582, 10, 14)).total_seconds()
    frame = pd.DataFrame({"when": [spss_2014, 6.306150e12], "day": [spss_2014, spss_2014]})
    pyreadstat.write_sav(frame, path, variable_format={"when": "DATETIME20", "day": "ADATE10"})
    with pytest.raises(OverflowError):
        pyreadstat.read_sav(str(path))  # the problem we handle
    table = read_raw(path)
    assert table.data["when"].iloc[0] == pd.Timestamp("2014-09-23 15:59:20")
    assert table.data["when"].iloc[1].year > 9999  # kept, not turned into NaT
    assert table.data["day"].tolist() == [dt.date(2014, 9, 23)] * 2
    assert "dates_converted_by" in table.file_info


def test_datetime_beyond_any_range_is_kept_as_numbers_with_a_note(tmp_path: Path):
    path = tmp_path / "dates.sav"
    frame = pd.DataFrame({"when": [13630870760.0, 1e17]})  # 1e17 s: past any datetime64
    pyreadstat.write_sav(frame, path, variable_format={"when": "DATETIME20"})
    with pytest.warns(IngestWarning, match="when"):
        table = read_raw(path, "officer_survey")
    assert table.data["when"].tolist() == [13630870760.0, 1e17]
    note = table.file_info["dates_kept_as_numbers"]["when"]
    assert note["rows"] == [2] and note["unit"] == "seconds since 1582-10-14"


# --------------------------------------------------------------------------- refused files


@pytest.mark.parametrize("ext", [".sav", ".zsav", ".por", ".dta", ".sas7bdat", ".xpt", ".csv"])
def test_empty_file_is_refused_naming_the_file(tmp_path: Path, ext: str):
    path = tmp_path / f"2025{ext}"
    path.write_bytes(b"")
    with pytest.raises(IngestError, match="empty") as info:
        read_raw(path, "officer_survey")
    assert str(path) in str(info.value) and "officer_survey" in str(info.value)
    assert "What to do" in str(info.value)


def test_empty_xlsx_file_is_refused(tmp_path: Path):
    path = tmp_path / "2024.xlsx"
    path.write_bytes(b"")
    with pytest.raises(IngestError, match="empty"):
        read_raw(path)


def test_sav_that_is_really_an_xlsx_is_refused(tmp_path: Path):
    book = Workbook()
    book.active.append(["a", "b"])
    path = tmp_path / "2025.sav"
    book.save(path)
    with pytest.raises(IngestError) as info:
        read_raw(path, "officer_survey")
    message = str(info.value)
    assert str(path) in message and "zip archive" in message and "SPSS .sav" in message


def test_dta_that_is_really_text_is_refused(tmp_path: Path):
    path = tmp_path / "2024.dta"
    path.write_text("id,score\n1,2\n", encoding="utf-8")
    with pytest.raises(IngestError, match="plain text") as info:
        read_raw(path)
    assert str(path) in str(info.value)


def test_csv_that_is_really_a_sav_is_refused(sav_file: Path, tmp_path: Path):
    path = tmp_path / "2025.csv"
    path.write_bytes(sav_file.read_bytes())
    with pytest.raises(IngestError, match=r"looks like an SPSS \.sav file"):
        read_raw(path)


def test_unsupported_extension_and_missing_file(tmp_path: Path):
    odd = tmp_path / "2025.ods"
    odd.write_bytes(b"PK\x03\x04")
    with pytest.raises(IngestError, match="unsupported file type '.ods'"):
        read_raw(odd)
    with pytest.raises(IngestError, match="not found"):
        read_raw(tmp_path / "absent.sav")


@pytest.mark.parametrize("ext", [".sav", ".dta", ".xlsx"])
def test_truncated_file_is_refused_naming_the_file(tmp_path: Path, ext: str):
    whole = tmp_path / f"whole{ext}"
    frame = pd.DataFrame({"id": np.arange(200, dtype=float), "txt": ["text"] * 200})
    if ext == ".sav":
        pyreadstat.write_sav(frame, whole)
    elif ext == ".dta":
        pyreadstat.write_dta(frame, whole)
    else:
        frame.to_excel(whole, index=False)
    cut = tmp_path / f"2025{ext}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(IngestError) as info:
        read_raw(cut, "officer_survey")
    assert str(cut) in str(info.value)
    assert "What to do" in str(info.value)


# --------------------------------------------------------------------------- CSV


def test_cp1252_csv_is_decoded_with_a_warning(tmp_path: Path):
    path = tmp_path / "2025.csv"
    path.write_bytes("id,city,note\n1,São Paulo,€ 5\n2,Hà Nội?,café\n".encode("cp1252", "replace"))
    with pytest.warns(IngestWarning, match="cp1252") as record:
        table = read_raw(path, "officer_survey")
    assert str(path) in str(record[0].message)
    assert table.encoding == "cp1252"
    assert table.data["city"].tolist()[0] == "São Paulo"
    assert table.data["note"].tolist() == ["€ 5", "café"]


def test_utf8_csv_with_bom_reads_without_warning(tmp_path: Path):
    path = tmp_path / "2025.csv"
    path.write_bytes("\ufeffid;name\n1;Nguyễn\n".encode())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = read_raw(path)
    assert table.encoding == "utf-8-sig"
    assert list(table.data.columns) == ["id", "name"]  # BOM gone, ';' detected
    assert table.data["name"].tolist() == ["Nguyễn"]


def test_csv_numbers_inferred_only_when_lossless(tmp_path: Path):
    path = tmp_path / "2025.csv"
    path.write_text(
        'id,code,age,share,country,count\n1,007,30,0.5,NA,"1,469"\n2,010,,1.25,VNM,<5\n',
        encoding="utf-8",
    )
    data = read_raw(path).data
    assert data["id"].tolist() == [1, 2] and data["id"].dtype == np.int64
    assert data["code"].tolist() == ["007", "010"]  # leading zeros kept
    assert data["age"].iloc[0] == 30 and pd.isna(data["age"].iloc[1])
    assert data["share"].tolist() == [0.5, 1.25]
    assert data["country"].tolist() == ["NA", "VNM"]  # "NA" is Namibia, not missing
    assert data["count"].tolist() == ["1,469", "<5"]


def test_csv_long_identifiers_stay_text(tmp_path: Path):
    path = tmp_path / "2025.csv"
    path.write_text("phone,ratio\n84912345678901234567,0.12345678901234567890\n", encoding="utf-8")
    data = read_raw(path).data
    assert data["phone"].tolist() == ["84912345678901234567"]  # a float would lose digits
    assert data["ratio"].tolist() == ["0.12345678901234567890"]


def test_csv_with_repeated_column_names_is_refused(tmp_path: Path):
    path = tmp_path / "2025.csv"
    path.write_text("id,score,score\n1,2,3\n", encoding="utf-8")
    with pytest.raises(IngestError, match="repeats the column name 'score'") as info:
        read_raw(path)
    assert info.value.column == "score" and str(path) in str(info.value)


# --------------------------------------------------------------------------- Excel


def _titled_workbook(path: Path) -> None:
    book = Workbook()
    ws = book.active
    ws.title = "export"
    ws["A1"] = "Interview coding export"
    ws.merge_cells("A1:D1")
    ws["A2"] = "Generated 2024-05-01"
    ws.append([])  # row 3: empty
    ws.append(["interview_id", "code", None, "coder"])  # row 4: header, column C empty
    ws.append(["INT-01", "recruitment", None, "c1"])  # row 5
    ws.append([None, "debt", None, "c1"])  # row 6: interview_id merged from row 5
    ws.merge_cells("A5:A6")
    ws.append([])  # row 7: empty, dropped
    ws.append(["INT-02", "threats", None, "c2"])  # row 8
    book.save(path)


def test_xlsx_title_rows_merged_cells_and_empty_lines(tmp_path: Path):
    path = tmp_path / "2024.xlsx"
    _titled_workbook(path)
    table = read_raw(path, "interviews")
    assert list(table.data.columns) == ["interview_id", "code", "coder"]
    assert table.data["interview_id"].tolist() == ["INT-01", "INT-01", "INT-02"]
    assert table.data["code"].tolist() == ["recruitment", "debt", "threats"]
    assert table.file_info["header_row"] == 4
    assert table.file_info["sheet_rows"] == [5, 6, 8]
    assert "A5:A6" in table.file_info["merged_cells_filled"]


def test_xlsx_expected_columns_locate_the_header(tmp_path: Path):
    path = tmp_path / "2024.xlsx"
    book = Workbook()
    ws = book.active
    ws.append(["Source", "UNODC", "Date"])  # looks like a header to any heuristic
    ws.append(["iso3", "year", "value"])
    ws.append(["VNM", 2020, 12])
    book.save(path)
    assert list(read_raw(path).data.columns) == ["Source", "UNODC", "Date"]
    table = read_raw(path, expected_columns=["iso3", "year", "value"])
    assert list(table.data.columns) == ["iso3", "year", "value"]
    assert table.data["year"].tolist() == [2020]
    with pytest.raises(IngestError, match="no header row naming"):
        read_raw(path, expected_columns=["respondent_id", "sex"])


def test_xlsx_unnamed_data_column_is_refused(tmp_path: Path):
    path = tmp_path / "2024.xlsx"
    book = Workbook()
    book.active.append(["id", None, "score"])
    book.active.append([1, "x", 2])
    book.save(path)
    with pytest.raises(IngestError, match="column B holds data but has no name"):
        read_raw(path, "interviews")


# --------------------------------------------------------------------------- long strings


def test_100000_character_string_survives_csv_dta_and_parquet(tmp_path: Path):
    long = "ký" * 50_000
    csv_path = tmp_path / "2025.csv"
    csv_path.write_text(f'id,text\n1,"{long}"\n2,short\n', encoding="utf-8")
    dta_path = tmp_path / "2024.dta"
    pyreadstat.write_dta(pd.DataFrame({"id": [1.0], "text": [long]}), dta_path)
    for path in (csv_path, dta_path):
        table = read_raw(path)
        assert table.data["text"].iloc[0] == long
        write_ingested(table, tmp_path / "w.parquet", tmp_path / "w.meta.json")
        back = read_ingested(tmp_path / "w.parquet", tmp_path / "w.meta.json")
        assert back.data["text"].iloc[0] == long


# --------------------------------------------------------------------------- ingested round trip


def _assert_same(a: RawTable, b: RawTable) -> None:
    pd.testing.assert_frame_equal(a.data, b.data)
    for name in (
        "variable_labels",
        "value_labels",
        "missing_codes",
        "missing_ranges",
        "source_format",
        "encoding",
        "file_info",
    ):
        assert getattr(a, name) == getattr(b, name), name
    for column, labels in a.value_labels.items():  # keys keep their type (1.0 is not "1.0")
        assert [type(k) for k in labels] == [type(k) for k in b.value_labels[column]]


def test_round_trip_of_sav_is_exact_and_deterministic(sav_file: Path, tmp_path: Path):
    table = read_raw(sav_file)
    first = (tmp_path / "a.parquet", tmp_path / "a.meta.json")
    second = (tmp_path / "b.parquet", tmp_path / "b.meta.json")
    write_ingested(table, *first)
    write_ingested(read_raw(sav_file), *second)
    assert first[0].read_bytes() == second[0].read_bytes()
    assert first[1].read_bytes() == second[1].read_bytes()
    _assert_same(table, read_ingested(*first))
    text = first[1].read_text(encoding="utf-8")
    assert text.endswith("}\n")
    meta = json.loads(text)
    assert text == json.dumps(meta, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert meta["n_rows"] == 4 and meta["columns"] == ["id", "sex", "score", "name"]
    assert {"value": "99.0", "type": "float", "label": "Refused"} in meta["value_labels"]["sex"]


def test_round_trip_of_mixed_and_date_columns(tmp_path: Path):
    frame = pd.DataFrame(
        {
            "mixed": [1, "a", 2.5, None, dt.date(2020, 1, 2)],
            "tagged": [1.0, ".a", np.nan, 4.0, ".z"],
            "day": [dt.date(2020, 1, 1), None, dt.date(1583, 1, 1), dt.date(2024, 2, 29), None],
            "clock": [dt.time(10, 10, 10), None, None, None, dt.time(0, 0)],
            "when": pd.to_datetime(
                ["2020-01-01 10:00", None, "1880-05-06 00:00", None, None]
            ).astype("datetime64[us]"),
            "num": [1.5, np.nan, 3.0, 4.0, 5.0],
            "text": pd.Series(["x", None, "z", "", "w"], dtype="str"),
        }
    )
    table = RawTable(
        data=frame,
        variable_labels={"tagged": "Score"},
        value_labels={"tagged": {1.0: "low", ".a": "refused"}, "text": {"x": "ex"}},
        missing_codes={"tagged": [".a", ".z"]},
        source_format="dta",
        encoding=None,
        missing_ranges={"num": [(900.0, 999.0)]},
        file_info={"sheet": "x"},
    )
    parquet, meta = tmp_path / "m.parquet", tmp_path / "m.meta.json"
    write_ingested(table, parquet, meta)
    back = read_ingested(parquet, meta)
    _assert_same(table, back)
    assert [type(v) for v in back.data["mixed"]][:3] == [int, str, float]


def test_read_ingested_refuses_a_mismatched_sidecar(sav_file: Path, tmp_path: Path):
    table = read_raw(sav_file)
    parquet, meta = tmp_path / "m.parquet", tmp_path / "m.meta.json"
    write_ingested(table, parquet, meta)
    doc = json.loads(meta.read_text(encoding="utf-8"))
    doc["n_rows"] = 99
    meta.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(IngestError, match="does not match"):
        read_ingested(parquet, meta)


def test_sniff_names_common_kinds():
    assert sniff(b"$FL2@(#) IBM SPSS") == "sav"
    assert sniff(b"<stata_dta><header>") == "dta"
    assert sniff(b"%PDF-1.7") == "pdf"
    assert sniff(b"<!DOCTYPE html><html>") == "html"
    assert sniff(b"a,b\n1,2\n") == "text"


def test_an_spss_wave_read_in_two_row_chunks_is_the_same_table() -> None:
    """A large wave's job reads its .sav in two row chunks at once: the bundled wave is read
    that way (not by the one-process fallback) into the same table."""
    import pyreadstat

    from analysis.io import read_raw, statfiles

    path = Path(__file__).resolve().parents[1] / "data/raw/officer_survey/2025.sav"
    chunked = statfiles._read_in_chunks(
        pyreadstat.read_sav, path, 2, user_missing=True, dates_as_pandas_datetime=True
    )
    assert chunked is not None
    one, two = read_raw(path, "officer_survey"), read_raw(path, "officer_survey", processes=2)
    pd.testing.assert_frame_equal(two.data, one.data)
    assert (two.value_labels, two.missing_codes) == (one.value_labels, one.missing_codes)
    assert two.file_info == one.file_info
