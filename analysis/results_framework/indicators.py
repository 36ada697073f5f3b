"""Programme results against targets: a results framework's indicators, checked and compared.

A results framework is a table with one row per indicator x country x sex x period: baseline,
target and achieved, as programme teams keep them (data/raw/results_framework/, its codebook
says what each column means). This module reads it honestly:

- **Not reported is not zero.** An empty `achieved` stays missing: it is shown as "not
  reported", never added as 0, and a total over rows with a gap is not a total.
- **Counts with their base.** A percentage published with its base (185 officers, 34% women)
  is stored as a count (63 = round(0.34 x 185)) with the base, the published percentage and the
  range of whole counts it allows (33.5-34.5% of 185: 62 to 63); `check_framework` refuses a
  percentage above 100, a percentage without its base, and a count outside its range.
- **Cumulative and per-period figures are never mixed** (`period_type`): a cumulative figure
  is the latest value, never summed over periods; per-period figures are summed; a sum over both
  kinds is refused with a message (`period_total`).
- **A target of zero** leaves progress undefined: shown as "target 0: achieved N".
- **Targets may be illustrative** (`target_status`): every output that shows one says so.
- An indicator reported for only some countries says so (`coverage_sentence`); figures about
  people are shown by sex where the source has them, and the brief says where it does not
  (`sex_sentence`).

Pure functions over DataFrames; the figure is written in the house style (analysis.figures.draw).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pandas as pd

from analysis.errors import WpsInputError

ROW_COLUMN = "_row"  # 1-based data row in the raw file (header not counted), as validation's
TOTAL = "Total"
NOT_REPORTED = "not reported"
ILLUSTRATIVE = "illustrative"
PERIOD_TYPES = ("cumulative", "period")
SEXES = ("all", "women", "men")
KEY = ("indicator_id", "country", "sex", "period")
TEXT_COLUMNS = (
    "indicator_id",
    "indicator",
    "unit",
    "country",
    "coverage",
    "sex",
    "period",
    "period_type",
    "target_status",
    "achieved_qualifier",
    "source",
    "note",
)
COUNT_COLUMNS = ("baseline", "target", "achieved", "base", "achieved_min", "achieved_max")
ORDER = "indicator_order"  # the indicator's place in the framework (optional)
REQUIRED = ("indicator_id", "indicator", "unit", "country", "sex", "period", "period_type")
PERIOD = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>0[1-9]|1[0-2]))?$|^(?P<first>\d{4})/(?P<last>\d{4})$"
)
PERIOD_HINT = (
    "write the period as YYYY (2019), YYYY-MM (2019-09) or YYYY/YYYY (2014/2015, both years "
    "included)"
)


# ---- periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A reporting period: its text as written, first and last day."""

    text: str
    start: dt.date
    end: dt.date


def parse_period(text: object) -> Period:
    """'2019', '2019-09' or '2014/2015' as a Period; ValueError for anything else."""
    value = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    value = value.strip()
    match = PERIOD.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a period")
    if match["first"]:
        first, last = int(match["first"]), int(match["last"])
        if last < first:
            raise ValueError(f"{value!r} ends before it starts")
        return Period(value, dt.date(first, 1, 1), dt.date(last, 12, 31))
    year = int(match["year"])
    if match["month"]:
        month = int(match["month"])
        last_day = calendar.monthrange(year, month)[1]
        return Period(value, dt.date(year, month, 1), dt.date(year, month, last_day))
    return Period(value, dt.date(year, 1, 1), dt.date(year, 12, 31))


def source_date_epoch(frame: pd.DataFrame) -> int:
    """Midnight UTC after the end of the latest period: the brief's date, never the clock."""
    ends = [parse_period(p).end for p in frame["period"].dropna().unique()]
    if not ends:
        return 0
    day = max(ends) + dt.timedelta(days=1)
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


# ---- counts from published percentages ----------------------------------------------------


def _fraction(value: float) -> Fraction:
    return Fraction(str(value))


