"""Missing codes kept honestly, and value labels that must mean the same in every wave.

- the file's own user-missing values and ranges (SPSS codes and `2000 thru 3000`, Stata `.a`-`.z`)
  apply without being repeated in the codebook;
- the reason stays in the cleaned table beside the value: `<field>__missing` holds the label;
- a wave whose own labels give a code another meaning (sex 1 <-> 2 with the labels swapped to
  match) is refused at validation with both labels named.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from analysis.clean.wave import MISSING_SUFFIX, clean
from analysis.errors import StructuralError
from analysis.io import read_raw
from analysis.validate.codebook import codebook_from_dict, load_codebook
from analysis.validate.codebook_draft import draft_codebook
from analysis.validate.wave import validate, with_file_missing

KEY = b"test-key-0123456789abcdef"
RAW = Path(__file__).resolve().parents[1] / "data" / "raw"


def validate_and_clean(path: Path, spec: dict, dataset: str = "study") -> tuple:
    """What the workflow does: validate, then clean with the file's own codes applied."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = read_raw(path, dataset)
    codebook = codebook_from_dict(spec)
    result = validate(table, codebook, dataset=dataset, file=path.name)
    cleaned = clean(result.valid, with_file_missing(codebook, table), dataset=dataset,
                    wave="1", key=KEY)  # fmt: skip
    return result, cleaned


def test_spss_discrete_codes_keep_dont_know_apart_from_refused(tmp_path: Path) -> None:
    path = tmp_path / "1.sav"
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "trust": [1.0, 98.0, 99.0, 2.0]})
    pyreadstat.write_sav(
        frame,
        path,
        variable_value_labels={"trust": {1: "Low", 2: "High", 98: "Don't know", 99: "Refused"}},
        missing_ranges={"trust": [98, 99]},
    )
    minimal = {"name": "study", "fields": [
        {"name": "id", "type": "string"},
        {"name": "trust", "type": "integer",
         "categories": [{"value": 1, "label": "Low"}, {"value": 2, "label": "High"}]},
    ]}  # fmt: skip
    result, cleaned = validate_and_clean(path, minimal)
    assert result.report["rows_quarantined"] == 0  # 98 and 99 are not unknown categories
    data = cleaned.data.set_index("id")
    assert data["trust"].isna().tolist() == [False, True, True, False]
    assert data["trust" + MISSING_SUFFIX].tolist()[1:3] == ["Don't know", "Refused"]
    assert data["trust" + MISSING_SUFFIX].isna().tolist() == [True, False, False, True]
    assert data["trust_label"].tolist()[0] == "Low"
    schema = {f["name"]: f for f in cleaned.codebook["fields"]}
    assert schema["trust" + MISSING_SUFFIX]["x-derived-from"] == ["trust"]


def test_spss_missing_range_applies_from_the_file(reference_data: Path) -> None:
    # SOURCE.txt: mynum missing (2000 thru 3000) and -1; rows 6-7 hold -1 and 2500
    path = reference_data / "formats" / "pyreadstat" / "basic_sample_missing.sav"
    minimal = {"name": "study", "fields": [
        {"name": "mynum", "type": "number", "constraints": {"maximum": 1500}},
        {"name": "mylabl", "type": "integer",
         "categories": [{"value": 1, "label": "Male"}, {"value": 2, "label": "Female"}]},
    ]}  # fmt: skip
    result, cleaned = validate_and_clean(path, minimal)
    assert result.report["rows_quarantined"] == 0  # 2500 is not "above the maximum"
    reasons = cleaned.data["mynum" + MISSING_SUFFIX].tolist()
    assert reasons[6] == "user-missing 2000 thru 3000" and reasons[5] == "-1"
    assert cleaned.data["mynum"].isna().tolist()[5:7] == [True, True]
    assert cleaned.data["mylabl" + MISSING_SUFFIX].dropna().tolist() == ["undetermined"]


