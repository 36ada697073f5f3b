"""Findings helpers: how numbers print, counting withheld cells, and locating estimate rows."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.findings.book import (
    SUPPRESSED,
    FindingsBook,
    MissingRow,
    change,
    change_text,
    count,
    estimate_row,
    number,
    number_range,
    percent,
    percent_range,
    points,
    protect_for_brief,
    signed,
)


def test_percent_rounds_and_marks_missing() -> None:
    assert percent(0.1423) == "14%"
    assert percent(0.1423, 1) == "14.2%"
    assert percent(None) == SUPPRESSED
    assert percent(pd.NA) == SUPPRESSED
    assert percent_range(0.12, 0.164) == "12–16%"
    assert percent_range(0.12, None) == SUPPRESSED


def test_numbers_use_a_real_minus_sign() -> None:
    assert number(-0.456, 2) == "−0.46"
    assert number(-0.001, 1) == "0.0"
    assert signed(3.94) == "+3.9"
    assert signed(-1.25, 1) == "−1.2"
    assert number_range(0.34, 0.62) == "0.34–0.62"


def test_points_has_sign_and_singular() -> None:
    assert points(0.19) == "+19 points"
    assert points(-0.01) == "−1 point"
    assert points(0.0) == "±0 points"
    assert points(-0.006, 1) == "−0.6 points"


def test_count_withholds_small_numbers() -> None:
    assert count(4, 5) == "fewer than 5"
    assert count(5, 5) == "5"
    assert count(0, 5) == "0"
    assert count(1234, 5) == "1,234"


def test_change_flags_differences_within_sampling_error() -> None:
    now = pd.Series({"estimate": 0.50, "se": 0.01})
    then = pd.Series({"estimate": 0.30, "se": 0.01})
    diff, significant = change(now, then)
    assert diff == pytest.approx(0.20) and significant
    diff, significant = change(pd.Series({"estimate": 0.31, "se": 0.02}), then)
    assert not significant
    assert change_text(diff, significant) == "+1.0 points, within sampling error"
    assert change(pd.Series({"estimate": pd.NA, "se": pd.NA}), then) == (None, None)


def test_book_counts_withheld_findings_and_table_cells() -> None:
    book = FindingsBook(brief="regional", wave="2025", threshold=10, interview_threshold=5)
    book.add("a", 0.2, "20%", {"table": "t"})
    book.add("b", None, SUPPRESSED, {"table": "t"})
    book.add("c", 3, count(3, 5), {"table": "t"})
    book.add_table("t", "caption", ["x", "y"], [["1", SUPPRESSED], [SUPPRESSED, "2"]])
    assert book.suppressed_cells == 4
    assert "4 figures were withheld" in book.suppressed_note()
    with pytest.raises(ValueError, match="defined twice"):
        book.add("a", 1, "1", {})
    empty = FindingsBook(brief="regional", wave="2025", threshold=10)
    assert empty.suppressed_note().startswith("No figure")


def test_the_disclosure_note_names_who_the_brief_is_about() -> None:
    """A survey of schools is not about officers, and has no interviewees: the note of a
    dataset's own brief says respondents; the regional and country briefs keep theirs."""
    schools = FindingsBook(brief="schools", wave="2024", threshold=10).suppressed_note()
    assert "fewer than 10 respondents" in schools
    assert "officers" not in schools and "interviewees" not in schools
    regional = FindingsBook(
        brief="regional",
        wave="2025",
        threshold=10,
        respondents="officers",
        counts_interviewees=True,
    ).suppressed_note()
    assert "fewer than 10 officers" in regional and "fewer than 5 interviewees" in regional


def stacked(rows: list[dict]) -> pd.DataFrame:
    base = {"level": "1", "group_var": "(overall)", "group_value": "(overall)", "se": 0.01}
    return pd.DataFrame([{**base, **row} for row in rows])


def test_estimate_row_finds_exactly_one_row() -> None:
    frame = stacked(
        [
            {"estimate_id": "women_share", "estimate": 0.12},
            {"estimate_id": "women_share", "group_var": "women", "group_value": "1", "estimate": 1},
        ]
    )
    row, source = estimate_row(frame, "e.parquet", estimate_id="women_share", level="1")
    assert row["estimate"] == 0.12
    assert source == {
        "table": "e.parquet",
        "row": {
            "estimate_id": "women_share",
            "group_var": "(overall)",
            "group_value": "(overall)",
            "level": "1",
        },
    }
    with pytest.raises(KeyError, match="has 0 such rows"):
        estimate_row(frame, "e.parquet", estimate_id="absent")
    twice = pd.concat([frame, frame.iloc[:1]], ignore_index=True)
    with pytest.raises(KeyError, match="has 2 such rows"):
        estimate_row(twice, "e.parquet", estimate_id="women_share")


def test_a_quoted_estimate_the_plan_does_not_make_is_named_with_those_it_does() -> None:
    """Before, a user's own survey as brief_dataset ended in a bare KeyError on women_share."""
    frame = stacked([{"estimate_id": "api_mean", "estimate": 662.3}])
    with pytest.raises(MissingRow) as caught:
        estimate_row(frame, "results/tables/schools/strat/estimates.parquet", estimate_id="x")
    message = str(caught.value)
    assert "results/tables/schools/strat/estimates.parquet" in message
    assert "'estimate_id': 'x'" in message and "api_mean" in message
    assert "brief_dataset" in message


def test_protect_for_brief_uses_the_smaller_of_group_and_level_counts() -> None:
    frame = stacked(
        [
            {
                "estimate_id": "a",
                "estimate": 0.5,
                "ci_low": 0.4,
                "ci_high": 0.6,
                "n": 200,
                "n_level": 100,
            },
            {
                "estimate_id": "b",
                "estimate": 0.02,
                "ci_low": 0.0,
                "ci_high": 0.1,
                "n": 200,
                "n_level": 4,
            },
            {
                "estimate_id": "c",
                "estimate": 0.5,
                "ci_low": 0.1,
                "ci_high": 0.9,
                "n": 8,
                "n_level": 4,
            },
            {
                "estimate_id": "d",
                "estimate": 3.1,
                "ci_low": 3.0,
                "ci_high": 3.2,
                "n": 50,
                "n_level": pd.NA,
            },
        ]
    )
    out = protect_for_brief(frame, 10)
    assert out["suppressed"].tolist() == [False, True, True, False]
    assert out.loc[1, "estimate"] is pd.NA and out.loc[3, "estimate"] == 3.1


def test_a_figure_resting_on_a_lonely_stratum_is_named_in_the_methods_note() -> None:
    """Estimates flag rows that rest on a stratum with one sampled PSU (lonely_strata); a brief
    quoting one says so beside its disclosure note (issue 15 defect 6)."""
    frame = stacked(
        [
            {"estimate_id": "a", "estimate": 0.3, "n": 50, "n_level": 15, "lonely_strata": 1},
            {"estimate_id": "b", "estimate": 0.4, "n": 50, "n_level": 20, "lonely_strata": 0},
        ]
    )
    book = FindingsBook(brief="x", wave="1", threshold=10)
    for estimate_id in ("a", "b"):
        row, source = estimate_row(frame, "t.parquet", estimate_id=estimate_id, level="1")
        book.add(estimate_id, row["estimate"], "30%", {**source, "column": "estimate"})
    assert book.findings["a"]["source"]["lonely_strata"] == 1
    assert "lonely_strata" not in book.findings["b"]["source"]
    assert "1 figure rests on a stratum with a single sampled cluster" in book.suppressed_note()
