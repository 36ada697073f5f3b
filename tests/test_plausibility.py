"""A recode with the file's own labels updated passes every codebook rule: the headline shares
of a wave that move implausibly far from the previous wave stop the briefs until confirmed."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.errors import WpsInputError
from analysis.validate.plausibility import check_wave, large_changes


def shares(women: float, trained: float = 0.4) -> pd.DataFrame:
    rows = []
    for estimate_id, p in (("women_share", women), ("training_coverage", trained)):
        for level, value in (("0", 1 - p), ("1", p)):
            rows.append(
                {
                    "estimate_id": estimate_id,
                    "statistic": "proportion",
                    "level": level,
                    "group_var": "(overall)",
                    "group_value": "(overall)",
                    "estimate": value,
                }
            )
        rows.append({"estimate_id": estimate_id, "statistic": "proportion", "level": "1",
                     "group_var": "women", "group_value": "1", "estimate": 0.99})  # fmt: skip
    return pd.DataFrame(rows)


def check(now, before, confirmed=()) -> dict:
    return check_wave(
        now, before, dataset="officer_survey", wave="2027", previous="2025",
        bound_points=20, confirmed=confirmed,
    )  # fmt: skip


def test_the_swapped_sex_code_stops_the_wave_with_the_numbers():
    with pytest.raises(WpsInputError) as caught:
        check(shares(0.885), shares(0.115))
    message = str(caught.value)
    assert "women_share (level 1): 11.5% in 2025, 88.5% in 2027" in message
    assert "officer_survey/2027" in message and "plausibility.confirmed" in message
    assert "training_coverage" not in message


def test_ordinary_change_passes_and_a_confirmed_wave_passes_with_its_record():
    assert check(shares(0.13), shares(0.115))["verdict"] == "within the bound"
    record = check(shares(0.885), shares(0.115), confirmed=["officer_survey/2027"])
    assert record["verdict"] == "confirmed in config"
    assert {c["level"] for c in record["changes"]} == {"0", "1"}


def test_first_wave_and_withheld_shares_are_not_compared():
    assert check(shares(0.885), None)["verdict"].startswith("first wave")
    withheld = shares(0.885)
    withheld["estimate"] = None
    assert large_changes(withheld, shares(0.115), 20) == []
