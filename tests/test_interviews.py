"""Theme tables: frequencies, co-occurrence and survivor sex differences on a hand-built fixture.

Expected values are recomputed here by explicit loops over interviews (a different method from
the module's indicator matrices and groupby).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import hypergeom

from analysis.errors import WpsInputError
from analysis.interviews.themes import (
    code_frequencies,
    code_table,
    cooccurrence,
    protected_frequency_table,
    sex_differences_survivors,
    to_long,
)

CODES = [
    {"value": "broker", "label": "Broker", "x-theme": "recruitment", "x-definition": "d1"},
    {"value": "online", "label": "Online", "x-theme": "recruitment", "x-definition": "d2"},
    {"value": "debt", "label": "Debt", "x-theme": "control", "x-definition": "d3"},
    {"value": "documents", "label": "Documents", "x-theme": "control", "x-definition": "d4"},
    {"value": "women_officer", "label": "Woman officer", "x-theme": "services", "x-definition": ""},
]
CODE_NAMES = [c["value"] for c in CODES]
THEME_OF = {c["value"]: c["x-theme"] for c in CODES}


def make_long(seed: int = 7) -> pd.DataFrame:
    """Random long export: 40 interviews, 4 men survivors, duplicated rows, uncoded interviews."""
    rng = np.random.default_rng(seed)
    people = (
        [("Survivor", "Woman")] * 20
        + [("Survivor", "Man")] * 4
        + [("Front-line officer", "Woman")] * 8
        + [("Front-line officer", "Man")] * 5
        + [("Family member", "Woman")] * 3
    )
    rows = []
    for i, (rtype, sex) in enumerate(people, start=1):
        iid = f"P{i:03d}"
        country = ["Cambodia", "Myanmar", "Thailand"][i % 3]
        coders = ["A", "B"] if i % 3 == 0 else ["A"]
        for coder in coders:
            applied = [c for c in CODE_NAMES if rng.random() < 0.45]
            if i == 5:
                applied = []
            base = {"interview_id": iid, "respondent_type": rtype, "sex": sex, "country": country}
            if not applied:
                rows.append({**base, "coder": coder, "code": None})
            for code in applied:
                rows.append({**base, "coder": coder, "code": code})
                if rng.random() < 0.2:  # the same code applied twice to one interview
                    rows.append({**base, "coder": coder, "code": code})
    return pd.DataFrame(rows)


def to_wide(long: pd.DataFrame) -> pd.DataFrame:
    """The wide export of a long table: one row per interview x coder, 0/1 per code."""
    attrs = ["interview_id", "respondent_type", "sex", "country", "coder"]
    out = []
    for key, group in long.groupby(attrs, sort=True):
        row = dict(zip(attrs, key, strict=True))
        present = set(group["code"].dropna())
        row.update({c: int(c in present) for c in CODE_NAMES})
        out.append(row)
    return pd.DataFrame(out)


def loop_sets(long: pd.DataFrame, coder: str = "A") -> dict[str, set[str]]:
    """interview -> set of codes applied by one coder, by explicit iteration."""
    sets: dict[str, set[str]] = {}
    for rec in long.to_dict("records"):
        if rec["coder"] != coder:
            continue
        sets.setdefault(rec["interview_id"], set())
        if rec["code"] is not None and rec["code"] == rec["code"]:
            sets[rec["interview_id"]].add(rec["code"])
    return sets


def attrs_of(long: pd.DataFrame) -> dict[str, dict[str, str]]:
    return {
        r["interview_id"]: {k: r[k] for k in ("respondent_type", "sex", "country")}
        for r in long.to_dict("records")
    }


@pytest.fixture(scope="module")
def long() -> pd.DataFrame:
    return make_long()


def test_code_table_reads_codebook_categories():
    table = code_table(CODES)
    assert table["code"].tolist() == CODE_NAMES
    assert table["theme"].tolist() == [THEME_OF[c] for c in CODE_NAMES]
    assert table.loc[0, "definition"] == "d1"


def test_overall_frequencies_match_loops(long):
    freq = code_frequencies(long, CODES)
    sets = loop_sets(long)
    overall = freq[(freq["respondent_type"] == "All") & (freq["sex"] == "All")]
    overall = overall[overall["country"] == "All"]
    for code in CODE_NAMES:
        expected = sum(1 for s in sets.values() if code in s)
        got = overall.loc[(overall["level"] == "code") & (overall["code"] == code)]
        assert got["interviews_mentioning"].item() == expected
        assert got["interviews"].item() == len(sets)
    for theme in set(THEME_OF.values()):
        members = {c for c, t in THEME_OF.items() if t == theme}
        expected = sum(1 for s in sets.values() if s & members)
        got = overall.loc[(overall["level"] == "theme") & (overall["theme"] == theme)]
        assert got["interviews_mentioning"].item() == expected


@pytest.mark.parametrize("by", ["respondent_type", "sex", "country"])
def test_group_frequencies_match_loops(long, by):
    freq = code_frequencies(long, CODES)
    sets, attrs = loop_sets(long), attrs_of(long)
    others = [c for c in ("respondent_type", "sex", "country") if c != by]
    rows = freq[(freq["level"] == "code") & (freq[by] != "All")]
    for o in others:
        rows = rows[rows[o] == "All"]
    groups = sorted({a[by] for a in attrs.values()})
    assert sorted(rows[by].unique()) == groups
    for group in groups:
        members = [i for i in sets if attrs[i][by] == group]
        for code in CODE_NAMES:
            expected = sum(1 for i in members if code in sets[i])
            got = rows[(rows[by] == group) & (rows["code"] == code)]
            assert got["interviews_mentioning"].item() == expected
            assert got["interviews"].item() == len(members)


def test_duplicate_rows_count_once():
    base = {"respondent_type": "Survivor", "sex": "Woman", "country": "Cambodia", "coder": "A"}
    long = pd.DataFrame(
        [{**base, "interview_id": "X1", "code": "debt"}] * 3
        + [{**base, "interview_id": "X2", "code": "documents"}]
    )
    freq = code_frequencies(long, CODES, by=())
    codes = freq[freq["level"] == "code"].set_index("code")["interviews_mentioning"]
    assert codes["debt"] == 1 and codes["documents"] == 1 and codes["broker"] == 0
    themes = freq[freq["level"] == "theme"].set_index("theme")["interviews_mentioning"]
    assert themes["control"] == 2


def test_cooccurrence_symmetric_diagonal_and_loops(long):
    mat = cooccurrence(long, CODES)
    sets = loop_sets(long)
    assert list(mat.index) == CODE_NAMES and list(mat.columns) == CODE_NAMES
    assert (mat.to_numpy() == mat.to_numpy().T).all()
    freq = code_frequencies(long, CODES, by=())
    diag = freq[freq["level"] == "code"].set_index("code")["interviews_mentioning"]
    assert [mat.loc[c, c] for c in CODE_NAMES] == [diag[c] for c in CODE_NAMES]
    for a in CODE_NAMES:
        for b in CODE_NAMES:
            assert mat.loc[a, b] == sum(1 for s in sets.values() if a in s and b in s)


def test_wide_and_long_give_identical_results(long):
    wide = to_wide(long)
    pd.testing.assert_frame_equal(code_frequencies(wide, CODES), code_frequencies(long, CODES))
    pd.testing.assert_frame_equal(cooccurrence(wide, CODES), cooccurrence(long, CODES))
    pd.testing.assert_frame_equal(
        sex_differences_survivors(wide, CODES), sex_differences_survivors(long, CODES)
    )
    uncoded = long["code"].isna().sum()  # one row per interview x coder with no code
    assert uncoded >= 1
    assert to_long(wide, CODES)["code"].isna().sum() == uncoded


def test_sex_differences_counts_pvalues_and_warning(long):
    diffs = sex_differences_survivors(long, CODES).set_index("code")
    sets, attrs = loop_sets(long), attrs_of(long)
    women = [
        i for i in sets if attrs[i]["respondent_type"] == "Survivor" and attrs[i]["sex"] == "Woman"
    ]
    men = [
        i for i in sets if attrs[i]["respondent_type"] == "Survivor" and attrs[i]["sex"] == "Man"
    ]
    assert len(men) == 4
    for code in CODE_NAMES:
        a = sum(1 for i in women if code in sets[i])
        c = sum(1 for i in men if code in sets[i])
        row = diffs.loc[code]
        assert (row["women_mentioning"], row["men_mentioning"]) == (a, c)
        assert (row["women"], row["men"]) == (len(women), len(men))
        # two-sided Fisher p by summing hypergeometric probabilities no larger than observed
        dist = hypergeom(len(women) + len(men), a + c, len(women))
        support = np.arange(max(0, a + c - len(men)), min(a + c, len(women)) + 1)
        probs = dist.pmf(support)
        p = probs[probs <= dist.pmf(a) * (1 + 1e-7)].sum()
        assert row["p_value"] == pytest.approx(min(1.0, p), rel=1e-6)
        assert row["warning"] == (
            "Only 4 men survivors were interviewed: treat differences as indicative, "
            "not conclusive."
        )


def test_no_warning_when_cells_are_large():
    rows = []
    for i in range(40):
        sex = "Woman" if i < 20 else "Man"
        code = "debt" if i % 2 else "documents"
        rows.append(
            {
                "interview_id": f"Z{i}",
                "respondent_type": "Survivor",
                "sex": sex,
                "country": "Thailand",
                "coder": "A",
                "code": code,
            }
        )
    diffs = sex_differences_survivors(pd.DataFrame(rows), CODES).set_index("code")
    assert diffs.loc["debt", "warning"] == ""
    assert diffs.loc["debt", "min_expected"] == 10
    assert diffs.loc["broker", "warning"] != ""  # nobody mentions it: expected zero


def test_unknown_code_is_a_clear_error(long):
    bad = long.copy()
    bad.loc[3, "code"] = "no_such_code"
    with pytest.raises(WpsInputError) as err:
        code_frequencies(bad, CODES)
    message = str(err.value)
    assert "interviews" in message and "'code'" in message and "row 4" in message
    assert "no_such_code" in message


def test_protected_table_suppresses_small_counts(long):
    protected = protected_frequency_table(long, CODES, "sex", level="code", threshold=5)
    raw = code_frequencies(long, CODES, by=("sex",))
    raw = raw[(raw["level"] == "code") & (raw["sex"] != "All")]
    for rec in raw.to_dict("records"):
        shown = protected.table.loc[rec["code"], rec["sex"]]
        if 0 < rec["interviews_mentioning"] < 5:
            assert pd.isna(shown)
        elif not pd.isna(shown):
            assert shown == rec["interviews_mentioning"]