def dont_know_refused_in_a_range(tmp_path: Path) -> Path:
    """SPSS `MISSING VALUES trust (97 THRU 99)` with 97 'Don't know' and 98 'Refused' labelled."""
    path = tmp_path / "1.sav"
    frame = pd.DataFrame({"trust": [1.0, 97.0, 98.0, 99.0, 2.0]})
    labels = {1: "Low", 2: "High", 97: "Don't know", 98: "Refused"}
    pyreadstat.write_sav(
        frame,
        path,
        variable_value_labels={"trust": labels},
        missing_ranges={"trust": [{"lo": 97, "hi": 99}]},
    )
    return path


@pytest.mark.parametrize("codebook", ["minimal", "drafted"])
def test_labelled_codes_inside_a_missing_range_keep_their_own_reason(
    tmp_path: Path, codebook: str
) -> None:
    """Don't know and refused inside one SPSS range were both 'user-missing 97 thru 99'."""
    path = dont_know_refused_in_a_range(tmp_path)
    minimal = {"name": "study", "fields": [{"name": "trust", "type": "integer", "categories": [
        {"value": 1, "label": "Low"}, {"value": 2, "label": "High"}]}]}  # fmt: skip
    spec = minimal if codebook == "minimal" else draft_codebook(path, "study")
    if codebook == "drafted":
        field = spec["fields"][0]
        assert [c["value"] for c in field["categories"]] == [1, 2]  # 97, 98 are not answers
        assert field["missingValues"] == [
            {"value": "97", "label": "Don't know"},
            {"value": "98", "label": "Refused"},
        ]
    result, cleaned = validate_and_clean(path, spec)
    assert result.report["rows_quarantined"] == 0
    assert cleaned.data["trust"].isna().tolist() == [False, True, True, True, False]
    reasons = cleaned.data["trust" + MISSING_SUFFIX].tolist()[1:4]
    assert reasons == ["Don't know", "Refused", "user-missing 97 thru 99"]


def test_a_category_inside_a_missing_range_gives_its_label_as_the_reason() -> None:
    field = codebook_from_dict({"name": "s", "fields": [{
        "name": "trust", "type": "integer",
        "categories": [{"value": 1, "label": "Low"}, {"value": 98, "label": "Refused"}],
        "x-missing-ranges": [{"low": 97, "high": 99}]}]}).fields["trust"]  # fmt: skip
    assert field.missing_reason("98") == "Refused"
    assert field.missing_reason("99") == "user-missing 97 thru 99"
    assert field.missing_reason("1") is None


def test_codebook_declares_a_missing_range(tmp_path: Path) -> None:
    path = tmp_path / "1.csv"
    pd.DataFrame({"income": [1500, 2500, 3000, 3001]}).to_csv(path, index=False)
    spec = {"name": "study", "fields": [
        {"name": "income", "type": "integer", "constraints": {"maximum": 5000},
         "x-missing-ranges": [{"low": 2000, "high": 3000, "label": "Not applicable"}]},
    ]}  # fmt: skip
    _result, cleaned = validate_and_clean(path, spec)
    assert cleaned.data["income"].tolist()[::3] == [1500, 3001]
    assert cleaned.data["income"].isna().tolist() == [False, True, True, False]
    assert cleaned.data["income" + MISSING_SUFFIX].tolist()[1:3] == ["Not applicable"] * 2
    assert cleaned.missing_summary.empty or set(cleaned.missing_summary["variable"]) == {"income"}


def test_stata_tagged_missing_apply_from_the_file_with_their_labels(reference_data: Path) -> None:
    # SOURCE.txt: var1..var6 hold .a .b .c .x .y .z, label "missing" on .a; var9 holds 1
    path = reference_data / "formats" / "pyreadstat" / "missing_data_missing_test.dta"
    minimal = {"name": "study",
               "fields": [{"name": f"var{i}", "type": "number"} for i in range(1, 10)]}  # fmt: skip
    result, cleaned = validate_and_clean(path, minimal)
    assert result.report["rows_quarantined"] == 0  # ".a" is not "not a number"
    row = cleaned.data.iloc[0]
    assert row["var1" + MISSING_SUFFIX] == "missing" and row["var2" + MISSING_SUFFIX] == ".b"
    assert row["var6" + MISSING_SUFFIX] == ".z" and row["var9"] == 1