def decimals_of(percent: float) -> int:
    """Decimals a published percentage was rounded to (34 -> 0, 34.5 -> 1)."""
    text = f"{float(percent):.10f}".rstrip("0").rstrip(".")
    return len(text.split(".")[1]) if "." in text else 0


def count_from_percent(percent: float, base: int) -> int:
    """The count a published percentage of a base stands for, rounded half up: 34% of 185 = 63."""
    exact = _fraction(percent) * int(base) / 100
    return math.floor(exact + Fraction(1, 2))


def count_range(percent: float, base: int) -> tuple[int, int]:
    """Whole counts whose share of `base` rounds to the published `percent` (either rounding
    rule at the exact half): 34% of 185 allows 33.5-34.5% = 61.975-63.825, so 62 to 63."""
    half = Fraction(1, 2 * 10 ** decimals_of(percent))
    low = (_fraction(percent) - half) * int(base) / 100
    high = (_fraction(percent) + half) * int(base) / 100
    return max(0, math.ceil(low)), min(int(base), math.floor(high))


# ---- reading and checking ---------------------------------------------------------------------


def read_framework(path: Path | str, dataset: str = "results_framework") -> pd.DataFrame:
    """A results framework file (CSV or Excel) as a typed frame with `_row`, the 1-based data row,
    for checking a file before a run (the workflow reads it through ingest and validation)."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        raw = pd.read_excel(path, dtype=str)
    else:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    frame = typed_framework(raw, dataset=dataset, file=str(path))
    frame[ROW_COLUMN] = range(1, len(frame) + 1)
    return frame


def typed_framework(raw: pd.DataFrame, *, dataset: str, file: str) -> pd.DataFrame:
    """Columns in their types: text as string, counts as Int64, the percentage as Float64,
    `counts_people` as boolean. A count that is not a whole number is named with its rows."""
    frame = raw.copy()
    rows = _row_numbers(frame)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise WpsInputError(
            f"the results framework has no column {', '.join(repr(c) for c in missing)}",
            dataset=dataset,
            file=file,
            hint="see data/raw/results_framework/codebook.json for the columns it needs",
        )
    for column in TEXT_COLUMNS:
        values = frame[column] if column in frame else pd.Series(pd.NA, index=frame.index)
        frame[column] = values.astype("string").str.strip().replace("", pd.NA)
    for column in (ORDER, *COUNT_COLUMNS, "published_percent"):
        if column not in frame:
            frame[column] = pd.NA
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = (
            frame[column].notna()
            & frame[column].astype("string").str.strip().ne("")
            & (numbers.isna())
        )
        if column != "published_percent":
            bad |= numbers.notna() & (numbers != numbers.round())
        if bad.any():
            raise WpsInputError(
                f"{'a number' if column == 'published_percent' else 'a whole count'} is "
                f"needed, found {', '.join(map(repr, frame.loc[bad, column].astype(str)))}",
                dataset=dataset,
                file=file,
                column=column,
                rows=[r for r, b in zip(rows, bad.to_numpy(), strict=True) if b],
                hint="write numbers without units or text (34, not '34%' or 'about 34')",
            )
        frame[column] = numbers.astype("Float64" if column == "published_percent" else "Int64")
    people = frame.get("counts_people", pd.Series(pd.NA, index=frame.index)).astype("string")
    frame["counts_people"] = people.str.strip().str.lower().isin(["true", "1", "yes"])
    return frame


def _row_numbers(frame: pd.DataFrame) -> list[int]:
    if ROW_COLUMN in frame:
        return [int(r) for r in frame[ROW_COLUMN]]
    return list(range(1, len(frame) + 1))


def _keys(frame: pd.DataFrame, mask: pd.Series) -> str:
    """The bad rows by their key (indicator / country / sex / period), for tables whose row
    order is not the raw file's (the cleaned table is sorted by key)."""
    shown = ["/".join(str(row[k]) for k in KEY) for _, row in frame.loc[mask, list(KEY)].iterrows()]
    more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
    return "; ".join(shown[:5]) + more


