"""Calibration to known population totals: post-stratification, raking and linear (GREG)
calibration, as R ``survey``.

Weights are adjusted so that weighted counts match official headcounts (e.g. women and men
officers by country and agency, such as the UNSD share-of-female-police figures):

* :func:`poststratify` (R's ``postStratify``): within every cell of one margin (one column or
  several crossed), weights are multiplied by ``N_cell / sum(weights in cell)``.
* :func:`calibrate_linear` (R's ``calibrate(..., calfun = "linear")``, unbounded GREG):
  weights times ``g = 1 + x'lambda`` so that weighted totals of the margins' cell indicators
  and of numeric columns (:class:`NumericTotal`) hit the population totals.
* :func:`rake` (R's ``rake``): post-stratify on each margin in turn, repeated until the
  weighted cross-table of all margin columns moves by less than ``epsilon`` (R's default 1,
  in weight units; a value below 1 is a share of the total weight) or ``maxit`` (10) rounds;
  a warning (as R's) when it has not converged.

Variance of a Taylor design (R's ``svyrecvar`` with ``postStrata``): every estimate's
influence values are replaced by their residuals from the calibration before the design
variance is taken. Post-stratification subtracts, in each cell, the old-weight-weighted mean
of ``z / w_new`` times the new weight; raking does 10 sweeps over the margins of the last
raking round, subtracting the unweighted cell mean of ``z / w`` times ``w``; linear
calibration takes the least-squares residuals of ``z / w`` on ``x sqrt(w0)``, times
``w = g sqrt(w0)`` (R's exact rules).

Models (:func:`analysis.survey.models.svy_glm`) take a calibrated Taylor design as it is: their
scores go through the same residual steps (R's ``svyglm`` on a calibrated design).

Replicate designs (:class:`analysis.survey.replicate.ReplicateDesign`) are calibrated replicate by
replicate (R's ``postStratify.svyrep.design``): every replicate weight column is calibrated
to the same totals, so the replicate variance includes the calibration.

Degrees of freedom: a Taylor design keeps its own; a replicate design's are recomputed from the
calibrated replicate weights (R's ``degf``), which leaves them unchanged in practice.

Population totals come as :class:`Margin` objects, or from a CSV with one column per margin
variable and a count column (:func:`margins_from_table`).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.survey.design import DesignError, SurveyDesign
from analysis.survey.replicate import ReplicateDesign
from analysis.tables import level_text


@dataclass(frozen=True)
class Margin:
    """Known population counts of the cells of one or more crossed columns.

    ``totals`` maps a cell to its count; a cell is the text of its value, or of its values
    joined by ``|`` when ``columns`` has several (e.g. ``"KH|F"``).
    """

    columns: tuple[str, ...]
    totals: Mapping[str, float]

    @property
    def label(self) -> str:
        return "*".join(self.columns)


@dataclass(frozen=True)
class NumericTotal:
    """The known population total of a numeric column (for linear calibration)."""

    column: str
    total: float

    @property
    def label(self) -> str:
        return self.column


def margin(columns: str | Sequence[str], totals: Mapping[object, float]) -> Margin:
    """A :class:`Margin` from a column (or columns) and ``{level: count}``."""
    cols = (columns,) if isinstance(columns, str) else tuple(columns)
    return Margin(cols, {level_text(k): float(v) for k, v in totals.items()})


def margins_from_table(path: str | Path, columns: Sequence[str], count: str = "count") -> Margin:
    """A margin from a CSV with one column per margin variable and a ``count`` column."""
    table = pd.read_csv(path, dtype={c: str for c in columns})
    missing = [c for c in [*columns, count] if c not in table.columns]
    if missing:
        raise DesignError(
            f"population totals file {str(path)!r} lacks column(s) {missing}; it has "
            f"{', '.join(map(str, table.columns))}",
            hint="give one column per margin variable and a count column",
        )
    counts = pd.to_numeric(table[count], errors="coerce")
    bad = np.flatnonzero(~np.isfinite(counts.to_numpy(dtype=float)) | (counts < 0))
    if bad.size:
        raise DesignError(
            f"population totals file {str(path)!r}: column {count!r} must hold counts >= 0; "
            f"bad rows (1-based, after the header) {', '.join(str(i + 1) for i in bad[:10])}"
        )
    keys = table[list(columns)].astype(str).agg("|".join, axis=1)
    return Margin(tuple(columns), dict(zip(keys, counts.astype(float), strict=True)))


def _cells(data: pd.DataFrame, m: Margin, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Every row's cell index into the margin's cells, and the cells' population counts."""
    for col in m.columns:
        if col not in data.columns:
            raise DesignError(
                f"{where}calibration margin column {col!r} is not in the data; available "
                f"columns: {', '.join(map(str, data.columns))}"
            )
        rows = np.flatnonzero(data[col].isna().to_numpy())
        if rows.size:
            raise DesignError(
                f"{where}calibration margin column {col!r} is missing in rows (1-based) "
                f"{', '.join(str(i + 1) for i in rows[:10])}",
                hint="every row needs a cell to be calibrated (R refuses NA too): impute or "
                "code the missing values as their own level with a population count",
            )
    keys = data[list(m.columns)].map(level_text).agg("|".join, axis=1).to_numpy()
    cells = list(m.totals)
    position = {k: i for i, k in enumerate(cells)}
    unknown = sorted(set(keys) - set(position))
    if unknown:
        rows = np.flatnonzero(np.isin(keys, unknown))
        raise DesignError(
            f"{where}calibration margin {m.label}: sample cell(s) {unknown} have no "
            f"population count (rows {', '.join(str(i + 1) for i in rows[:10])})",
            hint=f"add their counts to the margin's totals (cells given: {cells})",
        )
    return np.array([position[k] for k in keys]), np.array([m.totals[c] for c in cells])


