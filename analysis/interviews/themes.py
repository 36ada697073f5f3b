"""Theme tables for coded interviews: code frequencies, co-occurrence and sex differences.

Input is the CLEANED interview table (docs/datasets.md, "interviews"), in either export shape:

- long: one row per interview x code x coder (column ``code``);
- wide: one row per interview x coder, one 0/1 column per code.

:func:`to_long` normalises both shapes; every other function takes the long shape. Codes and
their themes come from the codebook's ``categories`` of the ``code`` field (``value``/``label``
plus ``x-theme`` and ``x-definition``); :func:`code_table` accepts those entries, a mapping
code -> theme, or a DataFrame. Counts are counts of INTERVIEWS: an interview counts once per code
however many times (or by however many rows) the code was applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.disclosure import ProtectedCrosstab, protect_crosstab
from analysis.errors import WpsInputError

DATASET = "interviews"
ID = "interview_id"
GROUPS = ("respondent_type", "sex", "country")
INTERVIEW_THRESHOLD = 5
_CODE_COLUMNS = ("code", "theme", "definition")


def _error(message: str, **kwargs: Any) -> WpsInputError:
    """An input error about the interviews dataset (names column, rows and what to do)."""
    return WpsInputError(message, dataset=DATASET, **kwargs)


def code_table(codes: Any) -> pd.DataFrame:
    """Codes as a DataFrame with columns code, theme, definition, in codebook order.

    Accepts the codebook field's ``categories`` (dicts with ``value`` and ``x-theme``), a mapping
    code -> theme, a DataFrame with ``code`` and ``theme`` columns, or a plain list of code names
    (each its own theme).
    """
    if isinstance(codes, pd.DataFrame):
        if "code" not in codes.columns:
            raise _error(
                "code list has no 'code' column.",
                column="code",
                hint="pass the codebook categories or a DataFrame with code, theme.",
            )
        out = codes.copy()
    elif isinstance(codes, Mapping):
        out = pd.DataFrame({"code": list(codes), "theme": list(codes.values())})
    else:
        rows = []
        for entry in codes:
            if isinstance(entry, Mapping):
                name = entry.get("value", entry.get("code"))
                rows.append(
                    {
                        "code": name,
                        "theme": entry.get("x-theme", entry.get("theme", name)),
                        "definition": entry.get("x-definition", entry.get("definition", "")),
                    }
                )
            else:
                rows.append({"code": entry, "theme": entry, "definition": ""})
        out = pd.DataFrame(rows, columns=list(_CODE_COLUMNS))
    if "theme" not in out.columns:
        out["theme"] = out["code"]
    if "definition" not in out.columns:
        out["definition"] = ""
    out = out[list(_CODE_COLUMNS)].astype({"code": str, "theme": str})
    out["definition"] = out["definition"].fillna("").astype(str)
    dup = out["code"][out["code"].duplicated()].tolist()
    if dup:
        raise _error(
            f"codebook lists code(s) {sorted(set(dup))} more than once.",
            column="code",
            hint="make each code name unique in the codebook.",
        )
    return out.reset_index(drop=True)


def to_long(df: pd.DataFrame, codes: Any) -> pd.DataFrame:
    """Normalise a long or wide export to the long shape (one row per interview x code x coder).

    Wide input (no ``code`` column, one 0/1 column per code) is melted; an interview x coder with
    no code applied is kept as one row with ``code`` missing so that it still counts as an
    interview. Unknown codes in long input are an error naming the rows.
    """
    table = code_table(codes)
    known = table["code"].tolist()
    for col in (ID, "coder"):
        if col not in df.columns:
            raise _error(
                f"column {col!r} is missing.",
                column=col,
                hint="check the export: interviews need interview_id and coder.",
            )
    if "code" in df.columns:
        long = df.copy()
        present = long["code"].notna() & (long["code"].astype("string").str.strip() != "")
        long.loc[~present, "code"] = pd.NA
        bad = present & ~long["code"].astype("string").isin(known)
        if bad.any():
            rows = _row_numbers(long, bad)
            values = sorted(long.loc[bad, "code"].astype(str).unique())
            raise _error(
                f"code(s) {values} are not in the codebook.",
                column="code",
                rows=rows,
                hint="add them to the codebook categories or fix the coding export.",
            )
        return long.reset_index(drop=True)
    code_cols = [c for c in known if c in df.columns]
    if not code_cols:
        raise _error(
            "neither a 'code' column (long shape) nor any code column (wide shape).",
            column="code",
            hint="export one row per interview x code x coder, or one "
            "0/1 column per codebook code.",
        )
    values = df[code_cols].apply(pd.to_numeric, errors="coerce")
    bad = ~values.isin([0, 1]).all(axis=1)
    if bad.any():
        raise _error(
            "wide code columns must hold 0 or 1.",
            column=", ".join(code_cols),
            rows=_row_numbers(df, bad),
            hint="recode the code columns to 0/1.",
        )
    other = [c for c in df.columns if c not in code_cols]
    base = df[other].reset_index(drop=True).copy()
    base["_order"] = np.arange(len(base))
    flags = values.reset_index(drop=True).astype(int)
    melted = (
        pd.concat([base[["_order"]], flags], axis=1)
        .melt(id_vars="_order", var_name="code", value_name="_applied")
        .query("_applied == 1")
    )
    none = base.loc[~flags.any(axis=1), ["_order"]].assign(code=pd.NA)
    rank = {c: i for i, c in enumerate(known)}
    stacked = pd.concat([melted[["_order", "code"]], none], ignore_index=True)
    stacked["_rank"] = stacked["code"].map(rank).fillna(-1)
    stacked = stacked.sort_values(["_order", "_rank"], kind="mergesort")
    long = stacked[["_order", "code"]].merge(base, on="_order", how="left")
    return long.drop(columns="_order")[other + ["code"]].reset_index(drop=True)


def _row_numbers(df: pd.DataFrame, mask: pd.Series) -> list[int]:
    """Rows to name in a message: the raw-file ``_row`` when kept, else 1-based positions."""
    mask = np.asarray(mask, dtype=bool)
    if "_row" in df.columns:
        return [int(r) for r in df.loc[mask, "_row"]]
    return [int(i) + 1 for i in np.flatnonzero(mask)]


def _coded(long: pd.DataFrame, coder: str) -> pd.DataFrame:
    """Rows of one coder; error if the coder never appears."""
    if "coder" not in long.columns:
        raise _error("column 'coder' is missing.", column="coder", hint="pass the long table.")
    rows = long[long["coder"].astype("string") == coder]
    if rows.empty:
        found = sorted(long["coder"].dropna().astype(str).unique())
        raise _error(
            f"no rows coded by coder {coder!r} (found {found}).",
            column="coder",
            hint="pass a coder present in the data.",
        )
    return rows


def indicator_matrix(long: pd.DataFrame, codes: Any, coder: str = "A") -> pd.DataFrame:
    """Interviews x codes 0/1 matrix for one coder (index interview_id, sorted; codebook order)."""
    table = code_table(codes)
    rows = _coded(to_long(long, table), coder)
    ids = sorted(rows[ID].astype(str).unique())
    applied = rows.dropna(subset=["code"])
    mat = pd.crosstab(applied[ID].astype(str), applied["code"].astype(str)).clip(upper=1)
    mat = mat.reindex(index=ids, columns=table["code"].tolist(), fill_value=0).astype(int)
    mat.index.name, mat.columns.name = ID, "code"
    return mat


def theme_matrix(indicators: pd.DataFrame, codes: Any) -> pd.DataFrame:
    """Roll codes up to themes: an interview mentions a theme if it has any of its codes."""
    table = code_table(codes)
    themes = list(dict.fromkeys(table["theme"]))
    out = pd.DataFrame(index=indicators.index)
    for theme in themes:
        members = table.loc[table["theme"] == theme, "code"].tolist()
        out[theme] = indicators[members].max(axis=1).astype(int)
    out.columns.name = "theme"
    return out


def interview_attributes(long: pd.DataFrame, by: Sequence[str] = GROUPS) -> pd.DataFrame:
    """One row per interview with the grouping columns; error if an interview has two values."""
    by = list(by)
    missing = [c for c in by if c not in long.columns]
    if missing:
        raise _error(
            f"grouping column(s) {missing} are missing.",
            column=", ".join(missing),
            hint=f"group by columns of the cleaned table: {sorted(long.columns)}.",
        )
    attrs = long[[ID, *by]].astype({ID: str}).drop_duplicates()
    clash = attrs[ID][attrs[ID].duplicated()]
    if not clash.empty:
        ids = sorted(clash.unique())
        raise _error(
            f"interview(s) {ids[:10]} carry different {by} values on different rows.",
            column=", ".join(by),
            rows=_row_numbers(long, long[ID].astype(str).isin(ids)),
            hint="make respondent attributes constant within an interview.",
        )
    return attrs.set_index(ID).sort_index()


def code_frequencies(
    long: pd.DataFrame, codes: Any, by: Sequence[str] = GROUPS, coder: str = "A"
) -> pd.DataFrame:
    """Interviews mentioning each code and each theme, overall and by group.

    Tidy result, one row per (level, item, group): ``level`` ("code" or "theme"), ``theme``,
    ``code`` (empty for themes), the ``by`` columns (``"All"`` in the overall rows),
    ``interviews_mentioning``, ``interviews`` (in the group) and ``percent``.
    """
    table = code_table(codes)
    long = to_long(long, table)
    by = list(by)
    codes_ind = indicator_matrix(long, table, coder)
    themes_ind = theme_matrix(codes_ind, table)
    attrs = interview_attributes(_coded(long, coder), by).reindex(codes_ind.index)
    theme_of = dict(zip(table["code"], table["theme"], strict=True))
    parts = []
    for level, ind in (("code", codes_ind), ("theme", themes_ind)):
        groupings: list[list[str]] = [[]] + [[c] for c in by]
        for cols in groupings:
            data = ind.join(attrs[cols]) if cols else ind.assign(_all="All")
            keys = cols or ["_all"]
            mention = data.groupby(keys, sort=True, observed=True, dropna=False)[list(ind.columns)]
            counts = (
                mention.sum()
                .reset_index()
                .melt(id_vars=keys, var_name="item", value_name="interviews_mentioning")
            )
            sizes = data.groupby(keys, sort=True, observed=True, dropna=False).size()
            counts = counts.merge(sizes.rename("interviews").reset_index(), on=keys)
            if not cols:
                counts = counts.drop(columns="_all")
            for c in by:
                if c not in cols:
                    counts[c] = "All"
                else:
                    counts[c] = counts[c].astype("string").fillna("(missing)")
            counts["level"] = level
            if level == "code":
                counts["code"] = counts["item"]
                counts["theme"] = counts["item"].map(theme_of)
            else:
                counts["code"] = ""
                counts["theme"] = counts["item"]
            parts.append(counts.drop(columns="item"))
    out = pd.concat(parts, ignore_index=True)
    out["interviews_mentioning"] = out["interviews_mentioning"].astype(int)
    out["interviews"] = out["interviews"].astype(int)
    out["percent"] = (100 * out["interviews_mentioning"] / out["interviews"]).round(1)
    order = {c: i for i, c in enumerate(table["code"])}
    torder = {t: i for i, t in enumerate(dict.fromkeys(table["theme"]))}
    out["_lv"] = out["level"].map({"code": 0, "theme": 1})
    out["_it"] = np.where(out["level"] == "code", out["code"].map(order), out["theme"].map(torder))
    out["_grp"] = (out[by] != "All").sum(axis=1) if by else 0
    sort = ["_lv", "_it", "_grp", *by]
    out = out.sort_values(sort, kind="mergesort").drop(columns=["_lv", "_it", "_grp"])
    cols = ["level", "theme", "code", *by, "interviews_mentioning", "interviews", "percent"]
    return out[cols].reset_index(drop=True)


def frequency_crosstab(
    long: pd.DataFrame,
    codes: Any,
    by: str = "respondent_type",
    *,
    level: str = "theme",
    coder: str = "A",
) -> pd.DataFrame:
    """Counts of interviews mentioning each code or theme (rows) by one grouping column."""
    if level not in ("code", "theme"):
        raise ValueError(f"level must be 'code' or 'theme', not {level!r}")
    table = code_table(codes)
    ind = indicator_matrix(long, table, coder)
    if level == "theme":
        ind = theme_matrix(ind, table)
    attrs = interview_attributes(_coded(to_long(long, table), coder), [by]).reindex(ind.index)
    group = attrs[by].astype("string").fillna("(missing)")
    counts = ind.groupby(group, sort=True).sum().T
    counts.index.name, counts.columns.name = level, by
    return counts.astype(int)


def protected_frequency_table(
    long: pd.DataFrame,
    codes: Any,
    by: str = "respondent_type",
    *,
    level: str = "theme",
    coder: str = "A",
    threshold: int = INTERVIEW_THRESHOLD,
) -> ProtectedCrosstab:
    """The brief's frequency table: :func:`frequency_crosstab` through disclosure control."""
    counts = frequency_crosstab(long, codes, by, level=level, coder=coder)
    return protect_crosstab(counts, threshold=threshold)


