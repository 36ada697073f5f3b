"""Derived variables of each bundled dataset, computed in cleaning from typed columns.

Inputs are typed columns with user-missing codes already NA. Each derivation is declared once in
`DERIVATIONS` with its Table Schema description, so the cleaned codebook says how it was made.
A dataset without an entry simply gets no derived variables.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.validate.codebook import Codebook
from analysis.validate.wave import per_value

ATTITUDE_ITEMS = (
    "att_women_frontline",
    "att_victim_choice",
    "att_male_victims",
    "att_report_harassment",
)
ATTITUDE_MIN_ANSWERED = 3
AGE_BANDS = ("18-29", "30-39", "40-49", "50+")
MINOR_BAND = "under 18"
WOMAN_LABELS = frozenset({"woman", "women", "female", "f"})
MAN_LABELS = frozenset({"man", "men", "male", "m"})
# Fields kept only in coarsened form after derivation (exact ages of interviewees).
DROP_AFTER_DERIVE: dict[str, tuple[str, ...]] = {"interviews": ("age",)}


@dataclass(frozen=True)
class Derivation:
    """One derived variable: how to compute it and how the cleaned codebook describes it."""

    name: str
    type: str
    title: str
    description: str
    sources: tuple[str, ...]
    compute: Callable[[pd.DataFrame, Codebook], pd.Series]
    categories: list[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def schema(self) -> dict[str, Any]:
        """Table Schema field of the derived variable."""
        spec: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "title": self.title,
            "description": self.description,
        }
        if self.categories is not None:
            spec["categories"] = self.categories
        spec.update(self.extra)
        spec.update({"x-derived": True, "x-derived-from": list(self.sources)})
        spec.update({"x-identifier": "none", "x-sensitive": False})
        return spec


def _column(data: pd.DataFrame, name: str, target: str) -> pd.Series:
    if name in data.columns:
        return data[name]
    print(f"WARNING: {name!r} is absent; derived variable {target!r} is missing", file=sys.stderr)
    return pd.Series(pd.NA, index=data.index, dtype="object")


def women(data: pd.DataFrame, codebook: Codebook) -> pd.Series:
    """1 for a woman, 0 for a man, NA otherwise, read from the labels (or values) of `sex`."""
    sex = _column(data, "sex", "women")
    labels = codebook.labels("sex") if "sex" in codebook.fields else {}
    text = per_value(sex, lambda v: None if pd.isna(v) else str(labels.get(v, v)).strip().lower())
    out = pd.Series(pd.NA, index=data.index, dtype="Int64")
    out[text.isin(WOMAN_LABELS)] = 1
    out[text.isin(MAN_LABELS)] = 0
    return out


def age_band(data: pd.DataFrame, with_minors: bool = False) -> pd.Series:
    """Age in bands 18-29, 30-39, 40-49, 50+; under 18 is its own band only `with_minors`."""
    age = pd.to_numeric(_column(data, "age", "age_band"), errors="coerce").astype("Float64")
    years = age.to_numpy(dtype=float, na_value=np.nan)
    categories = ([MINOR_BAND] if with_minors else []) + list(AGE_BANDS)
    bands = [("18-29", 18, 29), ("30-39", 30, 39), ("40-49", 40, 49), ("50+", 50, np.inf)]
    if with_minors:
        bands.insert(0, (MINOR_BAND, -np.inf, np.nextafter(18, -np.inf)))
    codes = np.full(len(years), -1, dtype=np.int64)  # -1: missing, or between two bands
    with np.errstate(invalid="ignore"):
        for label, low, high in bands:
            codes[(years >= low) & (years <= high)] = categories.index(label)
    return pd.Series(pd.Categorical.from_codes(codes, categories=categories), index=data.index)


def attitude_index(data: pd.DataFrame, codebook: Codebook) -> pd.Series:
    """Mean of the four Likert attitude items; NA unless at least three are answered."""
    items = np.column_stack(
        [
            pd.to_numeric(_column(data, i, "attitude_index"), errors="coerce")
            .astype("Float64")
            .to_numpy(dtype=float, na_value=np.nan)
            for i in ATTITUDE_ITEMS
        ]
    )
    answered = np.count_nonzero(~np.isnan(items), axis=1)
    keep = answered >= ATTITUDE_MIN_ANSWERED
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(keep, np.nansum(items, axis=1) / answered, 0.0)
    return pd.Series(pd.arrays.FloatingArray(mean, ~keep), index=data.index)


def gain(data: pd.DataFrame, codebook: Codebook) -> pd.Series:
    """Knowledge gain: post-test score minus pre-test score (NA without a post test)."""
    post = pd.to_numeric(_column(data, "post_score", "gain"), errors="coerce").astype("Int64")
    pre = pd.to_numeric(_column(data, "pre_score", "gain"), errors="coerce").astype("Int64")
    return post - pre


def report_safe(data: pd.DataFrame, codebook: Codebook) -> pd.Series:
    """1 if the officer agrees (4) or strongly agrees (5) they could report harassment safely."""
    item = pd.to_numeric(
        _column(data, "att_report_harassment", "report_safe"), errors="coerce"
    ).astype("Float64")
    return (item >= 4).astype("Int64").where(item.notna(), pd.NA)


WOMEN = Derivation(
    "women",
    "integer",
    "Woman",
    "1 if sex is Woman, 0 if Man; missing when sex is missing or refused.",
    ("sex",),
    women,
    categories=[{"value": 0, "label": "Man"}, {"value": 1, "label": "Woman"}],
)


def _age_band_derivation(with_minors: bool) -> Derivation:
    bands = ([MINOR_BAND] if with_minors else []) + list(AGE_BANDS)
    return Derivation(
        "age_band",
        "string",
        "Age band",
        "Age in years grouped as " + ", ".join(bands) + "; missing when age is missing or "
        "refused." + (" Replaces the exact age, which is not kept." if with_minors else ""),
        ("age",),
        lambda data, codebook: age_band(data, with_minors=with_minors),
        categories=bands,
        extra={"categoriesOrdered": True},
    )


DERIVATIONS: dict[str, list[Derivation]] = {
    "officer_survey": [
        WOMEN,
        _age_band_derivation(with_minors=False),
        Derivation(
            "attitude_index",
            "number",
            "Attitude index",
            "Mean of the four Likert items (1-5) " + ", ".join(ATTITUDE_ITEMS) + f"; needs at "
            f"least {ATTITUDE_MIN_ANSWERED} answered, otherwise missing. Higher means more "
            "supportive of gender-sensitive policing.",
            ATTITUDE_ITEMS,
            attitude_index,
            extra={"constraints": {"minimum": 1, "maximum": 5}},
        ),
        Derivation(
            "report_safe",
            "integer",
            "Could report harassment safely",
            "1 if att_report_harassment is 4 (agree) or 5 (strongly agree), 0 if 1-3, missing "
            "when not answered.",
            ("att_report_harassment",),
            report_safe,
            categories=[{"value": 0, "label": "No"}, {"value": 1, "label": "Yes"}],
        ),
    ],
    "training": [
        Derivation(
            "gain",
            "integer",
            "Knowledge gain",
            "post_score minus pre_score (items right out of 20); missing when the post test was "
            "not taken.",
            ("pre_score", "post_score"),
            gain,
            extra={"constraints": {"minimum": -20, "maximum": 20}},
        ),
        WOMEN,
    ],
    "interviews": [WOMEN, _age_band_derivation(with_minors=True)],
}


def derive(
    data: pd.DataFrame, dataset: str, codebook: Codebook
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Derived columns of `dataset` (same index as `data`) and their Table Schema fields."""
    derivations = DERIVATIONS.get(dataset, [])
    columns = {d.name: d.compute(data, codebook) for d in derivations}
    frame = pd.DataFrame(columns, index=data.index, copy=False)
    return frame, [d.schema() for d in derivations]
