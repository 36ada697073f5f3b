"""Codebooks: schema checks with a JSON pointer to the problem, and the helpers."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from analysis.errors import CodebookError
from analysis.validate.codebook import Codebook, codebook_from_dict, load_codebook

REPO = Path(__file__).resolve().parents[1]
BUNDLED = sorted((REPO / "data" / "raw").glob("*/codebook.json"))

SPEC = {
    "name": "officer_survey",
    "title": "Test survey",
    "primaryKey": ["respondent_id"],
    "fields": [
        {"name": "respondent_id", "type": "string", "x-identifier": "indirect", "x-role": "id"},
        {"name": "name", "type": "string", "x-identifier": "direct"},
        {"name": "phone", "type": "string", "x-identifier": "direct"},
        {
            "name": "sex",
            "type": "integer",
            "constraints": {"required": True, "enum": [1, 2]},
            "categories": [{"value": 1, "label": "Man"}, {"value": 2, "label": "Woman"}],
            "missingValues": [{"value": "99", "label": "Refused"}],
            "x-identifier": "none",
        },
        {
            "name": "years_service",
            "type": "integer",
            "constraints": {"minimum": 0, "maximum": 45},
            "missingValues": [
                {"value": "98", "label": "Don't know"},
                {"value": "99", "label": "Refused"},
            ],
        },
        {"name": "weight", "type": "number", "x-role": "weight", "missingValues": ["-1"]},
        {"name": "stratum", "type": "integer", "x-role": "stratum"},
        {
            "name": "post_q01",
            "type": "integer",
            "missingValues": [{"value": ".a", "label": "Post test not taken"}],
        },
    ],
}


def write(tmp_path: Path, spec: dict, name: str = "codebook.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def test_loads_fields_in_order_with_helpers(tmp_path: Path) -> None:
    cb = load_codebook(write(tmp_path, SPEC))
    assert isinstance(cb, Codebook)
    assert list(cb.fields) == [f["name"] for f in SPEC["fields"]]
    assert cb.primary_key == ("respondent_id",)
    assert cb.direct_identifiers() == ["name", "phone"]
    assert cb.indirect_identifiers() == ["respondent_id"]
    assert cb.role("weight") == "weight"
    assert cb.role("stratum") == "stratum"
    assert cb.role("psu") is None
    assert cb.labels("sex") == {1: "Man", 2: "Woman"}
    assert cb.labels("years_service") == {}
    assert cb.fields["sex"].required and cb.fields["sex"].enum == (1, 2)


def test_missing_codes_are_typed(tmp_path: Path) -> None:
    cb = load_codebook(write(tmp_path, SPEC))
    codes = cb.missing_codes("years_service")
    assert codes == [98, 99] and all(type(c) is int for c in codes)
    assert cb.missing_codes("weight") == [-1.0] and type(cb.missing_codes("weight")[0]) is float
    assert cb.missing_codes("sex") == [99]
    assert cb.missing_codes("name") == []
    # a Stata tagged missing does not fit an integer: it stays the text the file holds
    assert cb.missing_codes("post_q01") == [".a"]
    assert cb.fields["years_service"].missing_labels() == {"98": "Don't know", "99": "Refused"}


def test_table_level_missing_values_apply_to_fields_without_their_own() -> None:
    spec = {
        "name": "t",
        "missingValues": ["", "-9"],
        "fields": [
            {"name": "a", "type": "integer"},
            {"name": "b", "type": "integer", "missingValues": ["99"]},
        ],
    }
    cb = codebook_from_dict(spec)
    assert cb.missing_codes("a") == [-9]
    assert cb.missing_codes("b") == [99]


@pytest.mark.parametrize(
    ("mutate", "pointer"),
    [
        (lambda s: s["fields"][3].update(type="int"), "/fields/3/type"),
        (lambda s: s["fields"][1].update({"x-identifier": "maybe"}), "/fields/1/x-identifier"),
        (lambda s: s["fields"][4]["constraints"].update(maxLength=-1), "/fields/4/constraints"),
        (lambda s: s.update(primaryKey=["nope"]), "/primaryKey/0"),
        (lambda s: s["fields"][3]["categories"][1].update(value="two"), "/fields/3/categories/1"),
        (
            lambda s: s["fields"][3]["constraints"].update(enum=[1, 2.5]),
            "/fields/3/constraints/enum/1",
        ),
        (lambda s: s["fields"][6].update({"x-role": "weight"}), "/fields/6/x-role"),
        (lambda s: s["fields"].append({"name": "sex", "type": "integer"}), "/fields/8/name"),
        (lambda s: s.pop("fields"), "/"),
    ],
)
def test_problems_name_file_and_json_pointer(tmp_path: Path, mutate, pointer: str) -> None:
    spec = copy.deepcopy(SPEC)
    mutate(spec)
    path = write(tmp_path, spec)
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    message = str(info.value)
    assert str(path) in message
    assert f"JSON pointer {pointer}" in message
    assert "What to do" in message


def test_unreadable_json_names_file(tmp_path: Path) -> None:
    path = tmp_path / "codebook.json"
    path.write_text('{"name": "x", "fields": [', encoding="utf-8")
    with pytest.raises(CodebookError, match="not valid JSON") as info:
        load_codebook(path)
    assert str(path) in str(info.value)
    with pytest.raises(CodebookError, match="file not found"):
        load_codebook(tmp_path / "absent.json")


@pytest.mark.skipif(not BUNDLED, reason="no bundled codebooks in data/raw/*/codebook.json yet")
@pytest.mark.parametrize("path", BUNDLED, ids=[p.parent.name for p in BUNDLED])
def test_every_bundled_codebook_loads(path: Path) -> None:
    cb = load_codebook(path)
    assert cb.name == path.parent.name
    assert cb.fields
    assert all(k in cb.fields for k in cb.primary_key)


def test_source_name_review_and_missing_ranges_are_read() -> None:
    spec = {
        "name": "t",
        "fields": [
            {"name": "sch_wide", "type": "string", "x-source-name": "sch.wide"},
            {"name": "who", "type": "string", "x-identifier": "review",
             "x-identifier-reason": "its name suggests a personal name"},
            {"name": "income", "type": "number", "missingValues": ["-1"],
             "x-missing-ranges": [{"low": 2000, "high": 3000}, {"low": 9e9, "high": 1e10,
                                                                "label": "Refused"}]},
        ],
    }  # fmt: skip
    cb = codebook_from_dict(spec)
    assert cb.fields["sch_wide"].column() == "sch.wide" and cb.fields["income"].column() == "income"
    assert [f.name for f in cb.undecided()] == ["who"]
    assert cb.fields["who"].identifier_reason.startswith("its name")
    income = cb.fields["income"]
    assert income.missing_reason("2500") == "user-missing 2000 thru 3000"
    assert income.missing_reason("3000.0") == "user-missing 2000 thru 3000"  # ends included
    assert income.missing_reason("9500000000") == "Refused"
    assert income.missing_reason("-1") == "-1" and income.missing_reason("1999.5") is None


@pytest.mark.parametrize(
    ("field", "pointer"),
    [
        ({"name": "a", "type": "number", "x-missing-ranges": [{"low": 3, "high": 2}]},
         "/fields/0/x-missing-ranges/0"),
        ({"name": "a", "type": "number", "x-missing-ranges": [{"low": "x", "high": 2}]},
         "/fields/0/x-missing-ranges/0/low"),
        ({"name": "a", "type": "number", "x-source-name": ""}, "/fields/0/x-source-name"),
    ],
)  # fmt: skip
def test_bad_mapping_and_ranges_are_refused_with_a_pointer(field: dict, pointer: str) -> None:
    with pytest.raises(CodebookError, match=f"JSON pointer {pointer}"):
        codebook_from_dict({"name": "t", "fields": [field]})
