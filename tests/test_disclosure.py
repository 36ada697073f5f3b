"""Disclosure control: suppression rules and properties that an intruder could exploit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.disclosure import DisclosureError, protect_crosstab, protect_estimates

tables = st.integers(1, 5).flatmap(
    lambda r: st.integers(1, 5).flatmap(
        lambda c: st.lists(
            st.lists(st.integers(0, 40), min_size=c, max_size=c), min_size=r, max_size=r
        )
    )
)


@settings(max_examples=100, deadline=None)
@given(rows=tables, threshold=st.integers(1, 12))
def test_crosstab_properties(rows, threshold):
    counts = pd.DataFrame(rows, columns=[f"c{j}" for j in range(len(rows[0]))])
    table, mask = protect_crosstab(counts, threshold=threshold)
    full = counts.copy()
    full["Total"] = counts.sum(axis=1)
    full.loc["Total"] = full.sum(axis=0)
    assert (table.isna() == mask).all().all()
    m, truth = mask.to_numpy(), full.to_numpy()
    shown = table.to_numpy(dtype=float, na_value=np.nan)[~m]
    # published values are the true ones and none is under the threshold (zeros allowed)
    assert np.array_equal(shown, truth[~m])
    assert not ((shown > 0) & (shown < threshold)).any()
    # every true cell under the threshold is hidden
    assert m[(truth > 0) & (truth < threshold)].all()
    # no line has exactly one hidden entry: none is margin minus the published entries
    n_rows, n_cols = counts.shape
    for i in range(n_rows + 1):
        hidden = mask.iloc[i].to_numpy()
        assert hidden.sum() != 1, f"row {i} has one suppressed entry"
    for j in range(n_cols + 1):
        hidden = mask.iloc[:, j].to_numpy()
        assert hidden.sum() != 1, f"column {j} has one suppressed entry"


def test_crosstab_secondary_picks_smallest_cells_and_keeps_zeros():
    counts = pd.DataFrame([[2, 30, 0], [40, 50, 60], [35, 45, 55]], columns=["x", "y", "z"])
    table, mask = protect_crosstab(counts, threshold=5)
    # row 0: 2 is primary; the zero is published, so the smallest positive cell (30) joins it
    assert mask.loc[0].tolist() == [True, True, False, False]
    # column x and y now need a second hidden cell: the smallest, 35 and 45
    assert mask["x"].tolist() == [True, False, True, False]
    assert mask["y"].tolist() == [True, False, True, False]
    assert table.loc[0, "z"] == 0
    assert table.loc["Total", "Total"] == counts.to_numpy().sum()


def test_crosstab_small_margin_suppressed():
    counts = pd.DataFrame([[1, 2], [20, 30]], columns=["a", "b"])
    table, mask = protect_crosstab(counts, threshold=5)
    assert pd.isna(table.loc[0, "Total"])
    assert mask.loc[0].all()


def test_crosstab_rejects_bad_counts():
    with pytest.raises(DisclosureError, match="non-negative integers"):
        protect_crosstab(pd.DataFrame([[1, -2]]), threshold=3)
    with pytest.raises(DisclosureError, match="threshold"):
        protect_crosstab(pd.DataFrame([[1, 2]]), threshold=0)


@settings(max_examples=100, deadline=None)
@given(
    ns=st.lists(st.one_of(st.none(), st.integers(0, 50)), min_size=1, max_size=20),
    threshold=st.integers(1, 30),
)
def test_estimates_under_threshold_never_survive(ns, threshold):
    df = pd.DataFrame(
        {
            "n": pd.array(ns, dtype="Int64"),
            "estimate": np.linspace(0.1, 0.9, len(ns)),
            "se": 0.01,
            "ci_low": 0.0,
            "ci_high": 1.0,
        }
    )
    out = protect_estimates(df, threshold=threshold)
    for _, row in out.iterrows():
        small = pd.isna(row["n"]) or row["n"] < threshold
        assert row["suppressed"] == small
        for col in ("estimate", "se", "ci_low", "ci_high"):
            assert pd.isna(row[col]) == small
        assert (row["suppression_reason"] != "") == small


def test_estimates_custom_columns_and_missing_columns():
    df = pd.DataFrame({"base": [3, 30], "odds_ratio": [1.5, 2.0]})
    out = protect_estimates(df, threshold=10, n_col="base", value_cols=("odds_ratio",))
    assert pd.isna(out.loc[0, "odds_ratio"]) and out.loc[1, "odds_ratio"] == 2.0
    assert out["suppression_reason"].iloc[0] == "fewer than 10 unweighted cases"
    with pytest.raises(DisclosureError, match="missing"):
        protect_estimates(df, threshold=10)
