"""Complex survey designs and design-based estimates by Taylor linearisation, as R ``survey``.

The variance of any estimator is computed from its linearised influence values ``z_i`` (one per
row, already weighted), with R's ``svyrecvar`` recursion (``survey:::multistage``):

* Stage 1: first-stage unit (PSU) totals are taken within strata, centred on the stratum mean and
  summed as ``sum_h (1 - f_h) * n_h / (n_h - 1) * sum_j (t_hj - tbar_h)^2`` where
  ``f_h = n_h / N_h`` when the population count ``N_h`` of PSUs is given (``fpc``), else 0.
* Later stages (only when ``fpc`` is given for every stage, as R requires): within each sampled
  unit of the stage above, its sub-units are a stratum of the next stage and add their own
  variance, multiplied by the sampling fraction ``n/N`` of every stage above (R's
  ``svydesign(id=~psu+ssu, fpc=~fpc1+fpc2)``).
* Without ``fpc``, only the first stage enters: R's with-replacement ("ultimate cluster")
  approximation, whatever the number of ``psu`` columns. ``fpc`` for the first stage only with
  two or more ``psu`` columns is refused (R's ``svydesign`` refuses it as well): it would drop
  the later stages silently and under-report the variance.

Degrees of freedom are R's ``degf``: first-stage PSUs minus strata, counted among the rows
with a non-zero weight. For an estimate in a domain the degrees of freedom are those of the
domain (R's ``degf(subset(design, domain))``, which is what ``svyciprop`` uses): PSUs minus
strata among the domain's rows. Confidence intervals use ``t(df)``; with ``df = 0`` (a domain
inside one PSU) the interval is undefined (NaN), as in R.

Domains (``by=`` groups, NA values) never subset the design for the variance: out-of-domain rows
get influence 0, so every PSU and stratum of the full design keeps counting (R's
``subset.survey.design``).

Strata with a single sampled unit ("lonely PSUs") follow ``lonely_psu``, whose default is R's
``"fail"`` (raise, naming the stratum; set ``lonely_psu`` in the plan's design block to choose).
``"adjust"`` (R's ``options(survey.lonely.psu = "adjust")``) centres a lonely first-stage PSU
total on the grand mean of all first-stage PSU totals (R's documented rule; the code of survey
4.1 centres on zero, which is the same for means and proportions, whose influence values sum to
zero, but larger for totals); at later stages a lonely unit is centred on zero as in survey
4.1. ``"remove"`` / ``"certainty"``: the stratum adds no variance. Every estimate row counts
the lonely strata its domain touches (``lonely_strata``), so tables can flag estimates that
rest on them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.errors import WpsInputError

LONELY_PSU_RULES = ("fail", "adjust", "remove", "certainty")
DEFAULT_LONELY_PSU = "fail"  # R's default, options(survey.lonely.psu = "fail")
CERTAINTY = 1e-7  # R: a stratum with 1 - n/N below this is sampled completely, no variance
OVERALL = "(overall)"
# The weight column `design: none` adds (every respondent weighs 1): not one of the user's.
UNWEIGHTED = "unweighted (each respondent counts once)"


# A weight counts the population units a respondent stands for: none is above 10^12, and none
# is a million times the median weight. Beyond these, sums overflow or one row is the estimate.
MAX_WEIGHT = 1e12
MAX_WEIGHT_RATIO = 1e6


class DesignError(WpsInputError):
    """A survey design or estimate request that cannot be honoured, with what to do."""


def _as_float(series: pd.Series) -> np.ndarray:
    """Numeric column as float64 with NaN for missing (handles nullable dtypes)."""
    return (
        pd.to_numeric(series, errors="coerce")
        .astype("Float64")
        .to_numpy(dtype=float, na_value=np.nan)
    )


def columns_text(data: pd.DataFrame) -> str:
    """The table's columns for an error message, without the weight `design: none` adds."""
    return ", ".join(str(c) for c in data.columns if c != UNWEIGHTED)


def _columns(spec: str | Sequence[str] | None) -> list[str]:
    """One column name or a list of them, as a list."""
    return [spec] if isinstance(spec, str) else list(spec or [])