def cooccurrence(long: pd.DataFrame, codes: Any, coder: str = "A") -> pd.DataFrame:
    """Square code x code table: interviews where both codes were applied (diagonal: frequency)."""
    ind = indicator_matrix(long, codes, coder)
    mat = ind.T @ ind
    mat.index.name, mat.columns.name = "code", "code"
    return mat.astype(int)


def sex_differences_survivors(
    long: pd.DataFrame,
    codes: Any,
    *,
    coder: str = "A",
    level: str = "code",
    respondent_type: str = "Survivor",
    women: str = "Woman",
    men: str = "Man",
    small_expected: float = 5.0,
) -> pd.DataFrame:
    """Women vs men survivors mentioning each code: counts, Fisher's exact test, plain warning.

    Columns: level, theme, code, women_mentioning, women, men_mentioning, men, percent_women,
    percent_men, odds_ratio, p_value (two-sided Fisher), min_expected (smallest expected cell of
    the 2x2 table) and warning (empty when every expected cell is at least ``small_expected``).
    """
    from scipy.stats import fisher_exact  # loaded on first use: scipy.stats is slow to import

    table = code_table(codes)
    long = to_long(long, table)
    rows = _coded(long, coder)
    ind = indicator_matrix(rows, table, coder)
    if level == "theme":
        ind = theme_matrix(ind, table)
    attrs = interview_attributes(rows, ["respondent_type", "sex"]).reindex(ind.index)
    survivors = attrs["respondent_type"].astype("string") == respondent_type
    sex = attrs.loc[survivors, "sex"].astype("string")
    ind = ind.loc[survivors.to_numpy()]
    is_w, is_m = (sex == women).to_numpy(), (sex == men).to_numpy()
    n_w, n_m = int(is_w.sum()), int(is_m.sum())
    theme_of = dict(zip(table["code"], table["theme"], strict=True))
    out = []
    for item in ind.columns:
        a, c = int(ind.loc[is_w, item].sum()), int(ind.loc[is_m, item].sum())
        cells = np.array([[a, n_w - a], [c, n_m - c]])
        total = cells.sum()
        if n_w and n_m:
            odds, p = fisher_exact(cells, alternative="two-sided")
            expected = np.outer(cells.sum(axis=1), cells.sum(axis=0)) / total
            min_exp = float(expected.min())
        else:
            odds, p, min_exp = np.nan, np.nan, 0.0
        out.append(
            {
                "level": level,
                "theme": theme_of.get(item, item),
                "code": item if level == "code" else "",
                "women_mentioning": a,
                "women": n_w,
                "men_mentioning": c,
                "men": n_m,
                "percent_women": round(100 * a / n_w, 1) if n_w else np.nan,
                "percent_men": round(100 * c / n_m, 1) if n_m else np.nan,
                "odds_ratio": float(odds),
                "p_value": float(p),
                "min_expected": round(min_exp, 3),
                "warning": _small_cell_warning(
                    min_exp, n_w, n_m, small_expected, women, men, respondent_type
                ),
            }
        )
    return pd.DataFrame(out)


