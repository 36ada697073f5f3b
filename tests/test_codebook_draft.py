"""`wps codebook draft` writes a complete codebook from a file; `wps codebook check` says what
is left to decide.

Expected labels, codes and ranges of the reference files come from formats/SOURCE.txt (which
cites the pyreadstat and haven test suites) and, for the bundled data, from the shipped
codebooks written by the generator, not from the draft itself.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from analysis.cli import main as wps
from analysis.errors import StructuralError
from analysis.io import read_raw
from analysis.validate.codebook import codebook_from_dict, codebook_schema, load_codebook
from analysis.validate.codebook_draft import draft_codebook
from analysis.validate.wave import validate

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
BUNDLED = [
    RAW / "officer_survey" / "2023.sav",
    RAW / "officer_survey" / "2025.sav",
    RAW / "training" / "2024.dta",
    RAW / "interviews" / "2024.xlsx",
]
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference-data"
# every real data file there: SPSS with value labels, user-missing codes and a range
# (basic_sample_missing.sav), Stata tagged missings (missing_data_missing_test.dta), far-future
# dates (datetime.sav), non-Latin names, R exports with dotted names (api/*.csv)
REFERENCE_FILES = sorted(
    str(p.relative_to(REFERENCE))
    for p in [*REFERENCE.glob("formats/*/*"), *REFERENCE.glob("api/*.csv")]
    if p.suffix not in (".txt", ".sas7bcat")
)


def decided(spec: dict, as_: str = "none") -> dict:
    """The draft with every review decided (what the user does by hand)."""
    spec = json.loads(json.dumps(spec))
    for field in spec["fields"]:
        if field.get("x-identifier") == "review":
            field["x-identifier"] = as_
    return spec


def round_trip(path: Path, dataset: str = "drafted") -> tuple[dict, object]:
    """Draft a codebook from `path`, decide the reviews, validate the same file with it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = draft_codebook(path, dataset)
        table = read_raw(path, dataset)
    jsonschema.validate(spec, codebook_schema())
    codebook = codebook_from_dict(decided(spec))
    return spec, validate(table, codebook, dataset=dataset, file=path.name)


@pytest.mark.parametrize("name", REFERENCE_FILES)
def test_draft_of_a_real_file_validates_and_round_trips(reference_data: Path, name: str) -> None:
    spec, result = round_trip(reference_data / name)
    assert len(spec["fields"]) == len(read_raw(reference_data / name).data.columns)
    # some reference files test date edge cases (years 2186, 2222, 201416): dates after 2099 are
    # quarantined until the user sets the field's maximum, so a typo cannot date a brief 2205
    problems = result.quarantine.to_dict("records")
    other = [row for row in problems if row["rule"] != "date_too_late"]
    assert other == [], other
    for row in problems:
        assert int(str(row["value"]).split("-")[0]) >= 2100, row
        assert "maximum" in row["message"]
    assert result.report["unknown_columns"] == []


def test_spss_draft_holds_labels_codes_and_range(reference_data: Path) -> None:
    spec = draft_codebook(reference_data / "formats/pyreadstat/basic_sample_missing.sav", "s")
    fields = {f["name"]: f for f in spec["fields"]}
    # SOURCE.txt: mynum missing {2000 thru 3000} and -1; mylabl -1 'undetermined', 1 Male 2 Female
    assert fields["mynum"]["x-missing-ranges"] == [{"low": 2000, "high": 3000}]
    assert fields["mynum"]["missingValues"] == [{"value": "-1"}]
    assert fields["mylabl"]["categories"] == [
        {"value": 1, "label": "Male"},
        {"value": 2, "label": "Female"},
    ]
    assert fields["mylabl"]["missingValues"] == [{"value": "-1", "label": "undetermined"}]
    assert {m["value"] for m in fields["myord"]["missingValues"]} == {"-1", "-2", "-3"}
    assert fields["mychar"]["type"] == "string" and fields["mynum"]["type"] == "number"
    assert fields["mydate"]["type"] == "date" and fields["dtime"]["type"] == "datetime"
    assert fields["mylabl"]["title"] == "labeled" and fields["mynum"]["x-format"] == "F8.2"