def _units_per_stratum(strata: np.ndarray, units: np.ndarray) -> np.ndarray:
    """For every row, the number of distinct sampled units in its stratum."""
    pairs = pd.DataFrame({"h": strata, "u": units}).drop_duplicates()
    counts = np.bincount(pairs["h"].to_numpy(), minlength=int(strata.max()) + 1)
    return counts[strata]


@dataclass
class SurveyDesign:
    """A stratified multistage cluster design (R ``svydesign``).

    ``psu`` is one column or a list, one per stage (``id=~dnum+snum`` in R); later stages are
    nested in earlier ones and in the strata. Without ``psu`` each row is its own PSU.
    ``fpc`` is one column per stage holding the population count of units in the stratum (for
    stage 1) or in the unit of the stage above (later stages); values all <= 1 are read as
    sampling fractions. Without ``fpc`` the first stage carries the whole variance (sampling
    with replacement). ``lonely_psu`` is one of :data:`LONELY_PSU_RULES` (default R's "fail").
    """

    data: pd.DataFrame
    weight: str
    strata: str | None = None
    psu: str | Sequence[str] | None = None
    fpc: str | Sequence[str] | None = None
    lonely_psu: str = DEFAULT_LONELY_PSU
    dataset: str = ""
    weights: np.ndarray = field(init=False, repr=False)
    psu_columns: list[str] = field(init=False, repr=False)
    fpc_columns: list[str] = field(init=False, repr=False)
    stratum_codes: np.ndarray = field(init=False, repr=False)
    psu_codes: np.ndarray = field(init=False, repr=False)
    unit_codes: list[np.ndarray] = field(init=False, repr=False)
    stage_strata: list[np.ndarray] = field(init=False, repr=False)
    sampling_fractions: list[np.ndarray] = field(init=False, repr=False)
    _lonely_ids: list[np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.lonely_psu not in LONELY_PSU_RULES:
            raise DesignError(
                f"{self._where()}lonely_psu must be one of {LONELY_PSU_RULES}, not "
                f"{self.lonely_psu!r}; set it in the plan's design block"
            )
        self.psu_columns = _columns(self.psu)
        self.fpc_columns = _columns(self.fpc)
        self.psu = self.psu_columns[0] if self.psu_columns else None
        self._check_columns()
        self.data = self.data.reset_index(drop=True)
        self.weights = self._checked_weights()
        self.stratum_codes = (
            pd.factorize(self.data[self.strata], sort=True)[0]
            if self.strata
            else np.zeros(len(self.data), dtype=int)
        )
        self.unit_codes = self._nested_unit_codes()
        self.psu_codes = self.unit_codes[0]
        if self.n_psu == 1:
            raise DesignError(
                f"{self._where()}the design has only one primary sampling unit, so no "
                "design-based variance can be estimated (R's svydesign refuses it too)",
                hint="check the psu column, or analyse these data without a design",
            )
        self.stage_strata = [self.stratum_codes, *self.unit_codes[:-1]]
        self.sampling_fractions = self._sampling_fractions()
        self._lonely_ids = self._lonely_units()

    def _where(self) -> str:
        return f"dataset {self.dataset!r}: " if self.dataset else ""

    def _check_columns(self) -> None:
        roles = [("weight", self.weight), ("strata", self.strata)]
        roles += [("psu", c) for c in self.psu_columns] + [("fpc", c) for c in self.fpc_columns]
        for role, col in roles:
            if col is not None and col not in self.data.columns:
                raise DesignError(
                    f"{self._where()}design {role} column {col!r} is not in the data; "
                    f"available columns: {columns_text(self.data)}"
                )
        for role, col in [("strata", self.strata), *(("psu", c) for c in self.psu_columns)]:
            if col is not None and self.data[col].isna().any():
                rows = np.flatnonzero(self.data[col].isna().to_numpy())
                raise DesignError(
                    f"{self._where()}design {role} column {col!r} is missing in rows {_rows(rows)}"
                )

    def _checked_weights(self) -> np.ndarray:
        """The weights, refused when not finite, negative or extreme (see ``MAX_WEIGHT``)."""
        w = _as_float(self.data[self.weight])
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if bad.size:
            raise DesignError(
                f"{self._where()}column {self.weight!r}: weights must be finite and >= 0; "
                f"bad rows (1-based) {_rows(bad)}. Fix or drop these rows before estimation."
            )
        positive = w[w > 0]
        limit = min(
            MAX_WEIGHT,
            MAX_WEIGHT_RATIO * float(np.median(positive)) if positive.size else MAX_WEIGHT,
        )
        extreme = np.flatnonzero(w > limit)
        if extreme.size:
            raise DesignError(
                f"{self._where()}column {self.weight!r}: extreme weights in rows (1-based) "
                f"{_rows(extreme)} (largest {w.max():.4g}; median {np.median(positive):.4g}); a "
                f"weight above {MAX_WEIGHT:.0e} or {MAX_WEIGHT_RATIO:.0e} times the median "
                "cannot be a number of people represented, and would turn estimates into "
                "overflow (NaN, zero standard errors)",
                hint="check these rows' weight in the raw file (a typing or export error, or "
                "another unit); correct them, or drop the rows before estimation",
            )
        return w

    def _nested_unit_codes(self) -> list[np.ndarray]:
        """Integer codes of the sampled unit of every stage, nested in strata and stages above."""
        if not self.psu_columns:
            return [np.arange(len(self.data))]
        codes, parent = [], self.stratum_codes
        for col in self.psu_columns:
            keys = pd.MultiIndex.from_arrays([parent, self.data[col].to_numpy()])
            parent = pd.factorize(keys, sort=True)[0]
            codes.append(parent)
        return codes

    @property
    def n_stages(self) -> int:
        return len(self.unit_codes)

    def _fpc_values(self) -> np.ndarray:
        """The fpc columns as a (rows, stages) float array, checked as R's ``as.fpc`` does."""
        stages = self.psu_columns or ["(row)"]
        if len(self.fpc_columns) != len(stages):
            first_only = len(self.fpc_columns) == 1 and len(stages) > 1
            raise DesignError(
                f"{self._where()}design fpc {self.fpc_columns} does not match the "
                f"{len(stages)} sampling stage(s) of psu {stages}",
                hint=(
                    "a first-stage fpc alone would drop the later stages' variance and "
                    "under-report it (R's svydesign refuses this too): give one fpc column per "
                    "stage (population count of units in the stratum, then in each unit of the "
                    "stage above), or drop fpc for the with-replacement approximation"
                    if first_only
                    else "give one fpc column per psu column, in the same order"
                ),
            )
        values = np.column_stack([_as_float(self.data[c]) for c in self.fpc_columns])
        bad = np.flatnonzero(~np.isfinite(values).all(axis=1) | (values <= 0).any(axis=1))
        if bad.size:
            raise DesignError(
                f"{self._where()}fpc column(s) {self.fpc_columns} must be positive numbers; "
                f"missing or non-positive in rows (1-based) {_rows(bad)}"
            )
        if (values > 1).any() and (values < 1).any():
            raise DesignError(
                f"{self._where()}fpc column(s) {self.fpc_columns} mix population counts (> 1) "
                "and sampling fractions (< 1); give all as counts or all as fractions"
            )
        return values

    def _sampling_fractions(self) -> list[np.ndarray]:
        """Per stage, every row's sampling fraction ``n/N`` of its stratum (empty without fpc)."""
        if not self.fpc_columns:
            return []
        values = self._fpc_values()
        as_fraction = bool((values <= 1).all())
        out = []
        for k in range(self.n_stages):
            strata, pop = self.stage_strata[k], values[:, k]
            varies = pd.Series(pop).groupby(strata).nunique() > 1
            if varies.any():
                row = int(np.flatnonzero(strata == varies[varies].index[0])[0])
                raise DesignError(
                    f"{self._where()}fpc column {self.fpc_columns[k]!r} must hold one value per "
                    f"{self._stratum_name(k, row)}; it varies there (row {row + 1})"
                )
            n_k = _units_per_stratum(strata, self.unit_codes[k])
            if as_fraction:
                out.append(pop)
                continue
            short = np.flatnonzero(pop < n_k)
            if short.size:
                row = int(short[0])
                raise DesignError(
                    f"{self._where()}fpc column {self.fpc_columns[k]!r}: "
                    f"{self._stratum_name(k, row)} has {n_k[row]} sampled units but a "
                    f"population count of {pop[row]:g}; the fpc must be >= the sample count"
                )
            out.append(n_k / pop)
        return out

    def _stratum_name(self, stage: int, row: int) -> str:
        """Readable name of the stratum a row belongs to at a stage (for messages)."""
        where = f"stratum {self.data[self.strata].iloc[row]!r}" if self.strata else "the sample"
        if stage == 0:
            return where
        units = ", ".join(f"{c}={self.data[c].iloc[row]!r}" for c in self.psu_columns[:stage])
        return f"unit {units} ({where}) at stage {stage + 1}"

    def stratum_labels(self) -> list:
        if not self.strata:
            return ["(one stratum)"]
        return sorted(pd.unique(self.data[self.strata]).tolist())

    def psus_per_stratum(self) -> np.ndarray:
        """Number of sampled PSUs in each stratum (full design)."""
        first = pd.DataFrame({"h": self.stratum_codes, "p": self.psu_codes}).drop_duplicates()
        return np.bincount(first["h"].to_numpy(), minlength=self.n_strata)

    @property
    def n_psu(self) -> int:
        return int(self.psu_codes.max() + 1) if len(self.psu_codes) else 0

    @property
    def n_strata(self) -> int:
        return int(self.stratum_codes.max() + 1) if len(self.stratum_codes) else 0

    @property
    def df(self) -> int:
        """Design degrees of freedom (R ``degf``): PSUs minus strata among positive weights."""
        return self.df_in(self.weights > 0)

    def df_in(self, rows: np.ndarray) -> int:
        """R's ``degf`` of a subset: PSUs minus strata among the given rows (boolean mask)."""
        return int(np.unique(self.psu_codes[rows]).size - np.unique(self.stratum_codes[rows]).size)

    def domain_df(self, domain: np.ndarray) -> int:
        """Degrees of freedom of an estimate in a domain (boolean mask), as R's ``svyciprop``.

        R uses ``degf(subset(design, domain))``: first-stage PSUs minus strata among the
        domain's rows with a positive weight (rows with a missing answer still count). Models
        fitted in a domain use the same count over the rows they use, minus rank - 1.
        """
        return self.df_in(np.asarray(domain, dtype=bool) & (self.weights > 0))

    def _variance_stages(self) -> int:
        """Stages that enter the variance: all with an fpc for every stage, else the first."""
        return self.n_stages if self.fpc_columns else 1

    @property
    def variance_method(self) -> str:
        """Short text for a methods box: which variance estimator the design uses."""
        if self._variance_stages() > 1:
            text = (
                f"Taylor linearisation, {self.n_stages}-stage without-replacement estimator "
                "(every stage's variance with its finite population correction, as R survey's "
                "svydesign(id=~psu+ssu, fpc=~fpc1+fpc2))"
            )
        elif self.fpc_columns:
            text = (
                "Taylor linearisation, one-stage estimator with finite population correction "
                "(R survey's svydesign(id=~psu, fpc=~fpc))"
            )
        else:
            text = (
                "Taylor linearisation, with-replacement (ultimate cluster) approximation: "
                "first-stage PSU totals only (R survey's svydesign without fpc)"
            )
        return f"{text}; lonely PSUs: {self.lonely_psu}"

    def describe(self) -> str:
        """One-line, deterministic description used in every output table."""
        parts = [f"weight={self.weight}"]
        if self.strata:
            parts.append(f"strata={self.strata}")
        parts.append(f"psu={'+'.join(self.psu_columns)}" if self.psu_columns else "psu=row")
        fpc = "+".join(self.fpc_columns)
        parts.append(f"fpc={fpc}" if fpc else "fpc=none(with replacement)")
        parts.append(f"lonely_psu={self.lonely_psu}")
        if self._variance_stages() > 1:
            parts.append(f"variance={self.n_stages}-stage")
        return "; ".join(parts)

    def variance(self, influence: np.ndarray) -> np.ndarray:
        """Design covariance matrix of estimators with the given influence values.

        ``influence`` is (n,) or (n, p); rows outside the domain must be 0. Stage ``k`` adds
        its stratified variance times the product of the sampling fractions of the stages
        above (R's ``survey:::multistage``).
        """
        z = np.asarray(influence, dtype=float)
        one_d = z.ndim == 1
        if one_d:
            z = z[:, None]
        v = np.zeros((z.shape[1], z.shape[1]))
        above = np.ones(len(z))
        for k in range(self._variance_stages()):
            v += self._stage_variance(z, k, above)
            if self.fpc_columns:
                above = above * self.sampling_fractions[k]
        return v[0, 0] if one_d else v

    def _stage_variance(self, z: np.ndarray, k: int, above: np.ndarray) -> np.ndarray:
        """One stage's contribution: centred unit totals within that stage's strata."""
        units, strata = self.unit_codes[k], self.stage_strata[k]
        n_units = int(units.max()) + 1
        totals = np.zeros((n_units, z.shape[1]))
        np.add.at(totals, units, z)
        unit_stratum = np.zeros(n_units, dtype=int)
        unit_stratum[units] = strata
        unit_row = np.zeros(n_units, dtype=int)
        unit_row[units[::-1]] = np.arange(len(units))[::-1]  # first row of every unit
        keep = 1 - self.sampling_fractions[k][unit_row] if self.fpc_columns else np.ones(n_units)
        keep[keep < CERTAINTY] = 0.0
        n_h = np.bincount(unit_stratum)[unit_stratum]
        sums = np.zeros((int(unit_stratum.max()) + 1, z.shape[1]))
        np.add.at(sums, unit_stratum, totals)
        dev = totals - sums[unit_stratum] / n_h[:, None]
        scale = keep * np.where(n_h > 1, n_h / np.maximum(n_h - 1, 1), 1.0)
        lonely = (n_h == 1) & (keep > 0)
        if lonely.any():
            dev, scale = self._lonely(k, totals, dev, scale, lonely, unit_row)
        scale = scale * above[unit_row]
        return (dev * scale[:, None]).T @ dev

    def _lonely(
        self,
        k: int,
        totals: np.ndarray,
        dev: np.ndarray,
        scale: np.ndarray,
        lonely: np.ndarray,
        unit_row: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Apply the lonely-PSU rule to units alone in their stratum at stage ``k``."""
        if self.lonely_psu == "fail":
            row = int(unit_row[np.flatnonzero(lonely)[0]])
            raise DesignError(
                f"{self._where()}{self._stratum_name(k, row)} has only one sampled unit, so "
                "its variance is undefined (R's default, lonely_psu: fail)",
                hint=(
                    "choose a rule in the plan's design block: lonely_psu: adjust (centre on "
                    "the grand mean; conservative), remove or certainty (no variance from that "
                    "stratum); or merge the stratum with a similar one"
                ),
            )
        if self.lonely_psu in ("remove", "certainty"):
            return dev, np.where(lonely, 0.0, scale)
        centre = totals.mean(axis=0) if k == 0 else np.zeros(totals.shape[1])
        dev = np.where(lonely[:, None], totals - centre, dev)
        return dev, scale

    def _lonely_units(self) -> list[np.ndarray]:
        """Per variance stage, each row's lonely-stratum id at that stage or -1."""
        out = []
        for k in range(self._variance_stages()):
            strata = self.stage_strata[k]
            n_k = _units_per_stratum(strata, self.unit_codes[k])
            keep = 1 - self.sampling_fractions[k] if self.fpc_columns else np.ones(len(strata))
            out.append(np.where((n_k == 1) & (keep >= CERTAINTY), strata, -1))
        return out

    def lonely_strata_in(self, domain: np.ndarray) -> int:
        """Number of strata (any stage) with a single sampled unit that the domain touches."""
        rows = np.asarray(domain, dtype=bool) & (self.weights > 0)
        return int(sum(np.unique(ids[rows & (ids >= 0)]).size for ids in self._lonely_ids))

    def lonely_strata(self) -> list:
        """Labels of first-stage strata with a single sampled PSU."""
        labels = self.stratum_labels()
        return [labels[h] for h, k in enumerate(self.psus_per_stratum()) if k == 1]


def _rows(idx: np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(str(i + 1) for i in idx[:limit])
    return shown + (f" ... ({idx.size} rows)" if idx.size > limit else "")


def t_interval(est: float, se: float, df: int, level: float = 0.95) -> tuple[float, float]:
    """Symmetric t-based confidence interval."""
    from scipy import stats  # loaded on first use: scipy.stats is slow to import

    q = stats.t.ppf(0.5 + level / 2, df) if df > 0 else np.nan
    return est - q * se, est + q * se


def _logit_interval(p: float, se: float, df: int, level: float = 0.95) -> tuple[float, float]:
    """R ``svyciprop(method="logit")``: t interval on the logit scale, back-transformed.

    With ``df <= 0`` (a domain inside one PSU) the interval is undefined (NaN), as in R.
    """
    if df <= 0:
        return np.nan, np.nan
    if not 0 < p < 1 or se == 0:
        return p, p
    from scipy import stats

    q = stats.t.ppf(0.5 + level / 2, df)
    lo, hi = np.log(p / (1 - p)) + np.array([-1, 1]) * q * se / (p * (1 - p))
    return float(1 / (1 + np.exp(-lo))), float(1 / (1 + np.exp(-hi)))


def domain_mask(data: pd.DataFrame, domain: Mapping[str, object] | None) -> np.ndarray:
    """Rows whose columns take one of the allowed values, e.g. ``{"border_posting": [1]}``."""
    mask = np.ones(len(data), dtype=bool)
    for col, allowed in (domain or {}).items():
        if col not in data.columns:
            raise DesignError(
                f"domain filter column {col!r} is not in the data; available: {columns_text(data)}"
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
            f"available: {columns_text(design.data)}"
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
    """Mean (kind="mean") or total (kind="total") of y over each domain, rows with ok=True.

    Every row carries the domain's degrees of freedom (:meth:`SurveyDesign.domain_df`) and the
    number of lonely strata the domain touches (``lonely_strata``).
    """
    w = design.weights
    rows = []
    for group, mask in _domains(design, by, domain_mask(design.data, domain)):
        d = mask & ok
        n = int(d.sum())
        if count_level:
            extra = {**(extra or {}), "n_level": int((d & (y == 1)).sum())}
        df = design.domain_df(mask)
        common = {
            "variable": variable,
            "df": df,
            "n": n,
            "lonely_strata": design.lonely_strata_in(mask),
            "design": design.describe(),
            **(extra or {}),
        }
        yd = np.where(d, y, 0.0)
        wd = np.where(d, w, 0.0)
        if kind == "total":
            est = float((wd * yd).sum())
            z = wd * yd
        else:
            wsum = wd.sum()
            if wsum <= 0:
                nan = {"estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan}
                rows.append(_row(group, **nan, **common))
                continue
            est = float((wd * yd).sum() / wsum)
            z = wd * (yd - est) / wsum
        se = float(np.sqrt(max(design.variance(z), 0.0)))
        lo, hi = t_interval(est, se, df)
        rows.append(_row(group, estimate=est, se=se, ci_low=lo, ci_high=hi, **common))
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
        "lonely_strata",
        "design",
    ]
    out = pd.DataFrame(rows, columns=cols)
    return out.astype({"n": "int64", "df": "int64", "lonely_strata": "int64"})


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
    logit-scale t intervals with the domain's degrees of freedom (R ``svyciprop(method="logit")``
    on ``subset(design, domain)``), so they stay inside [0, 1].
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