def _small_cell_warning(
    min_exp: float, n_w: int, n_m: int, limit: float, women: str, men: str, kind: str
) -> str:
    """Plain-language warning when the Fisher table is too thin to conclude anything."""
    if min_exp >= limit:
        return ""
    noun = kind.lower() + ("s" if not kind.endswith("s") else "")
    if min(n_w, n_m) == 0:
        who = men if n_m == 0 else women
        return f"No {who.lower()} {noun} were interviewed: no comparison is possible."
    n_small, who = (n_m, "men") if n_m <= n_w else (n_w, "women")
    if n_small < limit:
        return (
            f"Only {n_small} {who} {noun} were interviewed: treat differences as "
            "indicative, not conclusive."
        )
    return (
        "Few interviews mention this (an expected count is below "
        f"{limit:g}): treat differences as indicative, not conclusive."
    )


def sex_differences_crosstab(differences: pd.DataFrame) -> pd.DataFrame:
    """Women and men survivors mentioning each item, as a counts crosstab for disclosure control."""
    key = np.where(differences["level"] == "code", differences["code"], differences["theme"])
    counts = pd.DataFrame(
        {
            "Women": differences["women_mentioning"].to_numpy(),
            "Men": differences["men_mentioning"].to_numpy(),
        },
        index=pd.Index(key, name=str(differences["level"].iloc[0]) if len(differences) else "code"),
    )
    counts.columns.name = "sex"
    return counts.astype(int)


