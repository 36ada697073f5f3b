"""Cleaning: no identifiers survive, pseudonyms are keyed, missing codes become NA and are
counted, derived variables are right, and the output is deterministic."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis.clean.pseudonymise import EXAMPLE_KEY, load_key, pseudonymise
from analysis.clean.wave import clean
from analysis.errors import ConfigError, WpsInputError
from analysis.io import RawTable
from analysis.validate.codebook import codebook_from_dict
from analysis.validate.wave import validate

KEY = b"test-key-0123456789abcdef"
OTHER_KEY = b"another-key-0123456789abcdef"
NAME = "Somchai Jaidee"
PHONE = "+66 81 234 5678"
LIKERT = [{"value": v, "label": label} for v, label in enumerate(["SD", "D", "N", "A", "SA"], 1)]
DK_REF = [{"value": "98", "label": "Don't know"}, {"value": "99", "label": "Refused"}]


def likert(name: str) -> dict:
    return {"name": name, "type": "integer", "categories": LIKERT, "missingValues": DK_REF}


SURVEY = codebook_from_dict(
    {
        "name": "officer_survey",
        "title": "Test survey",
        "primaryKey": ["respondent_id"],
        "fields": [
            {"name": "respondent_id", "type": "string", "x-identifier": "indirect"},
            {"name": "name", "type": "string", "x-identifier": "direct"},
            {"name": "phone", "type": "string", "x-identifier": "direct"},
            {"name": "comment", "type": "string", "x-identifier": "direct"},
            {
                "name": "remark",
                "type": "string",
                "title": "Interviewer remark (kept)",
                "x-free-text": True,
            },
            {
                "name": "sex",
                "type": "integer",
                "categories": [{"value": 1, "label": "Man"}, {"value": 2, "label": "Woman"}],
                "missingValues": [{"value": "99", "label": "Refused"}],
            },
            {
                "name": "age",
                "type": "integer",
                "constraints": {"minimum": 18, "maximum": 65},
                "missingValues": [{"value": "99", "label": "Refused"}],
            },
            {"name": "weight", "type": "number", "x-role": "weight"},
            {"name": "interview_date", "type": "date"},
            likert("att_women_frontline"),
            likert("att_victim_choice"),
            likert("att_male_victims"),
            likert("att_report_harassment"),
        ],
    }
)


def survey_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "respondent_id": ["OS2023-00004", "OS2023-00001", "OS2023-00003", "OS2023-00002"],
            "name": [NAME, "Dewi Lestari", "Maria Santos", "Nguyen Van An"],
            "phone": [PHONE, "+62 812 0000", "+63 917 0000", "+84 90 0000"],
            "comment": [f"call {NAME} on {PHONE}", "", "village head", ""],
            "remark": [
                f"{NAME} asked to be called on 081-234-5678",
                "somchai was kind",
                "ok",
                None,
            ],
            "sex": [2.0, 1.0, 99.0, 2.0],
            "age": [29.0, 30.0, 99.0, 50.0],
            "weight": [10.5, 20.0, 30.25, 40.0],
            "interview_date": ["2023-05-01", "2023-05-02", "2023-05-03", None],
            "att_women_frontline": [5.0, 98.0, 1.0, 99.0],
            "att_victim_choice": [4.0, 2.0, 99.0, 98.0],
            "att_male_victims": [3.0, 3.0, 98.0, 4.0],
            "att_report_harassment": [98.0, 4.0, 2.0, 99.0],
        }
    )


def run_survey(frame: pd.DataFrame | None = None, key: bytes = KEY):
    frame = survey_frame() if frame is None else frame
    result = validate(RawTable(data=frame), SURVEY, dataset="officer_survey", file="2023.sav")
    assert result.quarantine.empty
    return clean(result.valid, SURVEY, dataset="officer_survey", wave="2023", key=key)


def test_identifiers_appear_nowhere_after_cleaning() -> None:
    out = run_survey()
    text = out.data.to_csv(index=False)
    book = json.dumps(out.codebook)
    cells = " ".join(str(v) for v in out.data.to_numpy().ravel())
    for secret in (NAME, PHONE, "Dewi Lestari", "OS2023-00001", "village head"):
        assert secret not in text and secret not in book and secret not in cells
    assert not {"name", "phone", "comment"} & set(out.data.columns)
    identifiers = [
        f for f in out.codebook["fields"] if f.get("x-identifier") in ("direct", "indirect")
    ]
    assert identifiers == []
    # names and phone numbers repeated in kept free text are redacted, other text stays
    remarks = out.data.set_index("weight")["remark"]
    assert remarks[10.5] == "[name] asked to be called on [phone]"
    assert remarks[20.0] == "[name] was kind" and remarks[30.25] == "ok"
    assert pd.isna(remarks[40.0])
    assert "x-redacted" in {f["name"]: f for f in out.codebook["fields"]}["remark"]


def test_ids_become_keyed_pseudonyms_and_rows_sort_by_them() -> None:
    out = run_survey()
    ids = out.data["respondent_id"]
    assert all(re.fullmatch(r"OS-[0-9a-f]{16}", v) for v in ids)
    assert ids.tolist() == sorted(ids)
    assert ids.is_unique
    again = run_survey()
    assert again.data.to_csv(index=False) == out.data.to_csv(index=False)
    other = run_survey(key=OTHER_KEY)
    assert set(other.data["respondent_id"]).isdisjoint(set(ids))


def test_pseudonymise_is_stable_per_key_and_dataset() -> None:
    values = pd.Series(["TR-0001", "TR-0002", None, "TR-0001"], name="officer_id")
    first = pseudonymise(values, KEY, "training")
    assert first.tolist()[0] == pseudonymise(values, KEY, "training").tolist()[0]
    assert first[0] == first[3] and first[0] != first[1]
    assert pd.isna(first[2]) and first.name == "officer_id"
    assert first[0].startswith("TR-") and len(first[0]) == 3 + 16
    assert pseudonymise(values, OTHER_KEY, "training")[0] != first[0]
    assert pseudonymise(values, KEY, "officer_survey")[0][3:] != first[0][3:]


def test_output_does_not_depend_on_input_row_order() -> None:
    shuffled = survey_frame().iloc[[2, 0, 3, 1]].reset_index(drop=True)
    assert run_survey(shuffled).data.to_csv(index=False) == run_survey().data.to_csv(index=False)


def test_missing_codes_become_na_and_are_counted() -> None:
    out = run_survey()
    data = out.data
    assert str(data["age"].dtype) == "Int64" and str(data["weight"].dtype) == "Float64"
    assert str(data["respondent_id"].dtype) == "string"
    for column in ("age", "sex", "att_women_frontline", "att_report_harassment"):
        assert not data[column].isin([98, 99]).fillna(False).any()
    assert data["age"].isna().sum() == 1 and data["att_report_harassment"].isna().sum() == 2
    summary = out.missing_summary.set_index(["variable", "code"])["n"]
    assert summary[("att_women_frontline", "98")] == 1
    assert summary[("att_women_frontline", "99")] == 1
    assert summary[("att_report_harassment", "99")] == 1
    assert summary[("att_report_harassment", "98")] == 1
    assert summary[("sex", "99")] == 1 and summary[("age", "99")] == 1
    labels = out.missing_summary.set_index(["variable", "code"])["label"]
    assert labels[("att_victim_choice", "98")] == "Don't know"
    assert set(out.missing_summary["dataset"]) == {"officer_survey"}
    assert set(out.missing_summary["wave"]) == {"2023"}
    assert "name" not in set(out.missing_summary["variable"])


def test_label_columns_and_cleaned_codebook() -> None:
    out = run_survey()
    data = out.data
    assert isinstance(data["sex_label"].dtype, pd.CategoricalDtype)
    assert list(data["sex_label"].cat.categories) == ["Man", "Woman"]
    by_age = data.set_index("age", drop=False)
    assert by_age.loc[29, "sex_label"] == "Woman" and by_age.loc[30, "sex_label"] == "Man"
    names = [f["name"] for f in out.codebook["fields"]]
    assert names == list(data.columns)
    fields = {f["name"]: f for f in out.codebook["fields"]}
    assert fields["attitude_index"]["x-derived"] is True and fields["attitude_index"]["description"]
    assert fields["sex_label"]["x-derived"] is True
    assert fields["respondent_id"]["x-pseudonymised"] is True
    assert "missingValues" not in fields["age"]
    assert fields["age"]["x-user-missing-recoded"] == [{"value": "99", "label": "Refused"}]
    # the cleaned codebook is itself a valid codebook
    assert codebook_from_dict(out.codebook).primary_key == ("respondent_id",)


def test_survey_derived_variables() -> None:
    data = run_survey().data.set_index("weight")
    women = {w: None if pd.isna(v) else int(v) for w, v in data["women"].items()}
    assert women == {10.5: 1, 20.0: 0, 30.25: None, 40.0: 1}
    bands = data["age_band"].astype(object).where(data["age_band"].notna(), None).to_dict()
    assert bands == {10.5: "18-29", 20.0: "30-39", 30.25: None, 40.0: "50+"}
    # 10.5: 5, 4, 3 answered (98 on the 4th) -> 4.0; 20.0: 2, 3, 4 -> 3.0
    assert data.loc[10.5, "attitude_index"] == pytest.approx(4.0)
    assert data.loc[20.0, "attitude_index"] == pytest.approx(3.0)
    # 30.25: 1 and 2 answered only; 40.0: one answered -> missing
    assert pd.isna(data.loc[30.25, "attitude_index"]) and pd.isna(data.loc[40.0, "attitude_index"])


def test_age_band_boundaries() -> None:
    frame = pd.concat([survey_frame()] * 2, ignore_index=True)
    frame["respondent_id"] = [f"OS-{i}" for i in range(8)]
    frame["age"] = [18, 29, 30, 39, 40, 49, 50, 65]
    frame["sex"] = 1
    bands = run_survey(frame).data.sort_values("age")["age_band"].astype(str).tolist()
    assert bands == ["18-29", "18-29", "30-39", "30-39", "40-49", "40-49", "50+", "50+"]


TRAINING = codebook_from_dict(
    {
        "name": "training",
        "primaryKey": ["officer_id", "module"],
        "fields": [
            {"name": "officer_id", "type": "string", "x-identifier": "indirect"},
            {"name": "name", "type": "string", "x-identifier": "direct"},
            {
                "name": "sex",
                "type": "integer",
                "categories": [{"value": 1, "label": "Man"}, {"value": 2, "label": "Woman"}],
            },
            {"name": "module", "type": "integer", "categories": [{"value": v} for v in (1, 2, 3)]},
            {"name": "pre_score", "type": "integer", "constraints": {"minimum": 0, "maximum": 20}},
            {
                "name": "post_score",
                "type": "integer",
                "constraints": {"minimum": 0, "maximum": 20},
                "missingValues": [{"value": ".a", "label": "Post test not taken"}],
            },
        ],
    }
)


def test_training_gain_and_women() -> None:
    frame = pd.DataFrame(
        {
            "officer_id": ["TR-0001", "TR-0001", "TR-0002"],
            "name": ["A B", "A B", "C D"],
            "sex": [2, 2, 1],
            "module": [1, 2, 1],
            "pre_score": [8, 12, 15],
            "post_score": [15, ".a", 13],
        }
    )
    valid = validate(RawTable(data=frame), TRAINING, dataset="training", file="2024.dta")
    assert valid.quarantine.empty
    out = clean(valid.valid, TRAINING, dataset="training", wave="2024", key=KEY)
    rows = out.data.set_index(["pre_score"])
    assert rows.loc[8, "gain"] == 7 and rows.loc[15, "gain"] == -2 and pd.isna(rows.loc[12, "gain"])
    assert rows["women"].to_dict() == {8: 1, 12: 1, 15: 0}
    assert out.missing_summary.set_index("code").loc[".a", "n"] == 1
    assert out.codebook["primaryKey"] == ["officer_id", "module"]


INTERVIEWS = codebook_from_dict(
    {
        "name": "interviews",
        "fields": [
            {"name": "interview_id", "type": "string", "x-identifier": "indirect"},
            {
                "name": "sex",
                "type": "string",
                "categories": [{"value": "Woman"}, {"value": "Man"}],
            },
            {"name": "age", "type": "integer", "x-identifier": "indirect"},
            {"name": "respondent_name", "type": "string", "x-identifier": "direct"},
            {"name": "village", "type": "string", "x-identifier": "direct"},
            {"name": "code", "type": "string"},
        ],
    }
)


def test_interviews_keep_only_the_age_band() -> None:
    frame = pd.DataFrame(
        {
            "interview_id": ["INT-001", "INT-002", "INT-003"],
            "sex": ["Woman", "Man", "Woman"],
            "age": [16, 37, 52],
            "respondent_name": [NAME, "X Y", "Z W"],
            "village": ["Ban Nong Khai", "Poipet", "Mae Sot"],
            "code": ["debt_bondage", "recruitment", "debt_bondage"],
        }
    )
    valid = validate(RawTable(data=frame), INTERVIEWS, dataset="interviews", file="2024.xlsx")
    out = clean(valid.valid, INTERVIEWS, dataset="interviews", wave="2024", key=KEY)
    assert "age" not in out.data.columns and "age" not in [
        f["name"] for f in out.codebook["fields"]
    ]
    by_code = out.data.sort_values("age_band")
    assert sorted(out.data["age_band"].astype(str)) == ["30-39", "50+", "under 18"]
    assert by_code["women"].tolist() == [1, 0, 1]
    text = out.data.to_csv(index=False)
    for secret in (NAME, "Poipet", "INT-001", ",37,", ",16,"):
        assert secret not in text


def test_clean_refuses_values_that_skipped_validation() -> None:
    frame = survey_frame().astype(object)
    frame.loc[0, "age"] = "old"
    frame.insert(0, "_row", range(1, 5))
    with pytest.raises(WpsInputError, match=r"column 'age', row 1"):
        clean(frame, SURVEY, dataset="officer_survey", wave="2023", key=KEY)


def test_missing_key_raises_config_error_with_how_to(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WPS_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ConfigError) as info:
        load_key()
    message = str(info.value)
    assert "WPS_PSEUDONYM_KEY" in message and "secrets.token_hex(32)" in message
    assert "key_file: ~/.wps-key" in message and "chmod 600" in message and "What to do" in message


def test_key_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    monkeypatch.delenv("WPS_PSEUDONYM_KEY", raising=False)
    key_file = tmp_path / "key"
    key_file.write_text("file-secret-0123456789\n", encoding="utf-8")
    key_file.chmod(0o600)
    assert load_key(key_file=key_file) == b"file-secret-0123456789"
    with pytest.raises(ConfigError, match="does not exist"):
        load_key(key_file=tmp_path / "absent")
    monkeypatch.setenv("WPS_PSEUDONYM_KEY", "env-secret-0123456789")
    assert load_key(key_file=key_file) == b"file-secret-0123456789"  # a file is preferred
    assert load_key() == b"env-secret-0123456789"
    monkeypatch.setenv("WPS_PSEUDONYM_KEY", "short")
    with pytest.raises(ConfigError) as info:
        load_key()
    assert "short" not in str(info.value).replace("shorter", "")
    monkeypatch.delenv("WPS_PSEUDONYM_KEY")
    bundled = Path(__file__).resolve().parents[1] / "data" / "raw" / "training" / "2024.dta"
    assert load_key(allow_example_key=True, data_files=[bundled]) == EXAMPLE_KEY
    assert "example key" in capsys.readouterr().err


@pytest.mark.parametrize("key_bytes", [1, 32, 64, 65, 200])
def test_keyed_sha256_is_hmac_sha256(key_bytes):
    import hashlib
    import hmac

    from analysis.clean.pseudonymise import keyed_sha256_all

    key = bytes(range(256))[:key_bytes] * 1
    messages = (b"", b"officer_survey\x1fOS-1", "é中".encode() * 50)
    expected = [hmac.new(key, message, hashlib.sha256).hexdigest() for message in messages]
    assert keyed_sha256_all(key, iter(messages)) == expected


def test_pseudonymise_gives_each_value_its_own_hmac():
    from analysis.clean.pseudonymise import pseudonym

    values = pd.Series(["R1", None, "R2", " R1 ", "R1", 3.0, 3], dtype=object)
    out = pseudonymise(values, EXAMPLE_KEY, "officer_survey")
    expected = [None if v is None else pseudonym(v, EXAMPLE_KEY, "officer_survey") for v in values]
    assert [None if pd.isna(v) else v for v in out] == expected
    assert out.dtype == "string"


def test_age_bands_and_attitude_index_match_their_pandas_definitions() -> None:
    """The NumPy forms of age_band and attitude_index against the plain pandas statements of
    their definitions, on ages with fractions, band edges and gaps, and items with NAs."""
    import numpy as np

    from analysis.clean import derive

    rng = np.random.default_rng(3)
    n = 2_000
    ages = pd.array(
        np.where(
            rng.random(n) < 0.1,
            np.nan,
            rng.choice([17, 17.5, 18, 29, 29.5, 30, 49, 50, 71, 12, 40.2], n),
        ),
        dtype="Float64",
    )
    items = {
        i: pd.array(np.where(rng.random(n) < 0.3, np.nan, rng.integers(1, 6, n)), dtype="Int64")
        for i in derive.ATTITUDE_ITEMS
    }
    data = pd.DataFrame({"age": ages, **items})
    for minors in (False, True):
        band = pd.Series(pd.NA, index=data.index, dtype=object)
        if minors:
            band[(data["age"] < 18).fillna(False)] = derive.MINOR_BAND
        for label, low, high in (
            ("18-29", 18, 29),
            ("30-39", 30, 39),
            ("40-49", 40, 49),
            ("50+", 50, float("inf")),
        ):
            band[((data["age"] >= low) & (data["age"] <= high)).fillna(False)] = label
        categories = ([derive.MINOR_BAND] if minors else []) + list(derive.AGE_BANDS)
        expected = pd.Series(pd.Categorical(band, categories=categories))
        pd.testing.assert_series_equal(derive.age_band(data, with_minors=minors), expected)
    table = pd.DataFrame(items).astype("Float64")
    mean = table.mean(axis=1, skipna=True).astype("Float64")
    expected = mean.where(table.notna().sum(axis=1) >= derive.ATTITUDE_MIN_ANSWERED, pd.NA)
    got = derive.attitude_index(data, None)
    pd.testing.assert_series_equal(got, expected, check_exact=True)