def test_stata_draft_holds_tagged_missing_codes_and_their_labels(reference_data: Path) -> None:
    spec = draft_codebook(reference_data / "formats/pyreadstat/missing_data_missing_test.dta", "s")
    fields = {f["name"]: f for f in spec["fields"]}
    # SOURCE.txt: var1..var6 hold .a .b .c .x .y .z; value label "missing" on .a
    assert fields["var1"]["missingValues"] == [{"value": ".a", "label": "missing"}]
    tags = [fields[f"var{i}"]["missingValues"][0]["value"] for i in range(1, 7)]
    assert tags == [".a", ".b", ".c", ".x", ".y", ".z"]
    assert fields["var1"]["type"] == "number"  # numbers stored, all of them missing here


def test_dotted_r_names_get_valid_names_and_a_source_name(reference_data: Path) -> None:
    spec, result = round_trip(reference_data / "api/apistrat.csv", "schools")
    fields = {f["name"]: f for f in spec["fields"]}
    assert fields["sch_wide"]["x-source-name"] == "sch.wide"
    assert "x-source-name" not in fields["api00"]
    assert fields["target"]["type"] == "integer"  # R's NA is a missing code, not text
    assert fields["target"]["missingValues"][0]["value"] == "NA"
    assert "sch_wide" in result.valid.columns and "sch.wide" not in result.valid.columns
    assert fields["name"]["x-identifier"] == "review"  # school names: the user decides


@pytest.mark.parametrize("path", BUNDLED, ids=[f"{p.parent.name}/{p.name}" for p in BUNDLED])
def test_draft_of_bundled_file_round_trips_and_agrees_with_shipped_codebook(path: Path) -> None:
    spec, result = round_trip(path, path.parent.name)
    assert result.report["rows_quarantined"] == 0
    shipped = load_codebook(path.parent / "codebook.json")
    drafted = codebook_from_dict(decided(spec))
    for name, field in shipped.fields.items():
        if field.categories and name in drafted.fields and path.suffix != ".xlsx":
            assert drafted.fields[name].categories == field.categories, name
        if field.missing_values and name in drafted.fields:
            assert set(drafted.fields[name].missing_labels()) == set(field.missing_labels()), name
        if field.title and path.suffix != ".xlsx":
            assert drafted.fields[name].title == field.title, name


def test_bundled_identifiers_are_marked_for_review() -> None:
    spec = draft_codebook(RAW / "officer_survey" / "2025.sav", "officer_survey")
    fields = {f["name"]: f for f in spec["fields"]}
    shipped = load_codebook(RAW / "officer_survey" / "codebook.json")
    for name in shipped.direct_identifiers() + shipped.indirect_identifiers():
        assert fields[name]["x-identifier"] == "review", name
        assert fields[name]["x-identifier-reason"], name
    assert fields["sex"]["x-identifier"] == "none" and fields["weight"]["x-identifier"] == "none"
    interviews = {f["name"]: f for f in draft_codebook(RAW / "interviews" / "2024.xlsx")["fields"]}
    assert interviews["respondent_name"]["x-identifier"] == "review"
    assert interviews["quote"]["x-identifier"] == "review"
    assert "free text" in interviews["quote"]["x-identifier-reason"]


