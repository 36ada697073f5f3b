"""The smallest breakdowns the plan allows (by station, the survey's PSU; and a three-way
cross) never reach a brief unprotected: disclosure control withholds every small cell."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.clean.wave import clean
from analysis.config.plan import load_plan
from analysis.findings.book import protect_for_brief, with_cell_counts
from analysis.io import read_raw
from analysis.survey.estimate import run_estimates
from analysis.validate.codebook import load_codebook
from analysis.validate.wave import validate

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw" / "officer_survey"
THRESHOLD = 10


@pytest.fixture(scope="module")
def smallest_breakdowns() -> pd.DataFrame:
    raw = read_raw(RAW / "2025.sav", "officer_survey")
    codebook = load_codebook(RAW / "codebook.json")
    valid = validate(raw, codebook, dataset="officer_survey", file="2025.sav").valid
    data = clean(valid, codebook, dataset="officer_survey", wave="2025", key=b"0123456789abcdef")
    entry = dict(load_plan(ROOT / "config" / "plan.yaml")["officer_survey"])
    entry["estimates"] = [
        {
            "id": "women_by_station",
            "variable": "women",
            "statistic": "proportion",
            "by": ["station_id", ["country_label", "agency_label", "rank_label"]],
            "overall": False,
        },
        {
            "id": "harassment_by_station",
            "variable": "harassment",
            "statistic": "proportion",
            "by": ["station_id"],
            "overall": False,
        },
        {
            "id": "attitude_by_station",
            "variable": "attitude_index",
            "statistic": "mean",
            "by": ["station_id"],
            "overall": False,
        },
    ]
    return run_estimates(data.data, entry, dataset="officer_survey")


def test_every_published_cell_rests_on_enough_officers(smallest_breakdowns):
    counted = with_cell_counts(smallest_breakdowns)
    protected = protect_for_brief(smallest_breakdowns, THRESHOLD)
    shown = protected["estimate"].notna()
    assert shown.any() and (~shown).any()  # the test exercises both sides
    assert (counted.loc[shown, "disclosure_n"] >= THRESHOLD).all()
    assert protected.loc[~shown, ["se", "ci_low", "ci_high"]].isna().all().all()


def test_no_station_level_share_of_women_survives(smallest_breakdowns):
    """Stations have 12-19 officers and few women: every station share of women is withheld,
    and so is its complement, which would give the same number away."""
    protected = protect_for_brief(smallest_breakdowns, THRESHOLD)
    stations = protected[
        (protected["estimate_id"] == "women_by_station") & (protected["group_var"] == "station_id")
    ]
    assert len(stations) > 100
    assert stations["estimate"].isna().all()
