"""Trends across waves: differences, SEs, t intervals and p-values of hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.survey.estimate import COLUMNS
from analysis.survey.trends import TREND_COLUMNS, compare_waves


def _wave(rows: list[tuple]) -> pd.DataFrame:
    """Estimates table with the columns of run_estimates from (id, group, value, level, est,
    se, df, n) tuples."""
    records = [
        {
            "estimate_id": eid,
            "title": f"title of {eid}",
            "variable": eid,
            "statistic": "mean" if level is None else "proportion",
            "level": level,
            "group_var": group,
            "group_value": value,
            "estimate": est,
            "se": se,
            "ci_low": est - 2 * se,
            "ci_high": est + 2 * se,
            "df": df,
            "n": n,
            "n_level": pd.NA,
            "design": "weight=w",
        }
        for eid, group, value, level, est, se, df, n in rows
    ]
    return pd.DataFrame(records, columns=COLUMNS).astype(
        {"level": "string", "group_var": "string", "group_value": "string", "n_level": "Int64"}
    )


WAVE_2023 = _wave(
    [
        ("share", "(overall)", "(overall)", "1", 0.10, 0.03, 40, 900),
        ("share", "women", "1", "1", 0.20, 0.04, 40, 200),
        ("index", "(overall)", "(overall)", None, 3.0, 0.3, 40, 900),
        ("gone", "(overall)", "(overall)", "1", 0.5, 0.1, 40, 900),
    ]
)
WAVE_2025 = _wave(
    [
        ("index", "(overall)", "(overall)", None, 3.4, 0.4, 30, 950),
        ("share", "(overall)", "(overall)", "1", 0.16, 0.04, 30, 950),
        ("share", "women", "1", "1", 0.20, 0.0, 30, 210),
        ("new", "(overall)", "(overall)", "1", 0.7, 0.1, 30, 950),
    ]
)


def test_two_waves_give_differences_ses_intervals_and_p_values():
    out = compare_waves({"2025": WAVE_2025, "2023": WAVE_2023})
    assert list(out.columns) == TREND_COLUMNS
    assert list(out["estimate_id"]) == ["index", "share", "share"]  # later wave's order
    assert (out["wave_from"] == "2023").all() and (out["wave_to"] == "2025").all()
    index = out.iloc[0]
    assert pd.isna(index["level"]) and index["statistic"] == "mean"
    assert index["change"] == pytest.approx(0.4)
    assert index["se"] == pytest.approx(0.5)  # sqrt(0.3^2 + 0.4^2)
    assert index["df"] == 30
    q = stats.t.ppf(0.975, 30)
    assert index["ci_low"] == pytest.approx(0.4 - q * 0.5)
    assert index["ci_high"] == pytest.approx(0.4 + q * 0.5)
    assert index["p"] == pytest.approx(2 * stats.t.sf(0.8, 30))
    share = out[(out["estimate_id"] == "share") & (out["group_var"] == "(overall)")].iloc[0]
    assert share["change"] == pytest.approx(0.06) and share["se"] == pytest.approx(0.05)
    assert (share["estimate_from"], share["estimate_to"]) == (0.10, 0.16)
    assert (share["n_from"], share["n_to"], share["df_from"], share["df_to"]) == (900, 950, 40, 30)
    women = out[out["group_var"] == "women"].iloc[0]
    assert women["change"] == pytest.approx(0.0) and women["p"] == pytest.approx(1.0)


def test_cells_missing_from_a_wave_have_no_change_row():
    out = compare_waves({"2023": WAVE_2023, "2025": WAVE_2025})
    assert not {"gone", "new"} & set(out["estimate_id"])


def test_three_waves_compare_consecutive_pairs_only():
    wave_2027 = WAVE_2025.assign(estimate=WAVE_2025["estimate"] + 0.01)
    out = compare_waves({"2027": wave_2027, "2023": WAVE_2023, "2025": WAVE_2025})
    pairs = set(zip(out["wave_from"], out["wave_to"], strict=True))
    assert pairs == {("2023", "2025"), ("2025", "2027")}
    later = out[out["wave_from"] == "2025"]
    np.testing.assert_allclose(later["change"], 0.01)
    assert len(later) == 4  # every cell of 2025, "new" included


def test_single_wave_gives_an_empty_table_with_the_columns():
    for tables in ({"2025": WAVE_2025}, {}):
        out = compare_waves(tables)
        assert out.empty and list(out.columns) == TREND_COLUMNS
        assert out["df"].dtype == "int64" and out["estimate_id"].dtype == "string"


def test_duplicate_cells_and_foreign_tables_are_refused():
    with pytest.raises(ValueError, match=r"wave '2023'.*same cell"):
        compare_waves({"2023": pd.concat([WAVE_2023, WAVE_2023.iloc[:1]]), "2025": WAVE_2025})
    with pytest.raises(ValueError, match=r"wave '2025' lack the columns \['se'\]"):
        compare_waves({"2023": WAVE_2023, "2025": WAVE_2025.drop(columns="se")})