def protected_sex_differences(
    long: pd.DataFrame, codes: Any, *, threshold: int = INTERVIEW_THRESHOLD, **kwargs: Any
) -> ProtectedCrosstab:
    """The brief's survivor sex table: counts through disclosure control (no p-values)."""
    diffs = sex_differences_survivors(long, codes, **kwargs)
    return protect_crosstab(sex_differences_crosstab(diffs), threshold=threshold)


def codes_from_codebook(codebook: Any, field: str = "code") -> list[dict[str, Any]]:
    """The ``categories`` of the code field from a loaded Codebook or a codebook dict."""
    if isinstance(codebook, Mapping):
        fields: Iterable[Any] = codebook.get("fields", [])
        for f in fields:
            if f.get("name") == field:
                return list(f.get("categories", []))
    else:
        f = getattr(codebook, "fields", {}).get(field)
        if f is not None:
            cats = f.get("categories") if isinstance(f, Mapping) else getattr(f, "categories", None)
            if cats:
                return [c if isinstance(c, Mapping) else vars(c) for c in cats]
    raise _error(
        f"the codebook has no categories for field {field!r}.",
        column=field,
        hint="list the interview codes as categories with x-theme and x-definition.",
    )


# -- quote bank labels -----------------------------------------------------------------------
#: Attributes a quote's label may show, in the order they are tried (the first is kept longest).
LABEL_ATTRIBUTES = ("respondent_type", "country", "sex")
_MISSING_LABEL = "(missing)"