def _fail(
    frame: pd.DataFrame, mask: pd.Series, column: str, problem: str, hint: str, **where
) -> None:
    rows = [r for r, bad in zip(_row_numbers(frame), mask.to_numpy(), strict=True) if bad]
    raise WpsInputError(
        f"{problem} (indicator/country/sex/period: {_keys(frame, mask)})",
        column=column,
        rows=rows if ROW_COLUMN in frame else None,
        hint=hint,
        **where,
    )


def check_framework(frame: pd.DataFrame, *, dataset: str, file: str) -> None:
    """Refuse what cannot be read honestly, naming dataset, file, column and rows.

    Checks, in order: required values, sex and period type codes, periods that parse, a
    percentage above 100 or below 0, a percentage without its base, a count outside the range
    its percentage allows, a target with no target status.
    """
    where = {"dataset": dataset, "file": file}
    for column in REQUIRED:
        empty = frame[column].isna()
        if empty.any():
            _fail(frame, empty, column, "a value is required here", "fill it in", **where)
    for column, allowed in (("sex", SEXES), ("period_type", PERIOD_TYPES)):
        bad = ~frame[column].isin(allowed)
        if bad.any():
            _fail(
                frame,
                bad,
                column,
                f"{column} must be one of {', '.join(allowed)}; found "
                + ", ".join(sorted(set(frame.loc[bad, column].astype(str)))),
                "use one of the codes the codebook lists",
                **where,
            )
    unparsed = frame["period"].map(_not_a_period)
    if unparsed.any():
        found = ", ".join(repr(p) for p in sorted(set(frame.loc[unparsed, "period"])))
        _fail(
            frame, unparsed, "period", f"the period does not parse: {found}", PERIOD_HINT, **where
        )
    _check_percentages(frame, where)
    untold = frame["target"].notna() & frame["target_status"].isna()
    if untold.any():
        _fail(
            frame,
            untold,
            "target_status",
            "a target needs its status: 'published' (from the source) or 'illustrative' (made "
            "up; every output then says so)",
            "write the target's status in target_status",
            **where,
        )


def _not_a_period(value: object) -> bool:
    try:
        parse_period(value)
    except ValueError:
        return True
    return False


def _check_percentages(frame: pd.DataFrame, where: dict) -> None:
    pct = frame["published_percent"]
    over = pct.notna() & ((pct > 100) | (pct < 0))
    if over.any():
        _fail(
            frame,
            over,
            "published_percent",
            "a percentage must lie between 0 and 100; found "
            + ", ".join(f"{v:g}" for v in pct[over]),
            "write the percentage as published (34 for 34%), with the count it is a percentage "
            "of in base",
            **where,
        )
    baseless = pct.notna() & frame["base"].isna()
    if baseless.any():
        _fail(
            frame,
            baseless,
            "base",
            "a published percentage needs its base (the count it is a percentage of): "
            "percentages are stored as counts with their base, never bare",
            "write the base from the source (185 in '185 officers, 34% women'); a percentage "
            "whose base is not published cannot be shown",
            **where,
        )
    with_base = pct.notna()
    for index in frame.index[with_base]:
        row = frame.loc[index]
        low, high = count_range(row["published_percent"], int(row["base"]))
        mask = pd.Series(frame.index == index, index=frame.index)
        achieved = row["achieved"]
        if pd.isna(achieved):
            _fail(
                frame,
                mask,
                "achieved",
                f"the count derived from {row['published_percent']:g}% of {row['base']} is missing",
                f"write {count_from_percent(row['published_percent'], row['base'])} in achieved",
                **where,
            )
        if not low <= int(achieved) <= high:
            _fail(
                frame,
                mask,
                "achieved",
                f"{achieved} is not {row['published_percent']:g}% of {row['base']}: that "
                f"percentage allows {low} to {high}",
                "correct the count, the base or the percentage to agree with the source",
                **where,
            )
        stored = (row["achieved_min"], row["achieved_max"])
        if any(pd.notna(v) for v in stored) and stored != (low, high):
            _fail(
                frame,
                mask,
                "achieved_min",
                f"achieved_min and achieved_max should be {low} and {high} "
                f"({row['published_percent']:g}% of {row['base']}, rounded)",
                f"write {low} and {high}",
                **where,
            )


