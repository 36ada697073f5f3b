"""Complex survey designs and design-based estimates by Taylor linearisation.

The variance of any estimator is computed from its linearised influence values ``z_i`` (one per
row, already weighted): PSU totals are taken within strata, centred on the stratum mean and summed
as ``sum_h (1 - f_h) * n_h / (n_h - 1) * sum_j (t_hj - tbar_h)^2`` where ``f_h = n_h / N_h`` when
a finite population count ``N_h`` of PSUs is given, else 0 (with-replacement approximation). Only
the first sampling stage enters, as in R ``survey`` without second-stage fpc. Degrees of freedom
are ``#PSUs - #strata``; confidence intervals use ``t(df)``.

Domains (``by=`` groups, NA values) never subset the design: out-of-domain rows get influence 0,
so every PSU and stratum of the full design keeps counting (R's ``subset.survey.design``).

Strata with a single PSU ("lonely PSUs") follow ``lonely_psu``: ``"adjust"`` (default; like R's
``options(survey.lonely.psu = "adjust")``: the PSU total is centred on the grand mean of all PSU
totals), ``"remove"`` / ``"certainty"`` (the stratum adds no variance) or ``"fail"`` (raise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import WpsInputError

LONELY_PSU_RULES = ("adjust", "remove", "certainty", "fail")
OVERALL = "(overall)"


class DesignError(WpsInputError):
    """A survey design or estimate request that cannot be honoured, with what to do."""


def _as_float(series: pd.Series) -> np.ndarray:
    """Numeric column as float64 with NaN for missing (handles nullable dtypes)."""
    return (
        pd.to_numeric(series, errors="coerce")
        .astype("Float64")
        .to_numpy(dtype=float, na_value=np.nan)
    )


@dataclass
class SurveyDesign:
    """A stratified (multi-stage) cluster design; the first stage carries the variance.

    ``psu`` may be one column or a list (``id=~dnum+snum`` in R); only the first is used, which
    is R's with-replacement first-stage approximation when no fpc is given. Without ``psu`` each
    row is its own PSU. ``fpc`` names a column holding the population count of PSUs in the
    stratum (R's ``fpc=~fpc`` with counts); values all <= 1 are read as sampling fractions.
    """

    data: pd.DataFrame
    weight: str
    strata: str | None = None
    psu: str | Sequence[str] | None = None
    fpc: str | None = None
    lonely_psu: str = "adjust"
    dataset: str = ""
    weights: np.ndarray = field(init=False, repr=False)
    stratum_codes: np.ndarray = field(init=False, repr=False)
    psu_codes: np.ndarray = field(init=False, repr=False)
    fpc_factor: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.lonely_psu not in LONELY_PSU_RULES:
            raise DesignError(
                f"lonely_psu must be one of {LONELY_PSU_RULES}, not {self.lonely_psu!r}"
            )
        psu_cols = [self.psu] if isinstance(self.psu, str) else list(self.psu or [])
        self.psu = psu_cols[0] if psu_cols else None
        for role, col in (
            ("weight", self.weight),
            ("strata", self.strata),
            ("psu", self.psu),
            ("fpc", self.fpc),
        ):
            if col is not None and col not in self.data.columns:
                raise DesignError(
                    f"{self._where()}design {role} column {col!r} is not in the data; "
                    f"available columns: {', '.join(map(str, self.data.columns))}"
                )
        self.data = self.data.reset_index(drop=True)
        w = _as_float(self.data[self.weight])
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if bad.size:
            raise DesignError(
                f"{self._where()}column {self.weight!r}: weights must be finite and >= 0; "
                f"bad rows (1-based) {_rows(bad)}. Fix or drop these rows before estimation."
            )
        self.weights = w
        for role, col in (("strata", self.strata), ("psu", self.psu)):
            if col is not None and self.data[col].isna().any():
                rows = np.flatnonzero(self.data[col].isna().to_numpy())
                raise DesignError(
                    f"{self._where()}design {role} column {col!r} is missing in rows {_rows(rows)}"
                )
        n = len(self.data)
        self.stratum_codes = (
            pd.factorize(self.data[self.strata], sort=True)[0]
            if self.strata
            else np.zeros(n, dtype=int)
        )
        if self.psu:
            keys = pd.MultiIndex.from_arrays([self.stratum_codes, self.data[self.psu].to_numpy()])
            self.psu_codes = pd.factorize(keys, sort=True)[0]
        else:
            self.psu_codes = np.arange(n)
        self.fpc_factor = self._fpc_factor()

    def _where(self) -> str:
        return f"dataset {self.dataset!r}: " if self.dataset else ""

    def _fpc_factor(self) -> np.ndarray:
        """Per-stratum ``1 - n_h / N_h`` (ones when no fpc)."""
        n_strata = self.stratum_codes.max() + 1 if len(self.stratum_codes) else 0
        if self.fpc is None:
            return np.ones(n_strata)
        pop = _as_float(self.data[self.fpc])
        n_h = self.psus_per_stratum()
        out = np.ones(n_strata)
        as_fraction = np.nanmax(pop) <= 1 if pop.size else False
        for h in range(n_strata):
            vals = np.unique(pop[self.stratum_codes == h])
            if vals.size != 1 or not np.isfinite(vals[0]):
                raise DesignError(
                    f"{self._where()}fpc column {self.fpc!r} must hold one finite value per "
                    f"stratum; stratum {self.stratum_labels()[h]!r} has {vals.tolist()}"
                )
            if as_fraction:
                out[h] = 1 - vals[0]
            else:
                if vals[0] < n_h[h]:
                    raise DesignError(
                        f"{self._where()}fpc column {self.fpc!r}: stratum "
                        f"{self.stratum_labels()[h]!r} has {n_h[h]} sampled PSUs but a "
                        f"population count of {vals[0]:g}; the fpc must be >= the sample count"
                    )
                out[h] = 1 - n_h[h] / vals[0]
        return out

    def stratum_labels(self) -> list:
        if not self.strata:
            return ["(one stratum)"]
        return sorted(pd.unique(self.data[self.strata]).tolist())

    def psus_per_stratum(self) -> np.ndarray:
        """Number of sampled PSUs in each stratum (full design)."""
        first = pd.DataFrame({"h": self.stratum_codes, "p": self.psu_codes}).drop_duplicates()
        return np.bincount(first["h"].to_numpy(), minlength=self.stratum_codes.max() + 1)

    @property
    def n_psu(self) -> int:
        return int(self.psu_codes.max() + 1) if len(self.psu_codes) else 0

    @property
    def n_strata(self) -> int:
        return int(self.stratum_codes.max() + 1) if len(self.stratum_codes) else 0

    @property
    def df(self) -> int:
        """Design degrees of freedom: number of PSUs minus number of strata."""
        return self.n_psu - self.n_strata

    def df_in(self, rows: np.ndarray) -> int:
        """R's ``degf`` of a subset: PSUs minus strata among the given rows (boolean mask)."""
        return int(np.unique(self.psu_codes[rows]).size - np.unique(self.stratum_codes[rows]).size)

    def describe(self) -> str:
        """One-line, deterministic description used in every output table."""
        parts = [f"weight={self.weight}"]
        if self.strata:
            parts.append(f"strata={self.strata}")
        parts.append(f"psu={self.psu}" if self.psu else "psu=row")
        parts.append(f"fpc={self.fpc}" if self.fpc else "fpc=none(with replacement)")
        parts.append(f"lonely_psu={self.lonely_psu}")
        return "; ".join(parts)

    def variance(self, influence: np.ndarray) -> np.ndarray:
        """Design covariance matrix of estimators with the given influence values.

        ``influence`` is (n,) or (n, p); rows outside the domain must be 0.
        """
        z = np.asarray(influence, dtype=float)
        one_d = z.ndim == 1
        if one_d:
            z = z[:, None]
        totals = np.zeros((self.n_psu, z.shape[1]))
        np.add.at(totals, self.psu_codes, z)
        psu_stratum = np.zeros(self.n_psu, dtype=int)
        psu_stratum[self.psu_codes] = self.stratum_codes
        n_h = np.bincount(psu_stratum, minlength=self.n_strata)
        grand_mean = totals.sum(axis=0) / max(self.n_psu, 1)
        v = np.zeros((z.shape[1], z.shape[1]))
        labels = self.stratum_labels()
        for h in range(self.n_strata):
            t = totals[psu_stratum == h]
            if n_h[h] > 1:
                dev = t - t.mean(axis=0)
                v += self.fpc_factor[h] * n_h[h] / (n_h[h] - 1) * dev.T @ dev
            elif self.lonely_psu == "fail":
                raise DesignError(
                    f"{self._where()}stratum {labels[h]!r} has only one PSU, so its variance is "
                    "undefined; merge it with a similar stratum or set lonely_psu to 'adjust', "
                    "'remove' or 'certainty'"
                )
            elif self.lonely_psu == "adjust":
                dev = t - grand_mean
                v += self.fpc_factor[h] * dev.T @ dev
        return v[0, 0] if one_d else v

    def lonely_strata(self) -> list:
        """Labels of strata with a single sampled PSU."""
        labels = self.stratum_labels()
        return [labels[h] for h, k in enumerate(self.psus_per_stratum()) if k == 1]


def _rows(idx: np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(str(i + 1) for i in idx[:limit])
    return shown + (f" ... ({idx.size} rows)" if idx.size > limit else "")


def t_interval(est: float, se: float, df: int, level: float = 0.95) -> tuple[float, float]:
    """Symmetric t-based confidence interval."""
    q = stats.t.ppf(0.5 + level / 2, df) if df > 0 else np.nan
    return est - q * se, est + q * se


def _logit_interval(p: float, se: float, df: int, level: float = 0.95) -> tuple[float, float]:
    """R ``svyciprop(method="logit")``: t interval on the logit scale, back-transformed."""
    if not 0 < p < 1 or se == 0:
        return p, p
    q = stats.t.ppf(0.5 + level / 2, df) if df > 0 else np.nan
    lo, hi = np.log(p / (1 - p)) + np.array([-1, 1]) * q * se / (p * (1 - p))
    return float(1 / (1 + np.exp(-lo))), float(1 / (1 + np.exp(-hi)))


def domain_mask(data: pd.DataFrame, domain: Mapping[str, object] | None) -> np.ndarray:
    """Rows whose columns take one of the allowed values, e.g. ``{"border_posting": [1]}``."""
    mask = np.ones(len(data), dtype=bool)
    for col, allowed in (domain or {}).items():
        if col not in data.columns:
            raise DesignError(
                f"domain filter column {col!r} is not in the data; "
                f"available: {', '.join(map(str, data.columns))}"
            )
        values = list(allowed) if isinstance(allowed, list | tuple) else [allowed]
        mask &= data[col].isin(values).fillna(False).to_numpy(dtype=bool)
    return mask


def _domains(design: SurveyDesign, by: str | Sequence[str] | None, within: np.ndarray):
    """Yield (group-values dict, boolean mask) per domain (sorted) inside ``within``."""
    if not by:
        yield {}, within
        return
    cols = [by] if isinstance(by, str) else list(by)
    for c in cols:
        if c not in design.data.columns:
            raise DesignError(f"{design._where()}domain column {c!r} is not in the data")
    frame = design.data[cols]
    keys = (
        frame[within]
        .dropna()
        .drop_duplicates()
        .sort_values(cols)
        .itertuples(index=False, name=None)
    )
    for key in keys:
        mask = within.copy()
        for c, v in zip(cols, key, strict=True):
            mask &= (frame[c] == v).fillna(False).to_numpy(dtype=bool)
        yield dict(zip(cols, key, strict=True)), mask


def _check_var(design: SurveyDesign, variable: str) -> None:
    if variable not in design.data.columns:
        raise DesignError(
            f"{design._where()}column {variable!r} is not in the data; "
            f"available: {', '.join(map(str, design.data.columns))}"
        )


def _row(group: dict, **values) -> dict:
    return {**group, **values}


def _ratio_rows(
    design: SurveyDesign,
    variable: str,
    y: np.ndarray,
    ok: np.ndarray,
    by,
    kind: str,
    extra: dict | None = None,
    count_level: bool = False,
    domain: Mapping[str, object] | None = None,
) -> list[dict]:
    """Mean (kind="mean") or total (kind="total") of y over each domain, rows with ok=True."""
    w = design.weights
    rows = []
    for group, mask in _domains(design, by, domain_mask(design.data, domain)):
        d = mask & ok
        n = int(d.sum())
        if count_level:
            extra = {**(extra or {}), "n_level": int((d & (y == 1)).sum())}
        yd = np.where(d, y, 0.0)
        wd = np.where(d, w, 0.0)
        if kind == "total":
            est = float((wd * yd).sum())
            z = wd * yd
        else:
            wsum = wd.sum()
            if wsum <= 0:
                rows.append(
                    _row(
                        group,
                        variable=variable,
                        estimate=np.nan,
                        se=np.nan,
                        ci_low=np.nan,
                        ci_high=np.nan,
                        df=design.df,
                        n=n,
                        design=design.describe(),
                        **(extra or {}),
                    )
                )
                continue
            est = float((wd * yd).sum() / wsum)
            z = wd * (yd - est) / wsum
        se = float(np.sqrt(max(design.variance(z), 0.0)))
        lo, hi = t_interval(est, se, design.df)
        rows.append(
            _row(
                group,
                variable=variable,
                estimate=est,
                se=se,
                ci_low=lo,
                ci_high=hi,
                df=design.df,
                n=n,
                design=design.describe(),
                **(extra or {}),
            )
        )
    return rows


def _frame(rows: list[dict], by, extra_cols: Sequence[str] = ()) -> pd.DataFrame:
    group_cols = [] if not by else ([by] if isinstance(by, str) else list(by))
    cols = [
        *group_cols,
        "variable",
        *extra_cols,
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "df",
        "n",
        "design",
    ]
    out = pd.DataFrame(rows, columns=cols)
    return out.astype({"n": "int64", "df": "int64"})


def svy_mean(
    design: SurveyDesign,
    variable: str,
    by: str | Sequence[str] | None = None,
    domain: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Weighted (ratio) mean of a numeric column, overall or per ``by`` domain; NA excluded.

    ``domain`` (e.g. ``{"border_posting": [1]}``) restricts every estimate to a subpopulation
    without subsetting the design.
    """
    _check_var(design, variable)
    y = _as_float(design.data[variable])
    return _frame(_ratio_rows(design, variable, y, np.isfinite(y), by, "mean", domain=domain), by)


def svy_total(
    design: SurveyDesign,
    variable: str,
    by: str | Sequence[str] | None = None,
    domain: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Weighted total of a numeric column, overall or per ``by`` domain; NA count as 0."""
    _check_var(design, variable)
    y = _as_float(design.data[variable])
    return _frame(_ratio_rows(design, variable, y, np.isfinite(y), by, "total", domain=domain), by)


def svy_proportion(
    design: SurveyDesign,
    variable: str,
    by: str | Sequence[str] | None = None,
    domain: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Share of each level of a categorical column, overall or per ``by`` domain.

    NA values are excluded from the denominator. ``n`` is the unweighted denominator (cases in
    the domain with a valid answer); ``n_level`` the unweighted cases in the level. Intervals are
    logit-scale t intervals (R ``svyciprop(method="logit")``), so they stay inside [0, 1].
    """
    _check_var(design, variable)
    col = design.data[variable]
    ok = col.notna().to_numpy(dtype=bool)
    levels = sorted(pd.unique(col.dropna()).tolist())
    rows = []
    for level in levels:
        y = (col == level).fillna(False).to_numpy(dtype=float)
        for r in _ratio_rows(design, variable, y, ok, by, "mean", {"level": level}, True, domain):
            if np.isfinite(r["estimate"]):
                r["ci_low"], r["ci_high"] = _logit_interval(r["estimate"], r["se"], r["df"])
            rows.append(r)
    out = _frame(rows, by, extra_cols=["level"])
    out["n_level"] = pd.Series([r["n_level"] for r in rows], dtype="int64")
    group_cols = [] if not by else ([by] if isinstance(by, str) else list(by))
    return out.sort_values([*group_cols, "level"], kind="stable").reset_index(drop=True)