def quote_labels(
    long: pd.DataFrame, *, threshold: int, attributes: Sequence[str] = LABEL_ATTRIBUTES
) -> pd.DataFrame:
    """Per interview, the label attributes a quote may show (a hidden one is missing).

    Attributes are tried in order. Within the group named by the attributes shown so far, the
    next attribute is shown only when EVERY group it splits that group into has at least
    ``threshold`` interviewees; the decision is the same for everyone in the group, so a
    missing attribute says nothing about the speaker (no "Man" when there are four men
    survivors, and no telling them apart by what their label leaves out). Counts are of all
    interviews in ``long`` (one per interview_id), quoted or not. Index: interview_id (text).
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer) or threshold < 1:
        raise ValueError(f"threshold must be an integer >= 1, not {threshold!r}")
    if ID not in long.columns:
        raise _error(
            f"column {ID!r} is missing: quote labels need one row per interview to count.",
            column=ID,
            hint="pass the cleaned interview table.",
        )
    present = [a for a in attributes if a in long.columns]
    values = interview_attributes(long, present).astype("string").fillna(_MISSING_LABEL)
    shown = pd.DataFrame(pd.NA, index=values.index, columns=list(attributes), dtype="string")
    group = pd.Series("", index=values.index, dtype=object)
    for attribute in present:
        sizes = values.groupby([group, values[attribute]], sort=False).size()
        smallest = sizes.groupby(level=0, sort=False).min()
        show = group.map(smallest).ge(threshold).to_numpy()
        shown.loc[show, attribute] = values.loc[show, attribute]
        group = group.where(~show, group + "\x1f" + values[attribute].astype(str))
    return shown.mask(shown == _MISSING_LABEL)