# ---- progress -------------------------------------------------------------------------------


def progress_text(achieved: object, target: object, qualifier: object = None) -> str:
    """'24,659 of 25,000 (99%)'; 'target 0: achieved 5'; 'not reported'; 'no target'."""
    if achieved is None or pd.isna(achieved):
        return NOT_REPORTED
    shown = achieved_text(achieved, qualifier)
    if target is None or pd.isna(target):
        return "no target"
    if int(target) == 0:
        return f"target 0: achieved {shown}"
    share = int(achieved) / int(target)
    at_least = "at least " if _is_lower_bound(qualifier) else ""
    return f"{shown} of {int(target):,} ({at_least}{round(100 * share):d}%)"


def _is_lower_bound(qualifier: object) -> bool:
    return qualifier is not None and not pd.isna(qualifier) and str(qualifier).strip() != ""


def achieved_text(achieved: object, qualifier: object = None) -> str:
    """'24,659', 'more than 5,000', or 'not reported' (never '0' for a missing figure)."""
    if achieved is None or pd.isna(achieved):
        return NOT_REPORTED
    text = f"{int(achieved):,}"
    return f"{qualifier} {text}" if _is_lower_bound(qualifier) else text


def progress_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Every row with its progress: `reported`, `progress` (achieved / target; missing when not
    reported, without a target or with a target of 0), `progress_text`, `share_of_base`."""
    out = frame.drop(columns=[ROW_COLUMN], errors="ignore").copy()
    out["reported"] = out["achieved"].notna()
    positive = out["target"].notna() & (out["target"] > 0) & out["reported"]
    ratio = out["achieved"].astype("Float64") / out["target"].astype("Float64")
    out["progress"] = ratio.where(positive, pd.NA).astype("Float64")
    out["progress_text"] = [
        progress_text(a, t, q)
        for a, t, q in zip(out["achieved"], out["target"], out["achieved_qualifier"], strict=True)
    ]
    share = out["achieved"].astype("Float64") / out["base"].astype("Float64")
    out["share_of_base"] = share.where(out["base"].notna() & out["reported"], pd.NA)
    out["_order"] = out["indicator_id"].map(indicator_order(frame))
    out["_total"] = out["country"] != TOTAL
    out["_sex"] = out["sex"].map({s: i for i, s in enumerate(SEXES)})
    out = out.sort_values(["_order", "_total", "country", "_sex", "period"], kind="mergesort")
    return out.drop(columns=["_order", "_total", "_sex"]).reset_index(drop=True)


def indicator_order(frame: pd.DataFrame) -> dict[str, int]:
    """Each indicator's place: its `indicator_order` where given (the cleaned table is sorted by
    key, not as the file was), then the order of first appearance."""
    first = list(dict.fromkeys(frame["indicator_id"]))
    given = {}
    if ORDER in frame:
        for indicator, order in zip(frame["indicator_id"], frame[ORDER], strict=True):
            if pd.notna(order):
                given.setdefault(indicator, int(order))
    ranked = sorted(first, key=lambda i: (given.get(i, len(first) + 1), first.index(i)))
    return {indicator: rank for rank, indicator in enumerate(ranked)}


def period_total(rows: pd.DataFrame, *, what: str = "") -> dict:
    """One figure for several periods of the same indicator, country and sex.

    Per-period figures are summed; a cumulative figure is the latest period's (summing running
    totals counts people twice). Rows of both kinds are refused. A period not reported makes
    the total not reported (None), naming the periods missing: a gap is not a zero.
    """
    kinds = sorted(set(rows["period_type"].dropna()))
    if len(kinds) > 1:
        periods = ", ".join(
            f"{p} ({k})" for p, k in zip(rows["period"], rows["period_type"], strict=True)
        )
        about = f" for {what}" if what else ""
        raise WpsInputError(
            f"cannot add cumulative and per-period figures together{about}: "
            f"{periods}. A cumulative figure already includes the earlier periods",
            column="period_type",
            hint="total per-period figures only, or read the latest cumulative figure",
        )
    kind = kinds[0] if kinds else "period"
    ordered = rows.assign(_end=rows["period"].map(lambda p: parse_period(p).end))
    ordered = ordered.sort_values("_end", kind="mergesort")
    gaps = list(ordered.loc[ordered["achieved"].isna(), "period"])
    if kind == "cumulative":
        latest = ordered.iloc[-1]
        value = None if pd.isna(latest["achieved"]) else int(latest["achieved"])
        return {
            "period_type": kind,
            "value": value,
            "period": latest["period"],
            "not_reported": gaps,
        }
    value = None if gaps else int(ordered["achieved"].sum())
    span = f"{ordered.iloc[0]['period']} to {ordered.iloc[-1]['period']}"
    return {"period_type": kind, "value": value, "period": span, "not_reported": gaps}


# ---- what each indicator reports ------------------------------------------------------------


def headline(progress: pd.DataFrame, indicator_id: str) -> pd.Series:
    """The indicator's headline row: the Total (else the only country), everyone counted (else
    women), the latest period."""
    rows = progress[progress["indicator_id"] == indicator_id]
    totals = rows[rows["country"] == TOTAL]
    if not totals.empty:
        rows = totals
    for sex in SEXES:
        if (rows["sex"] == sex).any():
            rows = rows[rows["sex"] == sex]
            break
    ends = rows["period"].map(lambda p: parse_period(p).end)
    return rows.loc[ends.sort_values(kind="mergesort").index[-1]]


def indicator_ids(progress: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(progress["indicator_id"]))


def _names(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def framework_countries(progress: pd.DataFrame) -> list[str]:
    """Countries that appear anywhere in the framework (never the Total)."""
    return sorted(set(progress["country"]) - {TOTAL})


def coverage_sentence(
    progress: pd.DataFrame, indicator_id: str, *, say_complete: bool = True
) -> str:
    """Which countries an indicator is reported for, saying so when not all of the framework's
    are; empty for an indicator given only as a total (and, unless `say_complete`, for one
    reported for every country)."""
    head = headline(progress, indicator_id)
    rows = progress[
        (progress["indicator_id"] == indicator_id)
        & (progress["country"] != TOTAL)
        & (progress["sex"] == head["sex"])
        & (progress["period"] == head["period"])
    ]
    if rows.empty:
        return ""
    reported = sorted(rows.loc[rows["reported"], "country"])
    missing = sorted(set(framework_countries(progress)) - set(reported))
    if not missing:
        if not say_complete:
            return ""
        return f"Reported for each country: {_names(reported)}."
    return (
        f"Reported for {_names(reported) or 'no country'} only; not reported for "
        f"{_names(missing)} (not reported is not zero)."
    )


def sex_sentence(progress: pd.DataFrame, indicator_id: str) -> str:
    """How the source gives an indicator about people by sex; empty when it counts no people."""
    rows = progress[progress["indicator_id"] == indicator_id]
    if not bool(rows["counts_people"].any()):
        return ""
    sexes = set(rows["sex"])
    if sexes == {"women"}:
        return "Counts women only."
    if "women" in sexes or "men" in sexes:
        return ""
    return "The source does not give this figure by sex."


def women_row(progress: pd.DataFrame, indicator_id: str) -> pd.Series | None:
    """The women's row beside an indicator's headline of everyone counted, when reported."""
    head = headline(progress, indicator_id)
    if head["sex"] != "all":
        return None
    rows = progress[
        (progress["indicator_id"] == indicator_id)
        & (progress["country"] == head["country"])
        & (progress["period"] == head["period"])
        & (progress["sex"] == "women")
    ]
    return None if rows.empty else rows.iloc[0]


def illustrative_targets(progress: pd.DataFrame) -> bool:
    """Whether any target shown is illustrative (made up, not published)."""
    return bool((progress["target"].notna() & (progress["target_status"] == ILLUSTRATIVE)).any())
