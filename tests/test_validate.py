"""Validation: each rule quarantines the right rows with a message naming column and rows,
structural problems stop the run, and the counts always reconcile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import StructuralError, WpsInputError
from analysis.io import RawTable
from analysis.validate.codebook import codebook_from_dict
from analysis.validate.wave import MAX_VALUE_CHARS, QUARANTINE_COLUMNS, validate

SPEC = {
    "name": "officer_survey",
    "primaryKey": ["respondent_id"],
    "fields": [
        {"name": "respondent_id", "type": "string", "x-identifier": "indirect"},
        {"name": "name", "type": "string", "x-identifier": "direct"},
        {
            "name": "sex",
            "type": "integer",
            "constraints": {"required": True},
            "categories": [{"value": 1, "label": "Man"}, {"value": 2, "label": "Woman"}],
            "missingValues": [{"value": "99", "label": "Refused"}],
        },
        {
            "name": "age",
            "type": "integer",
            "constraints": {"minimum": 18, "maximum": 65},
            "missingValues": [{"value": "99", "label": "Refused"}],
        },
        {"name": "weight", "type": "number", "constraints": {"minimum": 0}},
        {"name": "badge", "type": "string", "constraints": {"unique": True, "maxLength": 8}},
        {"name": "interview_date", "type": "date"},
    ],
}
CODEBOOK = codebook_from_dict(SPEC)


def good_frame(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "respondent_id": [f"OS-{i:03d}" for i in range(1, n + 1)],
            "name": [f"Person {i}" for i in range(1, n + 1)],
            "sex": [1.0 + i % 2 for i in range(n)],  # SPSS numerics arrive as floats
            "age": [20 + i for i in range(n)],
            "weight": [1.5 + i for i in range(n)],
            "badge": [f"B{i}" for i in range(n)],
            "interview_date": ["2023-03-0" + str(1 + i % 9) for i in range(n)],
        }
    )


def run(frame: pd.DataFrame, **kwargs):
    return validate(
        RawTable(data=frame), CODEBOOK, dataset="officer_survey", file="2023.sav", **kwargs
    )


def test_good_rows_all_pass_and_reconcile() -> None:
    frame = good_frame()
    frame["shoe_size"] = 42
    result = run(frame)
    assert result.quarantine.empty
    assert list(result.quarantine.columns) == QUARANTINE_COLUMNS
    assert result.valid["_row"].tolist() == [1, 2, 3, 4, 5, 6]
    assert list(result.valid.columns) == ["_row", *CODEBOOK.fields]
    assert result.report["rows_in"] == 6 == result.report["rows_valid"]
    assert result.report["rows_quarantined"] == 0
    # an unknown column never passes on, and is reported
    assert "shoe_size" not in result.valid.columns
    assert result.report["unknown_columns"] == ["shoe_size"]
    assert any("shoe_size" in w for w in result.report["warnings"])


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("age", "forty", "type"),
        ("age", 17.5, "type"),
        ("weight", "heavy", "type"),
        ("interview_date", "2023-02-30", "type"),
        ("sex", None, "required"),
        ("sex", "  ", "required"),
        ("respondent_id", None, "required"),
        ("age", 70, "out_of_range"),
        ("age", 17, "out_of_range"),
        ("weight", -0.5, "out_of_range"),
        ("sex", 3, "unknown_category"),
        ("badge", "B" * 9, "max_length"),
        ("badge", "B1", "not_unique"),
    ],
)
def test_each_rule_quarantines_the_row(column: str, value: object, rule: str) -> None:
    frame = good_frame().astype(object)
    frame.loc[3, column] = value  # data row 4
    result = run(frame)
    q = result.quarantine
    hit = q[(q["rule"] == rule) & (q["column"] == column)]
    assert 4 in hit["row"].tolist()
    message = hit.loc[hit["row"] == 4, "message"].iloc[0]
    assert repr(column) in message and "row 4" in message
    assert 4 not in result.valid["_row"].tolist()
    r = result.report
    assert r["rows_in"] == r["rows_valid"] + r["rows_quarantined"]
    assert r["problems_by_rule"][rule] >= 1 and r["problems_by_column"][column] >= 1


def test_user_missing_codes_are_not_out_of_range_or_unknown() -> None:
    frame = good_frame()
    frame.loc[0, "age"] = 99
    frame.loc[1, "sex"] = 99.0
    result = run(frame)
    assert result.quarantine.empty
    assert result.valid.loc[0, "age"] == 99


def test_duplicate_keys_quarantine_every_copy() -> None:
    frame = good_frame()
    frame.loc[4, "respondent_id"] = frame.loc[1, "respondent_id"]
    result = run(frame)
    dup = result.quarantine[result.quarantine["rule"] == "duplicate_key"]
    assert sorted(dup["row"]) == [2, 5]
    assert all("rows 2, 5" in m and "'respondent_id'" in m for m in dup["message"])
    assert result.valid["_row"].tolist() == [1, 3, 4, 6]


def test_row_with_several_problems_is_counted_once() -> None:
    frame = good_frame().astype(object)
    frame.loc[2, ["age", "sex"]] = [200, 7]
    result = run(frame)
    assert len(result.quarantine) == 2
    assert result.report["rows_quarantined"] == 1
    assert result.report["rows_valid"] == 5


def test_quarantine_values_are_truncated_and_direct_identifiers_redacted() -> None:
    long_spec = {
        "name": "t",
        "fields": [
            {"name": "note", "type": "string", "constraints": {"maxLength": 10}},
            {
                "name": "name",
                "type": "string",
                "x-identifier": "direct",
                "constraints": {"maxLength": 5},
            },
        ],
    }
    frame = pd.DataFrame({"note": ["x" * 500], "name": ["Nguyen Thi Secret"]})
    result = validate(
        RawTable(data=frame), codebook_from_dict(long_spec), dataset="t", file="t.csv"
    )
    values = dict(zip(result.quarantine["column"], result.quarantine["value"], strict=True))
    assert len(values["note"]) == MAX_VALUE_CHARS
    assert "Secret" not in values["name"] and "redacted" in values["name"]
    assert "Secret" not in " ".join(result.quarantine["message"])


def test_missing_required_column_is_structural_and_suggests_renamed_column() -> None:
    frame = good_frame().rename(columns={"respondent_id": "Respondent_ID"})
    with pytest.raises(StructuralError) as info:
        run(frame)
    message = str(info.value)
    assert "officer_survey" in message and "2023.sav" in message
    assert "'respondent_id'" in message and "'Respondent_ID'" in message and "renamed" in message


def test_missing_required_column_lists_unknown_columns() -> None:
    frame = good_frame().drop(columns="sex")
    frame["q7"] = 1
    with pytest.raises(StructuralError, match=r"sex.*might be the missing ones: 'q7'"):
        run(frame)


def test_missing_optional_column_is_a_warning() -> None:
    result = run(good_frame().drop(columns="badge"))
    assert result.report["missing_optional_columns"] == ["badge"]
    assert result.report["rows_valid"] == 6


def test_text_in_integer_column_for_most_rows_is_structural() -> None:
    frame = good_frame()
    frame["age"] = ["twenty", "thirty", "forty", "fifty", 30, "sixty"]
    with pytest.raises(StructuralError) as info:
        run(frame)
    message = str(info.value)
    assert "column 'age'" in message and "rows 1, 2, 3, 4, 6" in message
    assert "integer" in message and "What to do" in message


def test_duplicated_column_names_are_structural() -> None:
    frame = pd.concat([good_frame(), good_frame()[["age"]]], axis=1)
    with pytest.raises(StructuralError, match="more than once: age"):
        run(frame)


def test_fail_mode_raises_naming_column_and_rows() -> None:
    frame = good_frame().astype(object)
    frame.loc[[1, 4], "age"] = 80
    with pytest.raises(WpsInputError) as info:
        run(frame, on_row_error="fail")
    err = info.value
    assert err.column == "age" and err.rows == [2, 5]
    assert "column 'age' rows 2, 5 (out_of_range)" in str(err)
    with pytest.raises(ValueError, match="on_row_error"):
        run(frame, on_row_error="ignore")


def test_file_declared_missing_code_unknown_to_codebook_applies_and_is_reported() -> None:
    # the file's own user-missing code applies without being repeated in the codebook
    frame = good_frame()
    frame.loc[0, "age"] = 98
    table = RawTable(data=frame, missing_codes={"age": [98.0, 99.0]})
    result = validate(table, CODEBOOK, dataset="officer_survey", file="2023.sav")
    assert result.quarantine.empty
    assert any("98" in w and "'age'" in w and "applied" in w for w in result.report["warnings"])


# Property: whatever the bad cells, every bad row is quarantined, every good row kept.
PROP = codebook_from_dict(
    {
        "name": "p",
        "primaryKey": ["id"],
        "fields": [
            {"name": "id", "type": "string"},
            {
                "name": "score",
                "type": "integer",
                "constraints": {"minimum": 0, "maximum": 10},
                "missingValues": [{"value": "99", "label": "Refused"}],
            },
            {"name": "grade", "type": "integer", "categories": [{"value": v} for v in (1, 2, 3)]},
            {"name": "note", "type": "string", "constraints": {"maxLength": 5}},
        ],
    }
)
CELL = {
    "score": st.one_of(
        st.tuples(st.just(True), st.integers(0, 10)),
        st.tuples(st.just(True), st.just(99)),
        st.tuples(st.just(False), st.integers(11, 98)),
        st.tuples(st.just(False), st.integers(-50, -1)),
        st.tuples(st.just(False), st.just("n/a")),
    ),
    "grade": st.one_of(
        st.tuples(st.just(True), st.sampled_from([1, 2, 3, None])),
        st.tuples(st.just(False), st.integers(4, 9)),
    ),
    "note": st.one_of(
        st.tuples(st.just(True), st.text("abc", max_size=5)),
        st.tuples(st.just(False), st.text("abc", min_size=6, max_size=300)),
    ),
}


@st.composite
def frames(draw):
    n = draw(st.integers(1, 25))
    ids = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    cells = {c: draw(st.lists(s, min_size=n, max_size=n)) for c, s in CELL.items()}
    # at most two type errors per column, so the column never looks unusable (structural)
    typos = [i for i, (_ok, v) in enumerate(cells["score"]) if v == "n/a"]
    for i in typos[2:]:
        cells["score"][i] = (False, 42)
    frame = pd.DataFrame(
        {"id": [f"R{k}" for k in ids]} | {c: [v for _ok, v in cells[c]] for c in cells}
    )
    bad = {i + 1 for i in range(n) if ids.count(ids[i]) > 1}
    bad |= {i + 1 for c in cells for i, (ok, _v) in enumerate(cells[c]) if not ok}
    return frame, bad


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_reconciliation_property(case) -> None:
    frame, bad = case
    result = validate(RawTable(data=frame.astype(object)), PROP, dataset="p", file="p.csv")
    r = result.report
    assert r["rows_in"] == len(frame) == r["rows_valid"] + r["rows_quarantined"]
    assert set(result.quarantine["row"]) == bad
    assert result.valid["_row"].tolist() == [i for i in range(1, len(frame) + 1) if i not in bad]
    kept = frame.iloc[result.valid["_row"] - 1].reset_index(drop=True)
    assert result.valid["id"].tolist() == kept["id"].tolist()


@pytest.mark.parametrize(
    "values",
    [
        [1, 2, 2, 1, None, float("nan"), 3],
        ["a", "b", "a", None, ""],
        [True, 1, 0, False, None],
        [1.0, 1, "1", pd.NaT, pd.Timestamp("2025-01-02")],
        [],
    ],
)
def test_per_value_equals_element_wise_map(values):
    from analysis.validate.wave import code_text, per_value

    def plain(series: pd.Series) -> list:
        return [None if v is None or (isinstance(v, float) and v != v) else v for v in series]

    obj = pd.Series(values, dtype=object)
    for func in (code_text, repr, lambda v: type(v).__name__):
        assert plain(per_value(obj, func)) == plain(obj.map(func))


def test_python_whitespace_list_is_what_str_strip_removes():
    from analysis.validate.wave import PY_WHITESPACE

    assert "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == PY_WHITESPACE


@pytest.mark.parametrize(
    "series",
    [
        pd.Series([1.0, 2.5, None, 1.0, float("nan"), 99.0]),
        pd.Series([3, 1, 3, 2]),
        pd.array([1, None, 2, 1], dtype="Int64"),
        pd.Series(["a", None, "a", " b"], dtype="string"),
        pd.Series(pd.to_datetime(["2025-01-02", None, "2025-01-02"])),
    ],
)
def test_per_value_of_typed_columns_equals_mapping_python_objects(series):
    from analysis.validate.wave import code_text, per_value

    series = pd.Series(series)
    expected = [  # Series.map turns a None result into NaN; per_value keeps None
        [func(v) for v in series.astype(object)] for func in (code_text, repr, type)
    ]
    for func, want in zip((code_text, repr, type), expected, strict=True):
        assert per_value(series, func).tolist() == want


@pytest.mark.parametrize(
    "values",
    [
        ["OS-001", "", None, "99", "x y", "OS-001"],
        ["  padded", "tab\t", "\u3000wide", None, "99 "],  # edge whitespace: the general path
    ],
)
def test_text_columns_parse_the_same_whatever_their_dtype(values):
    from analysis.validate.wave import parse_column

    field = codebook_from_dict(
        {
            "name": "t",
            "fields": [
                {"name": "id", "type": "string", "missingValues": [{"value": "99", "label": "R"}]}
            ],
        }
    ).fields["id"]
    as_string = parse_column(pd.Series(values, dtype="string"), field)
    as_object = parse_column(pd.Series(values, dtype=object), field)
    for part in ("blank", "user_missing", "bad_type", "code_text"):
        assert getattr(as_string, part).tolist() == getattr(as_object, part).tolist(), part
    assert as_string.typed.equals(as_object.typed)


def test_integer_cells_are_whole_numbers_a_64_bit_integer_holds():
    """Fractions, infinities and numbers beyond 64 bits are bad values of an integer field
    (pandas turned 1e300 into -9223372036854775808 without a word); negative zero and large
    whole numbers are kept exactly."""
    from analysis.validate.wave import parse_column

    field = codebook_from_dict({"name": "t", "fields": [{"name": "n", "type": "integer"}]}).fields[
        "n"
    ]
    values = [1.0, -2.5, 2.5, -0.0, np.nan, np.inf, -np.inf, 1e300, 2.0**60, -(2.0**63), 2.0**63]
    parsed = parse_column(pd.Series(values), field)
    assert parsed.bad_type.tolist() == [
        False, True, True, False, False, True, True, True, False, True, True
    ]  # fmt: skip
    assert parsed.typed.tolist()[:4] == [1, pd.NA, pd.NA, 0]
    assert parsed.typed.iloc[8] == 2**60
    assert str(parsed.typed.dtype) == "Int64"