def test_names_phones_and_emails_are_marked_by_name_and_by_content(tmp_path: Path) -> None:
    n = 30
    frame = pd.DataFrame(
        {
            "case": [f"C{i:03d}" for i in range(n)],
            "respondent_name": [f"Person {chr(65 + i % 26)}{i}" for i in range(n)],
            "contact": [f"081/555/{1000 + i}" for i in range(n)],  # phones, neutral name
            "reach": [f"p{i}@example.org" for i in range(n)],  # e-mails, neutral name
            "story": ["x"] * n,  # named like free text
            "remarks_open": [f"we met near the market and talked about day {i}" for i in range(n)],
            "district": ["North", "South", "East"] * 10,
            "score": list(range(n)),
        }
    )
    path = tmp_path / "w.csv"
    frame.to_csv(path, index=False)
    fields = {f["name"]: f for f in draft_codebook(path, "mine")["fields"]}
    review = {name for name, f in fields.items() if f["x-identifier"] == "review"}
    assert {"respondent_name", "contact", "reach", "story", "remarks_open", "case"} <= review
    assert "phone" in fields["contact"]["x-identifier-reason"]
    assert "e-mail" in fields["reach"]["x-identifier-reason"]
    assert "free text" in fields["remarks_open"]["x-identifier-reason"]
    assert (
        fields["district"]["x-identifier"] == "none" and fields["score"]["x-identifier"] == "none"
    )
    # the draft never carries a data value
    text = json.dumps(fields)
    assert "Person" not in text and "example.org" not in text and "081/555" not in text


def test_validation_refuses_a_codebook_with_undecided_fields(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    pd.DataFrame({"name": ["A B", "C D"], "x": [1, 2]}).to_csv(path, index=False)
    spec = draft_codebook(path, "mine")
    with pytest.raises(StructuralError, match="undecided.*name.*wps codebook check"):
        validate(read_raw(path), codebook_from_dict(spec), dataset="mine", file="w.csv")


def test_codebook_check_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "study" / "2024.csv"
    data.parent.mkdir()
    pd.DataFrame({"phone_number": ["+66 81 234 5678", "+66 81 234 5679"], "x": [1, 2]}).to_csv(
        data, index=False
    )
    before = hashlib.sha256(data.read_bytes()).hexdigest()
    assert wps(["codebook", "draft", str(data)]) == 0
    codebook = data.parent / "codebook.json"
    assert json.loads(codebook.read_text())["name"] == "study"
    assert hashlib.sha256(data.read_bytes()).hexdigest() == before  # raw file untouched
    capsys.readouterr()
    assert wps(["codebook", "check", str(codebook)]) == 1
    out = capsys.readouterr().out
    assert "phone_number" in out and "phone number" in out
    spec = json.loads(codebook.read_text())
    codebook.write_text(json.dumps(decided(spec, "direct")))
    assert wps(["codebook", "check", str(codebook)]) == 0
    codebook.write_text("{not json")
    assert wps(["codebook", "check", str(codebook)]) == 2


def test_draft_never_replaces_a_codebook_or_the_data_file(tmp_path: Path) -> None:
    data = tmp_path / "2024.csv"
    pd.DataFrame({"x": [1, 2]}).to_csv(data, index=False)
    existing = tmp_path / "codebook.json"
    existing.write_text("{}")
    assert wps(["codebook", "draft", str(data), "--dataset", "mine"]) == 2
    assert existing.read_text() == "{}"
    assert wps(["codebook", "draft", str(data), "--dataset", "mine", "--out", str(data)]) == 2
    assert data.read_text().startswith("x")
    assert wps(["codebook", "draft", str(data), "--dataset", "mine", "--force"]) == 0
    assert load_codebook(existing).fields["x"].type == "integer"


def test_draft_reads_a_copy_of_a_bundled_file_the_same_as_the_original(tmp_path: Path) -> None:
    copy = tmp_path / "2024.dta"
    shutil.copy(RAW / "training" / "2024.dta", copy)
    assert draft_codebook(copy, "training") == draft_codebook(RAW / "training" / "2024.dta")


def test_an_spss_date_column_is_drafted_as_a_date() -> None:
    """pyreadstat gives SPSS DATE11 columns as datetimes at midnight: the draft still says
    `date` (from the column's display format), not `datetime`."""
    repo = Path(__file__).resolve().parents[1]
    spec = draft_codebook(repo / "data/raw/officer_survey/2025.sav", "officer_survey")
    field = next(f for f in spec["fields"] if f["name"] == "interview_date")
    assert field["x-format"] == "DATE11"
    assert field["type"] == "date"
