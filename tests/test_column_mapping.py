"""Column mapping: a field's `x-source-name` reads a raw column whose name is not a valid field
name (`sch.wide` -> `sch_wide`), so raw files are never edited; a mapping to a column the file
lacks is a clear error."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from analysis.clean.wave import clean
from analysis.errors import CodebookError, StructuralError
from analysis.io import RawTable, read_raw
from analysis.validate.codebook import codebook_from_dict
from analysis.validate.wave import validate

KEY = b"test-key-0123456789abcdef"
SCHOOLS = {
    "name": "schools",
    "primaryKey": ["snum"],
    "fields": [
        {"name": "snum", "type": "integer"},
        {
            "name": "sch_wide",
            "type": "string",
            "x-source-name": "sch.wide",
            "title": "Met school-wide growth target",
            "constraints": {"required": True, "enum": ["Yes", "No"]},
        },
        {"name": "api00", "type": "integer"},
    ],
}


def api_like(tmp_path: Path) -> Path:
    path = tmp_path / "2000.csv"
    pd.DataFrame(
        {"snum": [1, 2, 3], "sch.wide": ["Yes", "No", "Yes"], "api00": [700, 650, 801]}
    ).to_csv(path, index=False)
    return path


def test_dotted_column_is_read_under_its_field_name(tmp_path: Path) -> None:
    path = api_like(tmp_path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    result = validate(read_raw(path), codebook_from_dict(SCHOOLS), dataset="schools", file="2000")
    assert result.report["rows_valid"] == 3 and result.report["unknown_columns"] == []
    assert result.valid["sch_wide"].tolist() == ["Yes", "No", "Yes"]
    assert "sch.wide" not in result.valid.columns
    cleaned = clean(result.valid, codebook_from_dict(SCHOOLS), dataset="schools", wave="2000",
                    key=KEY)  # fmt: skip
    assert cleaned.data["sch_wide"].tolist() == ["Yes", "No", "Yes"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # raw file never edited


def test_the_real_api_file_maps_without_editing(reference_data: Path) -> None:
    path = reference_data / "api" / "apistrat.csv"
    spec = {
        "name": "schools",
        "fields": [
            {"name": "sch_wide", "type": "string", "x-source-name": "sch.wide",
             "constraints": {"enum": ["Yes", "No"]}},
            {"name": "api00", "type": "integer"},
        ],
    }  # fmt: skip
    result = validate(read_raw(path), codebook_from_dict(spec), dataset="schools", file="apistrat")
    assert result.report["rows_quarantined"] == 0
    assert result.valid["sch_wide"].isin(["Yes", "No"]).all() and len(result.valid) == 200


def test_mapping_to_a_column_the_file_lacks_names_field_file_and_columns(tmp_path: Path) -> None:
    spec = {**SCHOOLS, "fields": [dict(f) for f in SCHOOLS["fields"]]}
    spec["fields"][1]["x-source-name"] = "sch_wide.x"
    with pytest.raises(StructuralError) as info:
        validate(read_raw(api_like(tmp_path)), codebook_from_dict(spec), dataset="schools",
                 file="data/raw/schools/2000.csv")  # fmt: skip
    message = str(info.value)
    for part in ("schools", "data/raw/schools/2000.csv", "'sch_wide'", "'sch_wide.x'",
                 "'snum', 'sch.wide', 'api00'", "x-source-name"):  # fmt: skip
        assert part in message, part


def test_mapping_is_optional_when_the_file_already_uses_the_field_name() -> None:
    frame = pd.DataFrame({"snum": [1], "sch_wide": ["No"], "api00": [500]})
    result = validate(RawTable(data=frame), codebook_from_dict(SCHOOLS), dataset="s", file="w")
    assert result.valid["sch_wide"].tolist() == ["No"]


def test_mapped_column_beside_a_column_with_the_field_name_is_refused() -> None:
    frame = pd.DataFrame({"snum": [1], "sch.wide": ["No"], "sch_wide": ["Yes"], "api00": [5]})
    with pytest.raises(StructuralError, match="also has a column named 'sch_wide'"):
        validate(RawTable(data=frame), codebook_from_dict(SCHOOLS), dataset="s", file="w")


def test_two_fields_reading_one_column_is_a_codebook_error() -> None:
    spec = {**SCHOOLS, "fields": [*SCHOOLS["fields"], {"name": "other", "type": "string",
                                                        "x-source-name": "sch.wide"}]}  # fmt: skip
    with pytest.raises(CodebookError, match="both read the raw column 'sch.wide'"):
        codebook_from_dict(spec)


def test_mapped_column_keeps_its_file_labels_for_the_label_check(tmp_path: Path) -> None:
    import pyreadstat

    path = tmp_path / "2025.sav"
    frame = pd.DataFrame({"id": ["a", "b"], "Q1.sex": [1.0, 2.0]})
    pyreadstat.write_sav(frame, path, variable_value_labels={"Q1.sex": {1: "Woman", 2: "Man"}})
    spec = {
        "name": "s",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "sex", "type": "integer", "x-source-name": "Q1.sex",
             "categories": [{"value": 1, "label": "Man"}, {"value": 2, "label": "Woman"}]},
        ],
    }  # fmt: skip
    with pytest.raises(StructuralError, match="column 'sex' code 1: the codebook says 'Man'"):
        validate(read_raw(path), codebook_from_dict(spec), dataset="s", file="2025.sav")
