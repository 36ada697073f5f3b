"""Replicate-weight survey designs and their estimates, as R ``survey``'s ``svrepdesign``.

National surveys often ship replicate weight columns instead of strata and PSUs. An estimate's
variance is then ``scale * sum_r rscales_r * (theta_r - centre)^2`` over the estimates
``theta_r`` recomputed with each replicate weight column (R's ``svrVar``). ``centre`` is the
mean of the replicate estimates (R's default ``mse = getOption("survey.replicates.mse")``,
i.e. FALSE) or, with ``mse=True``, the full-sample estimate.

``scale`` and ``rscales`` default as in R's ``svrepdesign``:

* ``BRR``: scale 1/R; ``Fay`` (BRR with Fay's ``fay_rho``): 1/(R (1 - rho)^2);
* ``JK1``: (R - 1)/R (R guesses n = number of replicates and warns; give ``scale`` to be sure);
* ``JKn``: ``rscales`` (one per replicate, (n_h - 1)/n_h) must be given; scale 1;
* ``bootstrap``: 1/(R - 1); ``other``: scale 1, rscales 1 (give both).

Replicate weights are "combined" (they already include the sampling weight, as R's default
``combined.weights=TRUE``); pass ``combined=False`` for multipliers of the sampling weight.

Degrees of freedom are R's ``degf``: the rank of the replicate weights (QR with tolerance
1e-5, as R) minus 1; in a domain, the rank over the domain's rows (R's ``degf`` of
``subset(design, domain)``). Intervals are t intervals on those degrees of freedom, like the
Taylor tables of :mod:`analysis.survey.design` (R's ``confint(..., df = degf(design))``); proportion
intervals are R's ``svyciprop(method = "logit")``: the logit of each replicate's proportion
gives the variance on the logit scale (R fits ``svyglm`` per replicate). One difference: when
calibration makes replicate weights negative, R's ``glm.fit`` drops those rows from that
replicate's fit while its ``svymean`` keeps them; we keep them throughout, so only such
proportion intervals differ from R.

:func:`as_replicate` turns a Taylor design into replicate weights, as R's ``as.svrepdesign``:
``JK1`` (unstratified), ``JKn`` (stratified; lonely PSUs as the design's ``lonely_psu``) and
``bootstrap`` (R's ``bootweights`` algorithm; R's random draws cannot be reproduced, so
bootstrap estimates agree with R only in distribution). A first-stage fpc is kept; later
stages' fpc are dropped, as R does (with a warning in R).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.survey.design import (
    DesignError,
    SurveyDesign,
    _as_float,
    _check_var,
    _domains,
    _frame,
    _row,
    domain_mask,
    t_interval,
)

REPLICATE_TYPES = ("JK1", "JKn", "BRR", "Fay", "bootstrap", "other")
RANK_TOLERANCE = 1e-5  # R: qr(weights(design, "analysis"), tol = 1e-5)$rank


def qr_rank(matrix: np.ndarray, tol: float = RANK_TOLERANCE) -> int:
    """Column rank as R's ``qr(x, tol)$rank`` (LINPACK dqrdc2's limited pivoting).

    A column counts when the norm of what is left of it after projecting out the columns
    already accepted is at least ``tol`` times its original norm.
    """
    basis: list[np.ndarray] = []
    for column in np.asarray(matrix, dtype=float).T:
        norm = np.linalg.norm(column)
        if norm == 0:
            continue
        rest = column.copy()
        for q in basis:
            rest -= (q @ rest) * q
        for q in basis:  # second pass: numerical re-orthogonalisation
            rest -= (q @ rest) * q
        left = np.linalg.norm(rest)
        if left >= tol * norm:
            basis.append(rest / left)
    return len(basis)


def replicate_columns(data: pd.DataFrame, columns: str | Sequence[str], dataset: str = "") -> list:
    """The replicate weight columns: a list of names, or a regular expression (R's ``grep``).

    The pattern is only matched against column names (never run); columns keep data order.
    """
    where = f"dataset {dataset!r}: " if dataset else ""
    if isinstance(columns, str):
        try:
            pattern = re.compile(columns)
        except re.error as exc:
            raise DesignError(
                f"{where}replicate weights pattern {columns!r} is not a valid regular "
                f"expression ({exc})",
                hint="give a pattern such as '^repw[0-9]+$' or a list of column names",
            ) from exc
        found = [c for c in data.columns if pattern.search(str(c))]
        if not found:
            raise DesignError(
                f"{where}no column matches the replicate weights pattern {columns!r}; "
                f"available columns: {', '.join(map(str, data.columns))}"
            )
        return found
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise DesignError(
            f"{where}replicate weight column(s) {missing} are not in the data; "
            f"available columns: {', '.join(map(str, data.columns))}"
        )
    return list(columns)


@dataclass
class ReplicateDesign:
    """A design given by a sampling weight and replicate weights (R ``svrepdesign``).

    ``replicate_weights`` is the (rows, R) matrix of analysis weights (sampling weight times
    the replicate multiplier when ``combined`` is False). See the module docstring for the
    defaults of ``scale`` and ``rscales`` per ``type``.
    """

    data: pd.DataFrame
    weight: str
    replicate_weights: np.ndarray
    type: str
    scale: float | None = None
    rscales: np.ndarray | None = None
    fay_rho: float | None = None
    mse: bool = False
    combined: bool = True
    dataset: str = ""
    source: str = ""
    weights: np.ndarray = field(init=False, repr=False)
    df_cache: dict = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in REPLICATE_TYPES:
            raise DesignError(
                f"{self._where()}replicate type must be one of {REPLICATE_TYPES}, not {self.type!r}"
            )
        self.data = self.data.reset_index(drop=True)
        self.weights = self._checked(_as_float(self.data[self.weight]), self.weight)
        reps = np.asarray(self.replicate_weights, dtype=float)
        if reps.ndim != 2 or reps.shape[0] != len(self.data) or reps.shape[1] < 2:
            raise DesignError(
                f"{self._where()}replicate weights must be a (rows, replicates) matrix with "
                f"at least 2 replicates and {len(self.data)} rows; got shape {reps.shape}"
            )
        reps = self._checked(reps, "replicate weights")
        self.replicate_weights = reps if self.combined else reps * self.weights[:, None]
        self.scale, self.rscales = self._scales()

    def _where(self) -> str:
        return f"dataset {self.dataset!r}: " if self.dataset else ""

    def _checked(self, values: np.ndarray, what: str) -> np.ndarray:
        bad = ~np.isfinite(values) | (values < 0)
        if bad.ndim == 2:
            bad = bad.any(axis=1)
        rows = np.flatnonzero(bad)
        if rows.size:
            shown = ", ".join(str(i + 1) for i in rows[:10])
            raise DesignError(
                f"{self._where()}{what}: weights must be finite and >= 0 (R refuses missing "
                f"replicate weights); bad rows (1-based) {shown}",
                hint="fix or drop these rows before estimation",
            )
        return values

    @property
    def n_replicates(self) -> int:
        return int(self.replicate_weights.shape[1])

    def _scales(self) -> tuple[float, np.ndarray]:
        """``scale`` and ``rscales`` with R's ``svrepdesign`` defaults for the type."""
        n_rep = self.n_replicates
        rscales = self.rscales
        if rscales is not None:
            rscales = np.broadcast_to(np.asarray(rscales, dtype=float), (n_rep,)).copy()
        scale = self.scale
        if self.type == "BRR":
            scale = 1 / n_rep
        elif self.type == "Fay":
            rho = self.fay_rho
            if rho is None or not 0 <= rho < 1:
                raise DesignError(
                    f"{self._where()}replicate type Fay needs fay_rho in [0, 1), got {rho!r}",
                    hint="give the survey's Fay coefficient (e.g. 0.5) as fay_rho",
                )
            scale = 1 / (n_rep * (1 - rho) ** 2)
        elif self.type == "bootstrap" and scale is None:
            scale = 1 / (n_rep - 1)
        elif self.type == "JK1" and scale is None:
            scale = (n_rep - 1) / n_rep
        elif self.type == "JKn" and rscales is None:
            raise DesignError(
                f"{self._where()}replicate type JKn needs rscales, one per replicate "
                "((n_h - 1)/n_h for the stratum the replicate drops a PSU from), as R requires",
                hint="give rscales in the design's replicate block, or use type other with "
                "scale and rscales",
            )
        if rscales is None:
            rscales = np.ones(n_rep)
        return float(1.0 if scale is None else scale), rscales

    @property
    def df(self) -> int:
        """R's ``degf``: rank of the replicate weights minus 1."""
        return qr_rank(self.replicate_weights) - 1

    def domain_df(self, domain: np.ndarray) -> int:
        """R's ``degf(subset(design, domain))``: rank over the domain's rows minus 1."""
        rows = np.asarray(domain, dtype=bool)
        key = np.packbits(rows).tobytes()
        if key not in self.df_cache:
            self.df_cache[key] = qr_rank(self.replicate_weights[rows]) - 1
        return self.df_cache[key]

    def lonely_strata_in(self, domain: np.ndarray) -> int:
        """Replicate designs carry no strata: no estimate rests on a lonely-PSU rule."""
        return 0

    def replicate_variance(self, thetas: np.ndarray, estimate: float) -> float:
        """R's ``svrVar``: scaled squared deviations of the replicate estimates."""
        thetas = np.asarray(thetas, dtype=float)
        use = ~np.isnan(thetas)  # R drops replicates without a result (na.action)
        if not use.any():
            return np.nan
        if np.isinf(thetas[use]).any():  # e.g. the logit of a replicate share of 0 or 1
            return np.inf
        centre = estimate if self.mse else thetas[use & (self.rscales > 0)].mean()
        return float(self.scale * np.sum(self.rscales[use] * (thetas[use] - centre) ** 2))

    @property
    def variance_method(self) -> str:
        """Short text for a methods box."""
        centre = "full-sample estimate" if self.mse else "mean of the replicates"
        rho = f", Fay rho {self.fay_rho:g}" if self.type == "Fay" else ""
        return (
            f"replicate weights ({self.type}{rho}, {self.n_replicates} replicates, "
            f"scale {self.scale:.6g}), squared deviations centred on the {centre} "
            "(R survey's svrepdesign)"
        )

    def describe(self) -> str:
        """One-line, deterministic description used in every output table."""
        parts = [f"weight={self.weight}", f"replicates={self.type}x{self.n_replicates}"]
        if self.source:
            parts.append(self.source)
        if self.type == "Fay":
            parts.append(f"fay_rho={self.fay_rho:g}")
        parts.append(f"scale={self.scale:.6g}")
        if not np.allclose(self.rscales, 1):
            parts.append("rscales=given")
        parts.append(f"mse={'TRUE' if self.mse else 'FALSE'}")
        return "; ".join(parts)


def replicate_design(
    data: pd.DataFrame,
    weight: str,
    columns: str | Sequence[str],
    type: str,
    *,
    fay_rho: float | None = None,
    scale: float | None = None,
    rscales: float | Sequence[float] | None = None,
    mse: bool = False,
    combined: bool = True,
    dataset: str = "",
) -> ReplicateDesign:
    """A replicate design from weight columns (R ``svrepdesign(repweights=, type=, ...)``).

    ``columns`` is a list of column names or a regular expression matched against names.
    """
    if weight not in data.columns:
        raise DesignError(
            f"{'dataset ' + repr(dataset) + ': ' if dataset else ''}design weight column "
            f"{weight!r} is not in the data; available columns: "
            f"{', '.join(map(str, data.columns))}"
        )
    cols = replicate_columns(data, columns, dataset)
    reps = np.column_stack([_as_float(data[c]) for c in cols])
    return ReplicateDesign(
        data,
        weight=weight,
        replicate_weights=reps,
        type=type,
        scale=scale,
        rscales=None if rscales is None else np.atleast_1d(np.asarray(rscales, dtype=float)),
        fay_rho=fay_rho,
        mse=mse,
        combined=combined,
        dataset=dataset,
        source=f"columns={cols[0]}..{cols[-1]}",
    )


# --- conversion from a Taylor design (R's as.svrepdesign) -------------------------------------


def _first_stage_correction(design: SurveyDesign) -> np.ndarray:
    """Per row, 1 - n/N of the first stage (1 without fpc), as R's jk weights use it."""
    if not design.fpc_columns:
        return np.ones(len(design.data))
    return 1 - design.sampling_fractions[0]


def _jk1_weights(design: SurveyDesign) -> tuple[np.ndarray, float, np.ndarray]:
    if design.strata:
        raise DesignError(
            f"{design._where()}JK1 replicates need an unstratified design (R's as.svrepdesign "
            "refuses it too)",
            hint="use type JKn for a stratified design",
        )
    psu = design.psu_codes
    n = design.n_psu
    multipliers = np.where(psu[:, None] == np.arange(n)[None, :], 0.0, n / (n - 1))
    correction = float(_first_stage_correction(design)[0])
    return multipliers, correction * (n - 1) / n, np.ones(n)


def _jkn_weights(design: SurveyDesign) -> tuple[np.ndarray, float, np.ndarray]:
    """R's ``jknweights``: one replicate per PSU, dropping it and reweighting its stratum."""
    strata, psu = design.stratum_codes, design.psu_codes
    correction = _first_stage_correction(design)
    n_strata = design.n_strata
    columns, rscales = [], []
    for h in range(n_strata):
        in_h = strata == h
        units = np.unique(psu[in_h])
        corr = float(correction[in_h][0])
        if corr < 1e-7:  # stratum sampled completely: no replicates (R drops them)
            continue
        if units.size == 1:
            if design.lonely_psu == "fail":
                row = int(np.flatnonzero(in_h)[0])
                raise DesignError(
                    f"{design._where()}{design._stratum_name(0, row)} has only one PSU, so "
                    "JKn replicates cannot be formed (R's default, lonely_psu: fail)",
                    hint="choose lonely_psu adjust, remove or certainty in the design block",
                )
            if design.lonely_psu == "adjust":
                columns.append(np.where(in_h, 0.0, n_strata / (n_strata - 1)))
                rscales.append((n_strata - 1) / n_strata)
            continue
        n_h = units.size
        for unit in units:
            col = np.ones(len(psu))
            col[in_h] = n_h / (n_h - 1)
            col[psu == unit] = 0.0
            columns.append(col)
            rscales.append(corr * (n_h - 1) / n_h)
    if not columns:
        raise DesignError(
            f"{design._where()}all strata were sampled completely: no replicates to form"
        )
    return np.column_stack(columns), 1.0, np.asarray(rscales)


def _bootstrap_weights(
    design: SurveyDesign, replicates: int, seed: int | None
) -> tuple[np.ndarray, float, np.ndarray]:
    """R's ``bootweights``: per stratum, n_h PSUs drawn with replacement (multiplier = times
    drawn); with a first-stage fpc, n_h drawn without replacement from the PSUs repeated up to
    the population count N_h. ``scale = nbar / ((nbar - 1) (R - 1))`` with ``nbar`` the
    harmonic mean of PSUs per stratum. numpy's generator (``seed``), not R's draws.
    """
    rng = np.random.default_rng(seed)
    strata, psu = design.stratum_codes, design.psu_codes
    unit_stratum = np.zeros(design.n_psu, dtype=int)
    unit_stratum[psu] = strata
    unit_row = np.zeros(design.n_psu, dtype=int)
    unit_row[psu[::-1]] = np.arange(len(psu))[::-1]
    fractions = design.sampling_fractions[0][unit_row] if design.fpc_columns else None
    multipliers = np.zeros((design.n_psu, replicates))
    for h in range(design.n_strata):
        units = np.flatnonzero(unit_stratum == h)
        n_h = units.size
        if fractions is None:
            pool = units
        else:
            population = int(round(n_h / fractions[units[0]]))
            pool = np.resize(units, population)  # R: rep(upsu, length = popsize)
        for r in range(replicates):
            drawn = rng.choice(pool, size=n_h, replace=fractions is None)
            multipliers[units, r] = np.bincount(drawn, minlength=design.n_psu)[units]
    per_stratum = 1 / np.mean(1 / np.bincount(unit_stratum))
    if per_stratum <= 1:
        raise DesignError(
            f"{design._where()}bootstrap replicates need strata with two or more PSUs on "
            "average (R's bootweights divides by nbar - 1)"
        )
    scale = per_stratum / ((per_stratum - 1) * (replicates - 1))
    return multipliers[psu], scale, np.ones(replicates)


def as_replicate(
    design: SurveyDesign,
    type: str = "auto",
    *,
    replicates: int = 50,
    seed: int | None = None,
    mse: bool = False,
) -> ReplicateDesign:
    """Replicate weights for a Taylor design, as R's ``as.svrepdesign(design, type=)``.

    ``type`` "auto" is JK1 without strata and JKn with them (R's default). ``bootstrap`` draws
    ``replicates`` replicates as R's ``bootweights`` with numpy's generator (``seed``).
    """
    if type == "auto":
        type = "JKn" if design.strata else "JK1"
    builders = {
        "JK1": lambda: _jk1_weights(design),
        "JKn": lambda: _jkn_weights(design),
        "bootstrap": lambda: _bootstrap_weights(design, replicates, seed),
    }
    if type not in builders:
        raise DesignError(
            f"{design._where()}as_replicate supports types {sorted(builders)}, not {type!r}",
            hint="BRR/Fay need Hadamard matrices: convert in R and give the weight columns",
        )
    multipliers, scale, rscales = builders[type]()
    return ReplicateDesign(
        design.data,
        weight=design.weight,
        replicate_weights=multipliers * design.weights[:, None],
        type=type,
        scale=scale,
        rscales=rscales,
        mse=mse,
        dataset=design.dataset,
        source=f"from=({design.describe()})",
    )


# --- estimates ------------------------------------------------------------------------------


def _common(design: ReplicateDesign, variable: str, mask: np.ndarray, n: int, extra) -> dict:
    return {
        "variable": variable,
        "df": design.domain_df(mask),
        "n": n,
        "lonely_strata": 0,
        "design": design.describe(),
        **(extra or {}),
    }


def _replicate_rows(
    design: ReplicateDesign,
    variable: str,
    y: np.ndarray,
    ok: np.ndarray,
    by,
    kind: str,
    domain: Mapping[str, object] | None,
    extra: dict | None = None,
    logit: bool = False,
) -> list[dict]:
    """Mean or total of ``y`` per domain, its replicate SE, df and interval."""
    rows = []
    reps = design.replicate_weights
    for group, mask in _domains(design, by, domain_mask(design.data, domain)):
        d = mask & ok
        yd = np.where(d, y, 0.0)
        common = _common(design, variable, mask, int(d.sum()), extra)
        if logit:
            common["n_level"] = int((d & (y == 1)).sum())
        full = float(design.weights @ yd)
        thetas = yd @ reps
        if kind == "mean":
            wsum = float(design.weights @ d)
            if wsum <= 0:
                nan = {"estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan}
                rows.append(_row(group, **nan, **common))
                continue
            full, thetas = full / wsum, thetas / (d.astype(float) @ reps)
        se = float(np.sqrt(max(design.replicate_variance(thetas, full), 0.0)))
        lo, hi = t_interval(full, se, common["df"])
        if logit:
            lo, hi = _replicate_logit_interval(design, full, thetas, common["df"])
        rows.append(_row(group, estimate=full, se=se, ci_low=lo, ci_high=hi, **common))
    return rows


def _replicate_logit_interval(
    design: ReplicateDesign, p: float, thetas: np.ndarray, df: int, level: float = 0.95
) -> tuple[float, float]:
    """R's ``svyciprop(method="logit")`` on a replicate design: replicate logits' variance."""
    if df <= 0:
        return np.nan, np.nan
    if not 0 < p < 1:
        return p, p
    with np.errstate(divide="ignore", invalid="ignore"):
        logits = np.log(thetas / (1 - thetas))
    se = np.sqrt(max(design.replicate_variance(logits, np.log(p / (1 - p))), 0.0))
    from scipy import stats  # loaded on first use: scipy.stats is slow to import

    q = stats.t.ppf(0.5 + level / 2, df)
    lo, hi = np.log(p / (1 - p)) + np.array([-1, 1]) * q * se
    return float(1 / (1 + np.exp(-lo))), float(1 / (1 + np.exp(-hi)))


def rep_mean(design: ReplicateDesign, variable: str, by=None, domain=None) -> pd.DataFrame:
    """Weighted mean per domain with replicate SE (R ``svymean`` on a ``svrepdesign``)."""
    _check_var(design, variable)
    y = _as_float(design.data[variable])
    return _frame(_replicate_rows(design, variable, y, np.isfinite(y), by, "mean", domain), by)


def rep_total(design: ReplicateDesign, variable: str, by=None, domain=None) -> pd.DataFrame:
    """Weighted total per domain with replicate SE (R ``svytotal``); NA count as 0."""
    _check_var(design, variable)
    y = _as_float(design.data[variable])
    return _frame(_replicate_rows(design, variable, y, np.isfinite(y), by, "total", domain), by)


def rep_proportion(design: ReplicateDesign, variable: str, by=None, domain=None) -> pd.DataFrame:
    """Share of each level per domain (R ``svymean`` of the indicator; ``svyciprop`` logit CI).

    NA values are excluded from the denominator, as in
    :func:`analysis.survey.design.svy_proportion`.
    """
    _check_var(design, variable)
    col = design.data[variable]
    ok = col.notna().to_numpy(dtype=bool)
    rows = []
    for level in sorted(pd.unique(col.dropna()).tolist()):
        y = (col == level).fillna(False).to_numpy(dtype=float)
        extra = {"level": level}
        rows += _replicate_rows(design, variable, y, ok, by, "mean", domain, extra, logit=True)
    out = _frame(rows, by, extra_cols=["level"])
    out["n_level"] = pd.Series([r["n_level"] for r in rows], dtype="int64")
    group_cols = [] if not by else ([by] if isinstance(by, str) else list(by))
    return out.sort_values([*group_cols, "level"], kind="stable").reset_index(drop=True)


REPLICATE_STATISTICS = {"mean": rep_mean, "proportion": rep_proportion, "total": rep_total}


def replicate_from_plan(data: pd.DataFrame, spec: Mapping, dataset: str = "") -> ReplicateDesign:
    """The replicate design a plan's ``design`` block declares with ``replicate:``.

    ``design: {weight: w, replicate: {type: JK1|JKn|BRR|Fay|bootstrap|other, weights: pattern
    or [columns], fay_rho, scale, rscales, mse, combined}}`` (R's ``svrepdesign`` arguments).
    """
    rep = spec["replicate"]
    return replicate_design(
        data,
        spec["weight"],
        rep["weights"],
        rep["type"],
        fay_rho=rep.get("fay_rho"),
        scale=rep.get("scale"),
        rscales=rep.get("rscales"),
        mse=bool(rep.get("mse", False)),
        combined=bool(rep.get("combined", True)),
        dataset=dataset,
    )
