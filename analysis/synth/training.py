"""Synthetic pilot-training data (Stata .dta, wave 2024): pre/post knowledge tests, true effects.

185 officers (63 women, 34%) from Thailand, Cambodia and Lao PDR in ``COHORTS`` (15-30 officers
each, one country per cohort) each took three modules; every module has a 20-item test before
(all three pre tests on the course's first day) and after the module. One row per officer x module.

TRUE EFFECTS (expected post - pre score, points on 0-20):

* gain by module ``TRUE_GAIN_BY_MODULE``: 1 Gender awareness +4.0, 2 Gender-informed
  investigation +2.5, 3 Team building and self-care +1.5;
* sex difference in gain ``TRUE_SEX_DIFFERENCE_IN_GAIN`` = 0 (a deliberate NULL); women and men
  also start at the same expected pre score;
* cohort random effects: level sd ``COHORT_SD_LEVEL`` = 1.0, gain sd ``COHORT_SD_GAIN`` = 0.8;
  officer ability sd 1.8, officer gain sd 1.0.

Each item is right with probability (expected score / 20 + item offset), offsets summing to zero,
so the expected sum equals the expected score (clipping at 0.02/0.98 is rare).

Missing post tests (about 8% of rows) are missing completely at random: ``post_missing_reason``
1 Absent (that module only), 2 Transferred or 3 Withdrew consent (that module and the later ones).
Post items and ``post_score`` are then Stata extended missing ``.a`` (written with pyreadstat's
``missing_user_values``; pyreadstat reads them back as the string ``"a"`` with
``user_missing=True`` and as NaN without; the codebook declares them as ``".a"``, the spelling
``analysis.io.read_raw`` uses).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat

from analysis.synth import fake
from analysis.synth.common import (
    SEEDS,
    FieldSpec,
    codebook,
    fix_dta_timestamp,
    variable_labels,
    write_json,
)

DATASET = "training"
WAVE = 2024
N_OFFICERS = 185
N_WOMEN = 63
N_ITEMS = 20

#: (country code, cohort size) per cohort, cohorts numbered from 1.
COHORTS: tuple[tuple[int, int], ...] = (
    (7, 24),
    (7, 22),
    (7, 27),
    (1, 25),
    (1, 18),
    (1, 21),
    (3, 30),
    (3, 18),
)
MODULES = {
    1: "Gender awareness",
    2: "Gender-informed investigation",
    3: "Team building and self-care",
}

TRUE_GAIN_BY_MODULE: dict[int, float] = {1: 4.0, 2: 2.5, 3: 1.5}
TRUE_SEX_DIFFERENCE_IN_GAIN = 0.0
TRUE_PRE_MEAN = 8.5
_MODULE_PRE_SHIFT = {1: 0.0, 2: -1.0, 3: 0.5}
COHORT_SD_LEVEL = 1.0
COHORT_SD_GAIN = 0.8
OFFICER_SD_LEVEL = 1.8
OFFICER_SD_GAIN = 1.0

#: Everything above in one mapping, for tests and docs.
TRUE_EFFECTS: dict[str, Any] = {
    "gain_by_module": TRUE_GAIN_BY_MODULE,
    "sex_difference_in_gain": TRUE_SEX_DIFFERENCE_IN_GAIN,
    "cohort_sd_level": COHORT_SD_LEVEL,
    "cohort_sd_gain": COHORT_SD_GAIN,
    "null_effects": ["gain ~ women"],
}

P_ABSENT = 0.06  # per row
N_TRANSFERRED = 3  # officers
N_WITHDREW = 2  # officers
MISSING_REASONS = {0: "Took post test", 1: "Absent", 2: "Transferred", 3: "Withdrew consent"}
STATA_MISSING_LETTER = "a"  # written as the extended missing value .a
POST_MISSING = (".a", "Post test not taken")

_ITEM = ((0, "Wrong"), (1, "Right"))


def _item_fields(prefix: str, when: str) -> tuple[FieldSpec, ...]:
    post = prefix == "post"
    return tuple(
        FieldSpec(
            f"{prefix}_q{j:02d}",
            "integer",
            f"Item {j} {when} the module",
            categories=_ITEM,
            missing=(POST_MISSING,) if post else (),
            required=not post,
        )
        for j in range(1, N_ITEMS + 1)
    )


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "officer_id",
        "string",
        "Officer ID",
        "TR-<4 digits>; primary key with module.",
        identifier="indirect",
        role="id",
    ),
    FieldSpec("name", "string", "Officer name", "Direct identifier.", identifier="direct"),
    FieldSpec(
        "country",
        "integer",
        "Country",
        categories=tuple((c, fake.COUNTRIES[c]) for c in (1, 3, 7)),
    ),
    FieldSpec(
        "cohort",
        "integer",
        "Training cohort",
        "Cohorts of 15-30 officers, one country each; the cluster.",
        minimum=1,
        maximum=len(COHORTS),
    ),
    FieldSpec("sex", "integer", "Sex of officer", categories=((1, "Man"), (2, "Woman"))),
    FieldSpec("age", "integer", "Age in years", minimum=20, maximum=60),
    FieldSpec("module", "integer", "Training module", categories=tuple(MODULES.items())),
    *_item_fields("pre", "before"),
    *_item_fields("post", "after"),
    FieldSpec(
        "pre_score",
        "integer",
        "Knowledge score before the module (sum of pre items)",
        minimum=0,
        maximum=N_ITEMS,
    ),
    FieldSpec(
        "post_score",
        "integer",
        "Knowledge score after the module (sum of post items)",
        minimum=0,
        maximum=N_ITEMS,
        missing=(POST_MISSING,),
        required=False,
    ),
    FieldSpec(
        "post_missing_reason",
        "integer",
        "Reason the post test is missing",
        categories=tuple(MISSING_REASONS.items()),
    ),
)


def build_codebook() -> dict[str, Any]:
    """The training codebook (Table Schema) from ``FIELDS``."""
    return codebook(
        DATASET,
        "Pilot training on gender-sensitive trafficking responses: pre/post knowledge tests",
        f"{N_OFFICERS} officers ({N_WOMEN} women) in {len(COHORTS)} cohorts in Thailand, Cambodia "
        "and Lao PDR; one row per officer x module (3 modules). Post items and post_score are "
        "Stata extended missing .a when the post test was not taken (see post_missing_reason).",
        ["officer_id", "module"],
        FIELDS,
    )


def generate_data() -> pd.DataFrame:
    """The training data as written to the .dta (missing post values as the string ``"a"``)."""
    rng = np.random.default_rng(SEEDS[f"{DATASET}_{WAVE}"])
    cohort = np.repeat(np.arange(1, len(COHORTS) + 1), [size for _, size in COHORTS])
    country = np.repeat([c for c, _ in COHORTS], [size for _, size in COHORTS])
    n = len(cohort)
    if n != N_OFFICERS:
        raise AssertionError(f"cohort sizes add to {n}, not {N_OFFICERS}")
    women = np.zeros(n, dtype=int)
    women[rng.choice(n, size=N_WOMEN, replace=False)] = 1
    age = np.clip(np.round(24 + rng.gamma(3.0, 4.0, n)), 20, 60).astype(int)
    name = fake.names(rng, country, women)
    cohort_level = rng.normal(0, COHORT_SD_LEVEL, len(COHORTS))
    cohort_gain = rng.normal(0, COHORT_SD_GAIN, len(COHORTS))
    ability = rng.normal(0, OFFICER_SD_LEVEL, n)

    # Missing post tests: absent (one module), transferred / withdrew (from a module onwards).
    reason = np.where(rng.random((n, 3)) < P_ABSENT, 1, 0)
    leavers = rng.choice(n, size=N_TRANSFERRED + N_WITHDREW, replace=False)
    for k, i in enumerate(leavers):
        reason[i, rng.integers(0, 3) :] = 2 if k < N_TRANSFERRED else 3

    frames = []
    for m in MODULES:
        level = TRUE_PRE_MEAN + _MODULE_PRE_SHIFT[m] + ability + cohort_level[cohort - 1]
        pre_expected = level + rng.normal(0, 0.8, n)
        gain = (
            TRUE_GAIN_BY_MODULE[m]
            + TRUE_SEX_DIFFERENCE_IN_GAIN * women
            + cohort_gain[cohort - 1]
            + rng.normal(0, OFFICER_SD_GAIN, n)
        )
        post_expected = pre_expected + gain
        offsets = rng.normal(0, 0.08, N_ITEMS)
        offsets -= offsets.mean()
        pre = _items(rng, pre_expected, offsets)
        post = _items(rng, post_expected, offsets)
        r = reason[:, m - 1]
        frame = pd.DataFrame(
            {
                "officer_id": [f"TR-{i:04d}" for i in range(1, n + 1)],
                "name": name,
                "country": country,
                "cohort": cohort,
                "sex": 1 + women,
                "age": age,
                "module": m,
            }
        )
        for j in range(N_ITEMS):
            frame[f"pre_q{j + 1:02d}"] = pre[:, j]
        for j in range(N_ITEMS):
            frame[f"post_q{j + 1:02d}"] = pd.Series(post[:, j], dtype=object).where(
                r == 0, STATA_MISSING_LETTER
            )
        frame["pre_score"] = pre.sum(axis=1)
        frame["post_score"] = pd.Series(post.sum(axis=1), dtype=object).where(
            r == 0, STATA_MISSING_LETTER
        )
        frame["post_missing_reason"] = r
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True).sort_values(["officer_id", "module"], kind="stable")
    return out.reset_index(drop=True)[[f.name for f in FIELDS]]


def _items(rng: np.random.Generator, expected: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """0/1 answers to the items with P(right) = expected/20 + offset (clipped)."""
    p = np.clip(np.clip(expected, 0.5, 19.5)[:, None] / N_ITEMS + offsets[None, :], 0.02, 0.98)
    return (rng.random(p.shape) < p).astype(int)


def write(df: pd.DataFrame, path: Path) -> Path:
    """Write the training data to Stata .dta with labels, ``.a`` missing and a fixed timestamp."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_dta(
        df,
        path,
        file_label=f"SYNTHETIC pilot training {WAVE}",
        column_labels=variable_labels(FIELDS),
        variable_value_labels={f.name: f.value_labels() for f in FIELDS if f.value_labels()},
        missing_user_values={f.name: [STATA_MISSING_LETTER] for f in FIELDS if f.missing},
    )
    fix_dta_timestamp(path)
    return path


def generate(out: Path) -> list[Path]:
    """Write the wave and the codebook under ``out/training``; return the paths."""
    folder = out / DATASET
    return [
        write(generate_data(), folder / f"{WAVE}.dta"),
        write_json(build_codebook(), folder / "codebook.json"),
    ]