def swapped_sex_copy(tmp_path: Path) -> Path:
    """A copy of the bundled 2025 wave with sex recoded 1 <-> 2 and its labels swapped to match."""
    df, meta = pyreadstat.read_sav(str(RAW / "officer_survey" / "2025.sav"), user_missing=True)
    df["sex"] = df["sex"].map({1.0: 2.0, 2.0: 1.0}).fillna(df["sex"])
    labels = dict(meta.variable_value_labels)
    labels["sex"] = {1.0: "Woman", 2.0: "Man", 99.0: "Refused"}
    path = tmp_path / "2026.sav"
    pyreadstat.write_sav(
        df,
        path,
        column_labels=meta.column_names_to_labels,
        variable_value_labels=labels,
        missing_ranges=meta.missing_ranges,
        variable_format=meta.original_variable_types,
    )
    return path


def test_swapped_sex_labels_are_refused_naming_both_labels(tmp_path: Path) -> None:
    path = swapped_sex_copy(tmp_path)
    table = read_raw(path, "officer_survey")
    assert table.value_labels["sex"][1.0] == "Woman"  # the copy really says so
    codebook = load_codebook(RAW / "officer_survey" / "codebook.json")
    with pytest.raises(StructuralError) as info:
        validate(table, codebook, dataset="officer_survey", file="data/raw/officer_survey/2026.sav")
    message = str(info.value)
    for part in ("officer_survey", "2026.sav", "column 'sex'", "code 1", "'Man'", "'Woman'",
                 "code 2", "What to do", "recode"):  # fmt: skip
        assert part in message, part


def test_unchanged_bundled_waves_pass_the_label_check() -> None:
    codebook = load_codebook(RAW / "officer_survey" / "codebook.json")
    for wave in ("2023", "2025"):
        table = read_raw(RAW / "officer_survey" / f"{wave}.sav", "officer_survey")
        result = validate(table, codebook, dataset="officer_survey", file=f"{wave}.sav")
        assert result.report["rows_quarantined"] == 0


def test_labels_differing_only_in_case_and_spacing_agree(tmp_path: Path) -> None:
    path = tmp_path / "1.sav"
    frame = pd.DataFrame({"sex": [1.0, 2.0]})
    pyreadstat.write_sav(frame, path, variable_value_labels={"sex": {1: "man ", 2: "WOMAN"}})
    spec = {"name": "s", "fields": [{"name": "sex", "type": "integer", "categories": [
        {"value": 1, "label": "Man"}, {"value": 2, "label": "Woman"}]}]}  # fmt: skip
    result = validate(read_raw(path), codebook_from_dict(spec), dataset="s", file="1.sav")
    assert result.report["rows_valid"] == 2


def test_partial_value_labels_are_checked_too(tmp_path: Path) -> None:
    path = tmp_path / "1.sav"
    pyreadstat.write_sav(pd.DataFrame({"age": [30.0, 0.0]}), path,
                         variable_value_labels={"age": {0: "Not asked"}})  # fmt: skip
    spec = {"name": "s", "fields": [{"name": "age", "type": "integer",
            "x-value-labels": [{"value": "0", "label": "Under one year"}]}]}  # fmt: skip
    with pytest.raises(StructuralError, match="code 0: the codebook says 'Under one year'"):
        validate(read_raw(path), codebook_from_dict(spec), dataset="s", file="1.sav")


def test_a_file_code_the_codebook_calls_valid_stays_a_value(tmp_path: Path) -> None:
    path = tmp_path / "1.sav"
    pyreadstat.write_sav(pd.DataFrame({"role": [1.0, 9.0]}), path,
                         variable_value_labels={"role": {1: "Police", 9: "Other"}},
                         missing_ranges={"role": [9]})  # fmt: skip
    spec = {"name": "s", "fields": [{"name": "role", "type": "integer", "categories": [
        {"value": 1, "label": "Police"}, {"value": 9, "label": "Other"}]}]}  # fmt: skip
    result, cleaned = validate_and_clean(path, spec)
    assert cleaned.data["role"].tolist() == [1, 9]  # "Other" is not lost as missing
    assert any("kept as values" in w and "'role'" in w for w in result.report["warnings"])
