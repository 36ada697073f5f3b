"""Statistical disclosure control: the one place every published table passes through.

* :func:`protect_estimates` blanks estimates that rest on fewer than ``threshold`` unweighted
  cases and flags them.
* :func:`protect_crosstab` applies primary and secondary cell suppression to a two-way table of
  counts and appends margins.

Zeros are published: a zero is not primary-suppressed, and it is chosen as a complementary
(secondary) cell only when a row or column has no positive published cell left.

Rule for secondary suppression: the table with its margins is a set of lines (each row with its
row total, each column with its column total, the total row, the total column); in every line,
either no entry or at least two entries are suppressed, so no suppressed entry equals its margin
minus the published entries. Lines are scanned in a fixed order and the smallest positive
published entry of a line is added (ties: first in row-major order) until nothing changes. This
is the classical per-line rule; it does not guard against every linear-programming attack across
several lines, so tables bound for a brief should also keep the threshold conservative.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.errors import WpsInputError

DEFAULT_VALUE_COLS = ("estimate", "se", "ci_low", "ci_high")


class DisclosureError(WpsInputError):
    """A table that cannot be protected as asked, with what to do."""


def _check_threshold(threshold: int) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer) or threshold < 1:
        raise DisclosureError(f"threshold must be an integer >= 1, not {threshold!r}")
    return int(threshold)


def protect_estimates(
    df: pd.DataFrame,
    *,
    threshold: int,
    n_col: str = "n",
    value_cols: Sequence[str] = DEFAULT_VALUE_COLS,
) -> pd.DataFrame:
    """Blank ``value_cols`` where ``n_col`` < ``threshold`` (or unknown); add flag and reason.

    Returns a copy with boolean ``suppressed`` and string ``suppression_reason`` columns
    (empty string when published). Value columns become nullable floats with ``pd.NA``.
    """
    threshold = _check_threshold(threshold)
    missing = [c for c in (n_col, *value_cols) if c not in df.columns]
    if missing:
        raise DisclosureError(
            f"cannot protect estimates: columns {missing} are missing; "
            f"table has {list(map(str, df.columns))}"
        )
    out = df.copy()
    n = pd.to_numeric(out[n_col], errors="coerce")
    unknown = n.isna().to_numpy(dtype=bool)
    small = ~unknown & (n.fillna(0).to_numpy(dtype=float) < threshold)
    hide = unknown | small
    for col in value_cols:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("Float64")
        out.loc[hide, col] = pd.NA
    out["suppressed"] = hide
    reasons = np.where(
        small,
        f"fewer than {threshold} unweighted cases",
        np.where(unknown, "unweighted case count unknown", ""),
    )
    out["suppression_reason"] = pd.Series(reasons, index=out.index, dtype="str")
    return out


class ProtectedCrosstab(NamedTuple):
    """A suppressed table with margins (``pd.NA`` where hidden) and its boolean mask."""

    table: pd.DataFrame
    mask: pd.DataFrame


def _with_margins(counts: pd.DataFrame, label: str) -> pd.DataFrame:
    if label in counts.index or label in counts.columns:
        raise DisclosureError(f"margin label {label!r} already names a row or column")
    full = counts.copy()
    full[label] = counts.sum(axis=1)
    full.loc[label] = full.sum(axis=0)
    return full


def _complete_lines(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Add complementary suppressions until no line has exactly one suppressed entry."""
    mask = mask.copy()
    n_rows, n_cols = values.shape
    lines = [(i, None) for i in range(n_rows)] + [(None, j) for j in range(n_cols)]
    changed = True
    while changed:
        changed = False
        for i, j in lines:
            cells = (
                [(i, c) for c in range(n_cols)] if j is None else [(r, j) for r in range(n_rows)]
            )
            if sum(mask[c] for c in cells) != 1:
                continue
            free = [c for c in cells if not mask[c]]
            positive = [c for c in free if values[c] > 0]
            pick = min(positive or free, key=lambda c: (values[c], c))
            mask[pick] = True
            changed = True
    return mask


def protect_crosstab(
    counts: pd.DataFrame, *, threshold: int, margin_label: str = "Total"
) -> ProtectedCrosstab:
    """Primary (0 < n < threshold) and secondary suppression of a 2-D table of counts.

    ``counts`` holds non-negative integer counts without margins. Margins are computed from the
    original counts, appended as row and column ``margin_label`` and protected like any cell
    (a margin under the threshold is suppressed too).
    """
    threshold = _check_threshold(threshold)
    if counts.empty:
        raise DisclosureError("cannot protect an empty table of counts")
    numeric = counts.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna() | (numeric < 0) | (numeric % 1 != 0)
    if bad.to_numpy().any():
        where = [(str(r), str(c)) for r, c in zip(*np.nonzero(bad.to_numpy()), strict=True)][:10]
        cells = [(str(counts.index[int(r)]), str(counts.columns[int(c)])) for r, c in where]
        raise DisclosureError(
            f"counts must be non-negative integers without missing values; bad cells "
            f"(row, column): {cells}"
        )
    full = _with_margins(numeric.astype("int64"), margin_label)
    values = full.to_numpy()
    primary = (values > 0) & (values < threshold)
    mask = _complete_lines(values, primary)
    table = full.astype("Int64").mask(mask)
    return ProtectedCrosstab(table, pd.DataFrame(mask, index=full.index, columns=full.columns))