def _check_sampled(index: np.ndarray, pop: np.ndarray, weights: np.ndarray, m: Margin, where: str):
    """R refuses a cell with a population count but no weight in it, in the sampling weights
    (column 0) or in any replicate weight column (R's calibration of that replicate fails)."""
    weights = weights.reshape(len(index), -1)
    sums = np.zeros((pop.size, weights.shape[1]))
    np.add.at(sums, index, weights)
    cells = list(m.totals)
    for k in range(weights.shape[1]):
        empty = [c for c, s, n in zip(cells, sums[:, k], pop, strict=True) if s <= 0 < n]
        if not empty:
            continue
        whose = "no sampled rows with positive weight" if k == 0 else f"no weight in replicate {k}"
        raise DesignError(
            f"{where}calibration margin {m.label}: cell(s) {empty} have a population count but "
            f"{whose}, so no weight can carry them (R's calibration fails too)",
            hint="collapse these cells with neighbouring ones in the totals and the data",
        )


def _poststratified(weights: np.ndarray, index: np.ndarray, pop: np.ndarray) -> np.ndarray:
    """Weights (rows, k) scaled within every cell to the population count."""
    sums = np.zeros((pop.size, weights.shape[1]))
    np.add.at(sums, index, weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(sums > 0, pop[:, None] / sums, 0.0)
    return weights * factor[index]


def _joint_table(weights: np.ndarray, indices: list[np.ndarray]) -> np.ndarray:
    """Weighted counts of the crossed margin cells (R's ``svytable`` of all margins)."""
    joint = pd.factorize(pd.MultiIndex.from_arrays(indices))[0]
    return np.bincount(joint, weights=weights)


# --- Taylor designs --------------------------------------------------------------------------


class CalibratedDesign:
    """A Taylor design with calibrated weights; estimates' influence values are residualised.

    Everything else (strata, PSUs, df, lonely strata) is the base design's.
    """

    def __init__(self, base: SurveyDesign, weights: np.ndarray, steps: list, label: str):
        self.base = base
        self.weights = weights
        self.steps = steps
        self.label = label

    def __getattr__(self, name: str):
        return getattr(self.base, name)

    def variance(self, influence: np.ndarray) -> np.ndarray:
        z = np.asarray(influence, dtype=float)
        one_d = z.ndim == 1
        z = z[:, None] if one_d else z
        for step in self.steps:
            z = step(z)
        return self.base.variance(z[:, 0] if one_d else z)

    @property
    def variance_method(self) -> str:
        return f"{self.base.variance_method}; calibrated: {self.label} (R survey)"

    def describe(self) -> str:
        return f"{self.base.describe()}; calibration={self.label}"


def _poststratify_residual(index: np.ndarray, old: np.ndarray, new: np.ndarray):
    """R's svyrecvar step for ``postStratify``: remove old-weighted cell means of z/w_new."""
    psw = np.where((new == 0) & (old == 0), 1.0, new)

    def step(z: np.ndarray) -> np.ndarray:
        n_cells = int(index.max()) + 1
        sums = np.zeros((n_cells, z.shape[1]))
        np.add.at(sums, index, z * (old / psw)[:, None])
        means = sums / np.bincount(index, weights=old, minlength=n_cells)[:, None]
        return z - means[index] * psw[:, None]

    return step


def _raking_residual(parts: list[tuple[np.ndarray, np.ndarray]]):
    """R's svyrecvar step for ``rake``: 10 sweeps of unweighted cell means of z/w."""

    def step(z: np.ndarray) -> np.ndarray:
        for _ in range(10):
            for index, psw in parts:
                safe = np.where(psw == 0, 1.0, psw)
                n_cells = int(index.max()) + 1
                sums = np.zeros((n_cells, z.shape[1]))
                np.add.at(sums, index, z / safe[:, None])
                means = sums / np.bincount(index, minlength=n_cells)[:, None]
                z = z - safe[:, None] * means[index]
        return z

    return step


# --- the calibration itself (both kinds of design) ---------------------------------------------


def _weight_matrix(design) -> np.ndarray:
    """Sampling weights first, then (replicate designs) every replicate weight column."""
    if isinstance(design, ReplicateDesign):
        return np.column_stack([design.weights, design.replicate_weights])
    return design.weights[:, None]


def _where(design) -> str:
    return f"dataset {design.dataset!r}: " if getattr(design, "dataset", "") else ""


def _with_weights(design, weights: np.ndarray, steps: list, label: str):
    """The calibrated design: new weights, and the residual steps for a Taylor design."""
    if isinstance(design, ReplicateDesign):
        out = copy.copy(design)
        out.weights, out.replicate_weights = weights[:, 0], weights[:, 1:]
        out.df_cache = {}  # R recomputes degf from the calibrated replicate weights
        out.source = f"{design.source}; calibration={label}" if design.source else label
        return out
    if isinstance(design, CalibratedDesign):
        return CalibratedDesign(
            design.base, weights[:, 0], design.steps + steps, f"{design.label}+{label}"
        )
    return CalibratedDesign(design, weights[:, 0], steps, label)


def poststratify(design, m: Margin):
    """Post-stratify a design to a margin's population counts (R ``postStratify``)."""
    where = _where(design)
    index, pop = _cells(design.data, m, where)
    old = _weight_matrix(design)
    _check_sampled(index, pop, old, m, where)
    new = _poststratified(old, index, pop)
    steps = [_poststratify_residual(index, old[:, 0], new[:, 0])]
    return _with_weights(design, new, steps, f"poststratify({m.label})")


def rake(design, margins: Sequence[Margin], maxit: int = 10, epsilon: float = 1.0):
    """Rake a design to several margins (R ``rake`` with its default control)."""
    where = _where(design)
    cells = [_cells(design.data, m, where) for m in margins]
    weights = _weight_matrix(design)
    for (index, pop), m in zip(cells, margins, strict=True):
        _check_sampled(index, pop, weights, m, where)
    tolerance = epsilon * weights[:, 0].sum() if epsilon < 1 else epsilon
    indices = [index for index, _ in cells]
    old_table = _joint_table(weights[:, 0], indices)
    converged = False
    for _ in range(maxit):
        parts = []
        for index, pop in cells:
            weights = _poststratified(weights, index, pop)
            parts.append((index, weights[:, 0].copy()))
        new_table = _joint_table(weights[:, 0], indices)
        if np.max(np.abs(old_table - new_table)) < tolerance:
            converged = True
            break
        old_table = new_table
    if not converged:
        warnings.warn(
            f"{where}raking on {[m.label for m in margins]} did not converge after {maxit} "
            "iterations (as R warns); check that the margins' totals agree with each other",
            stacklevel=2,
        )
    label = f"rake({', '.join(m.label for m in margins)})"
    return _with_weights(design, weights, [_raking_residual(parts)], label)


def _numeric_column(data: pd.DataFrame, item: NumericTotal, where: str) -> np.ndarray:
    if item.column not in data.columns:
        raise DesignError(
            f"{where}calibration column {item.column!r} is not in the data; available "
            f"columns: {', '.join(map(str, data.columns))}"
        )
    values = pd.to_numeric(data[item.column], errors="coerce").to_numpy(dtype=float)
    rows = np.flatnonzero(~np.isfinite(values))
    if rows.size:
        raise DesignError(
            f"{where}calibration column {item.column!r} is missing or not numeric in rows "
            f"(1-based) {', '.join(str(i + 1) for i in rows[:10])}",
            hint="every row needs a value to be calibrated (R refuses NA too)",
        )
    return values


def _model_matrix(design, items: Sequence[Margin | NumericTotal]):
    """Calibration variables (one indicator per margin cell, numeric columns) and totals."""
    where = _where(design)
    columns, totals = [], []
    for item in items:
        if isinstance(item, NumericTotal):
            columns.append(_numeric_column(design.data, item, where)[:, None])
            totals.append(np.array([item.total]))
            continue
        index, pop = _cells(design.data, item, where)
        _check_sampled(index, pop, _weight_matrix(design), item, where)
        columns.append((index[:, None] == np.arange(pop.size)[None, :]).astype(float))
        totals.append(pop)
    return np.hstack(columns), np.concatenate(totals)


def _linear_g(x: np.ndarray, w: np.ndarray, pop: np.ndarray) -> np.ndarray:
    """R's regcalibrate: g = 1 + x T^-1 (pop - sample totals), T = x' W x.

    Indicators of every cell of several margins are collinear (each sums to 1); the least
    squares solution gives the same g as R's treatment coding, which spans the same space.
    """
    tmat = (x * w[:, None]).T @ x
    step = np.linalg.lstsq(tmat, pop - x.T @ w, rcond=None)[0]
    return 1 + x @ step


def _linear_residual(x: np.ndarray, w0: np.ndarray, g: np.ndarray):
    """R's svyrecvar step for calibrate(): qr.resid(qr(x sqrt(w0)), z / w) * w, w = g sqrt(w0)."""
    xs = x * np.sqrt(w0)[:, None]
    wcal = g * np.sqrt(w0)
    safe = np.where(wcal == 0, 1.0, wcal)

    def step(z: np.ndarray) -> np.ndarray:
        u = np.where((wcal == 0)[:, None], 0.0, z / safe[:, None])
        coef = np.linalg.lstsq(xs, u, rcond=None)[0]
        return (u - xs @ coef) * wcal[:, None]

    return step


def calibrate_linear(design, items: Sequence[Margin | NumericTotal]):
    """Linear (GREG) calibration to margins and numeric totals (R ``calibrate``, linear).

    Unbounded, as R's default ``calfun = "linear"`` with ``bounds = c(-Inf, Inf)``: weights
    may turn negative. Include at least one categorical margin (or the population size as a
    one-cell margin) so that the intercept is calibrated as R's formula's is.
    """
    x, pop = _model_matrix(design, items)
    weights = _weight_matrix(design)
    gs = np.column_stack([_linear_g(x, weights[:, k], pop) for k in range(weights.shape[1])])
    label = f"linear({', '.join(item.label for item in items)})"
    step = _linear_residual(x, weights[:, 0], gs[:, 0])
    return _with_weights(design, weights * gs, [step], label)


CALIBRATION_METHODS = ("poststratify", "rake", "linear")


def calibrate_from_plan(design, spec: Mapping, base_dir: str | Path = "."):
    """Calibrate as a plan's ``design.calibration`` block says.

    ``{method: poststratify|rake, margins: [{variable: col or [cols], totals: {level: n}} or
    {variable: ..., file: path.csv, count: count} or, for linear, {variable: col, total: n}]}``;
    poststratify takes exactly one margin.
    """
    method = spec.get("method")
    if method not in CALIBRATION_METHODS:
        raise DesignError(
            f"{_where(design)}calibration method must be one of {CALIBRATION_METHODS}, "
            f"not {method!r}"
        )
    margins = []
    for item in spec.get("margins", []):
        cols = [item["variable"]] if isinstance(item["variable"], str) else item["variable"]
        if "total" in item:
            if method != "linear" or len(cols) != 1:
                raise DesignError(
                    f"{_where(design)}a numeric total (margin {cols}) needs method linear "
                    "and a single variable"
                )
            margins.append(NumericTotal(cols[0], float(item["total"])))
        elif "file" in item:
            path = Path(base_dir) / item["file"]
            margins.append(margins_from_table(path, cols, item.get("count", "count")))
        else:
            margins.append(margin(cols, item["totals"]))
    if method == "poststratify":
        if len(margins) != 1:
            raise DesignError(
                f"{_where(design)}calibration poststratify takes one margin (cross the "
                f"columns in it), got {len(margins)}",
                hint="use method: rake for several margins",
            )
        return poststratify(design, margins[0])
    if method == "linear":
        return calibrate_linear(design, margins)
    return rake(design, margins, maxit=int(spec.get("maxit", 10)))
