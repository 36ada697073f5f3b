"""Inter-coder reliability: published reference values, closed forms, flags and determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.interviews.reliability import (
    ALL_CODES,
    agreement_table,
    cohen_kappa,
    krippendorff_alpha,
    reliability_flag,
    reliability_table,
)

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference-data" / "reliability"
CODES = {"broker": "recruitment", "debt": "control", "documents": "control", "rare": "other"}


def reference(name: str) -> pd.DataFrame:
    path = REFERENCE / name
    if not path.is_file():
        pytest.skip(f"reference file {path} not found (expected in ../shared/reference-data)")
    return pd.read_csv(path)


def test_krippendorff_2011_nominal_alpha():
    data = reference("krippendorff_2011_reliability_data.csv").set_index("observer")
    assert data.shape == (4, 12)
    assert round(krippendorff_alpha(data.to_numpy(dtype=float)), 3) == 0.743


def test_krippendorff_wikipedia_nominal_alpha():
    data = reference("krippendorff_wikipedia_3x15.csv").set_index("coder")
    assert krippendorff_alpha(data.to_numpy(dtype=float)) == pytest.approx(0.691358, abs=1e-6)


@pytest.mark.parametrize(
    ("table", "published"), [("statsmodels_table10", 0.4842), ("grant_2x2_yes_no", 0.40)]
)
def test_cohen_kappa_published_tables(table, published):
    rows = reference("cohens_kappa_tables.csv")
    rows = rows[rows["table"] == table]
    order = list(dict.fromkeys(rows["row"]))
    square = rows.pivot(index="row", columns="col", values="count").loc[order, order]
    assert round(cohen_kappa(square.to_numpy()), 4) == published


def closed_form_alpha(x: np.ndarray, y: np.ndarray) -> float:
    """Nominal alpha of two coders, binary values, no missing: 1 - (n-1) d / (n0 n1)."""
    n = 2 * len(x)
    d = int(np.sum(x != y))
    n1 = int(x.sum() + y.sum())
    return 1 - (n - 1) * d / ((n - n1) * n1)


def closed_form_kappa(x: np.ndarray, y: np.ndarray) -> float:
    po = np.mean(x == y)
    pe = x.mean() * y.mean() + (1 - x.mean()) * (1 - y.mean())
    return (po - pe) / (1 - pe)


def double_coded_long(seed: int = 3, n: int = 30) -> tuple[pd.DataFrame, dict]:
    """Long table with n double-coded interviews plus single-coded ones; truth vectors by code."""
    rng = np.random.default_rng(seed)
    truth = {}
    rows = []
    for code, flip in [("broker", 0.0), ("debt", 0.1), ("documents", 0.35), ("rare", 0.0)]:
        a = (rng.random(n) < 0.5).astype(int) if code != "rare" else np.zeros(n, dtype=int)
        b = np.where(rng.random(n) < flip, 1 - a, a)
        truth[code] = (a, b)
    for i in range(n + 5):
        iid = f"D{i:03d}"
        for coder in ("A", "B") if i < n else ("A",):
            applied = [c for c in CODES if i < n and truth[c][0 if coder == "A" else 1][i]]
            base = {
                "interview_id": iid,
                "respondent_type": "Survivor",
                "sex": "Woman",
                "country": "Thailand",
                "coder": coder,
            }
            rows += [{**base, "code": c} for c in applied] or [{**base, "code": None}]
    return pd.DataFrame(rows), truth


def test_reliability_table_matches_closed_forms_and_flags():
    long, truth = double_coded_long()
    table = reliability_table(long, CODES, seed=11, n_boot=200).set_index("code")
    assert list(table.index) == [*CODES, ALL_CODES]
    assert (table["interviews"] == 30).all()  # the five single-coded interviews are left out
    for code in ("broker", "debt", "documents"):
        x, y = truth[code]
        row = table.loc[code]
        assert row["alpha"] == pytest.approx(closed_form_alpha(x, y), abs=1e-6)
        assert row["kappa"] == pytest.approx(closed_form_kappa(x, y), abs=1e-6)
        assert (row["applied_a"], row["applied_b"]) == (x.sum(), y.sum())
        assert row["flag"] == reliability_flag(row["alpha"])
        assert row["alpha_low"] <= row["alpha"] + 1e-9 <= row["alpha_high"] + 2e-9
    assert table.loc["broker", "flag"] == "reliable" and table.loc["broker", "alpha"] == 1
    assert table.loc["documents", "flag"] == "unreliable"
    assert table.loc["rare", "flag"] == "not estimable"
    x = np.concatenate([truth[c][0] for c in CODES])
    y = np.concatenate([truth[c][1] for c in CODES])
    assert table.loc[ALL_CODES, "alpha"] == pytest.approx(closed_form_alpha(x, y), abs=1e-6)


def test_flag_thresholds():
    assert reliability_flag(0.6669) == "unreliable"
    assert reliability_flag(0.667) == "tentative"
    assert reliability_flag(0.7999) == "tentative"
    assert reliability_flag(0.8) == "reliable"
    assert reliability_flag(float("nan")) == "not estimable"


def test_bootstrap_is_deterministic_for_a_seed():
    long, _ = double_coded_long()
    first = reliability_table(long, CODES, seed=2024, n_boot=100)
    again = reliability_table(long, CODES, seed=2024, n_boot=100)
    other = reliability_table(long, CODES, seed=2025, n_boot=100)
    pd.testing.assert_frame_equal(first, again)
    ci = ["alpha_low", "alpha_high", "kappa_low", "kappa_high"]
    assert not first[ci].equals(other[ci])
    assert first[["alpha", "kappa"]].equals(other[["alpha", "kappa"]])


def test_wide_shape_gives_the_same_table():
    long, _ = double_coded_long()
    attrs = ["interview_id", "respondent_type", "sex", "country", "coder"]
    rows = []
    for key, group in long.groupby(attrs, sort=True):  # uncoded interviews become all-zero rows
        present = set(group["code"].dropna())
        rows.append({**dict(zip(attrs, key, strict=True)), **{c: int(c in present) for c in CODES}})
    wide = pd.DataFrame(rows)
    assert (wide[list(CODES)].sum(axis=1) == 0).any()
    pd.testing.assert_frame_equal(
        reliability_table(wide, CODES, seed=5, n_boot=50),
        reliability_table(long, CODES, seed=5, n_boot=50),
    )


def test_agreement_table_layout():
    table = agreement_table([1, 1, 0, 0, 1], [1, 0, 1, 0, 1])
    assert table.tolist() == [[2, 1], [1, 1]]
