"""A guard a human would want: a wave whose headline shares move further from the previous
wave than a configured bound stops the briefs, with the numbers, until someone confirms it.

A recoded sex variable whose file labels were updated to match passes every codebook rule and
turns women from 11.5% of officers into 88.5%. Real change of that size between two waves of a
survey is rare; a coding error is not. The bound is in percentage points on the overall rows
of every proportion the plan estimates (`plausibility.max_change_points` in config); a wave is
confirmed by listing it under `plausibility.confirmed` as `<dataset>/<wave>`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analysis.errors import WpsInputError

OVERALL = "(overall)"
CONFIG = "config/config.yaml"


def _overall_shares(estimates: pd.DataFrame) -> pd.DataFrame:
    rows = estimates[(estimates["statistic"] == "proportion") & (estimates["group_var"] == OVERALL)]
    return rows.set_index(["estimate_id", "level"])["estimate"]


def large_changes(
    now: pd.DataFrame, before: pd.DataFrame, bound_points: float
) -> list[tuple[str, str, float, float]]:
    """(estimate id, level, before, now) for every overall share that moved more than
    `bound_points` percentage points (shares withheld or absent in either wave are skipped)."""
    current, previous = _overall_shares(now), _overall_shares(before)
    moved = []
    for key in sorted(set(current.index) & set(previous.index), key=str):
        a, b = previous[key], current[key]
        if pd.notna(a) and pd.notna(b) and abs(float(b) - float(a)) * 100 > bound_points:
            moved.append((str(key[0]), str(key[1]), float(a), float(b)))
    return moved


def check_wave(
    now: pd.DataFrame,
    before: pd.DataFrame | None,
    *,
    dataset: str,
    wave: str,
    previous: str | None,
    bound_points: float,
    confirmed: Iterable[str],
) -> dict:
    """The check's record; raises WpsInputError naming every large change, unless confirmed."""
    record = {"dataset": dataset, "wave": wave, "previous_wave": previous,
              "max_change_points": bound_points, "changes": []}  # fmt: skip
    if before is None or previous is None:
        return {**record, "verdict": "first wave: nothing to compare"}
    moved = large_changes(now, before, bound_points)
    record["changes"] = [
        {"estimate_id": e, "level": lv, "previous": a, "now": b} for e, lv, a, b in moved
    ]
    name = f"{dataset}/{wave}"
    if not moved:
        return {**record, "verdict": "within the bound"}
    if name in set(confirmed):
        return {**record, "verdict": "confirmed in config"}
    lines = "; ".join(
        f"{e} (level {lv}): {100 * a:.1f}% in {previous}, {100 * b:.1f}% in {wave}"
        for e, lv, a, b in moved
    )
    raise WpsInputError(
        f"headline shares of wave {wave} moved more than {bound_points:g} percentage points "
        f"from wave {previous}: {lines}",
        dataset=dataset,
        file=CONFIG,
        hint="check the new wave's coding (a recoded or relabelled variable?) against the "
        f"previous wave; if the change is real, add '{name}' to plausibility.confirmed in "
        "config/config.yaml and run again.",
    )
