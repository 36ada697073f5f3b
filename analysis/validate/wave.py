"""Validate an ingested wave against its codebook; set bad rows aside in a quarantine table.

Structural problems (a required column missing, a column of the wrong kind altogether) stop the
run with a `StructuralError`. Row-level problems (a bad value, an unknown code, a duplicate key)
send the whole row to quarantine, one quarantine row per problem, and the run goes on with the
rest. Columns the codebook does not know never pass: they might be new identifiers.

Before any row is checked, three things about the file as a whole:

- a codebook with fields still marked `x-identifier: review` is refused (`wps codebook check`);
- columns are read under their codebook names: a field's `x-source-name` names the raw column
  (`sch.wide` -> `sch_wide`); a mapping to a column the file lacks is a StructuralError listing
  the columns that exist. The raw file is never edited;
- the file's own value labels must agree with the codebook's: a code the file labels otherwise
  (1 = "Man" in the file, "Woman" in the codebook) refuses the wave with both labels named.

The file's own user-missing codes and ranges (SPSS missing values and ranges, Stata `.a`-`.z`)
apply even when the codebook does not repeat them (`with_file_missing`); their labels come from
the file's value labels.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.errors import StructuralError, WpsInputError, format_rows
from analysis.validate.codebook import FALSE_STRINGS, TRUE_STRINGS, Codebook, Field, range_label

if TYPE_CHECKING:
    from analysis.io import RawTable

ROW_COLUMN = "_row"
QUARANTINE_COLUMNS = ["file", "row", "column", "value", "rule", "message"]
# What the quarantine shows instead of a respondent ID: the row number says where to look.
WITHHELD_ID = "<identifier withheld: see row>"
RULES = (
    "type",
    "required",
    "out_of_range",
    "unknown_category",
    "max_length",
    "not_unique",
    "duplicate_key",
    "date_too_late",
    "other_wave",
)
MAX_VALUE_CHARS = 200
# A column is unusable (structural, not row-level) when at least this many values, and more
# than this share of the non-missing values, do not fit the field type.
STRUCTURAL_MIN_BAD = 3
STRUCTURAL_SHARE = 0.5
FAIL_GROUPS_SHOWN = 5
LABEL_DISAGREEMENTS_SHOWN = 10


@dataclass
class ValidationResult:
    """Rows that passed (with `_row`), one quarantine row per problem, and the reconciliation;
    `parsed` (every row, read the codebook's way) and `kept` (the valid rows' positions) let
    cleaning reuse the typing (`parsed_valid`)."""

    valid: pd.DataFrame
    quarantine: pd.DataFrame
    report: dict[str, Any]
    parsed: dict[str, ParsedColumn] = dataclasses.field(default_factory=dict)
    fields: dict[str, Field] = dataclasses.field(default_factory=dict)
    kept: np.ndarray = dataclasses.field(default_factory=lambda: np.arange(0))

    def parsed_valid(self) -> dict[str, ParsedColumn]:
        """Each column of `valid` as `parse_column` reads it, taken from validation's reading of
        every row. Dates are read again: the time unit `pd.to_datetime` picks may depend on the
        quarantined rows' dates."""
        rows_in = self.report.get("rows_in", len(self.kept))
        if len(self.kept) == rows_in:
            return dict(self.parsed)
        out = {}
        for name, column in self.parsed.items():
            field = self.fields[name]
            if field.type in ("date", "datetime"):
                out[name] = parse_column(self.valid[name], field)
                continue
            parts = {
                part.name: getattr(column, part.name).iloc[self.kept].reset_index(drop=True)
                for part in dataclasses.fields(ParsedColumn)
            }
            out[name] = ParsedColumn(**parts)
        return out


@dataclass
class ParsedColumn:
    """One column read the codebook's way.

    blank: system-missing (NA or empty text); user_missing: a user-missing code of the field;
    bad_type: a value that does not fit the type; typed: values of the field type (NA where
    blank, user-missing or bad); code_text: each value as text, for matching codes.
    """

    blank: pd.Series
    user_missing: pd.Series
    bad_type: pd.Series
    typed: pd.Series
    code_text: pd.Series


def code_text(value: Any) -> str | None:
    """A value as text the way codes are written in a codebook (`99.0` -> `"99"`)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if math.isfinite(value) and float(value).is_integer():
            return str(int(value))
        return repr(float(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(value)
        if ts != ts.normalize():
            return ts.isoformat()
        try:
            return ts.date().isoformat()
        except (NotImplementedError, OverflowError, ValueError):  # year beyond 9999
            return ts.isoformat().split("T")[0]
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _is_blank(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_STRINGS:
        return True
    if text in FALSE_STRINGS:
        return False
    return None


def _to_timestamp(value: Any, date_only: bool) -> pd.Timestamp | None:
    if isinstance(value, bool | int | float | np.number):
        return None
    try:
        if isinstance(value, str):
            text = value.strip()
            parsed = dt.date.fromisoformat(text) if date_only else dt.datetime.fromisoformat(text)
            ts = pd.Timestamp(parsed)
        else:
            ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(ts):
        return None
    return ts.normalize() if date_only else ts


class Distinct:
    """A column factorised once, so several functions of its values (blank, code text, type)
    each cost one call per distinct value; `map(func)` is `per_value(values, func)`.

    Missing values (None, NaN, NaT, NA), which factorising folds together, are told apart by
    type: `func` is called once for each kind, with the first such value."""

    def __init__(self, values: pd.Series) -> None:
        self.values = values
        may_mix = values.dtype == object or isinstance(values.dtype, pd.CategoricalDtype)
        # might mix booleans with numbers (True == 1 would share one result): keep them apart
        self.mixed = may_mix and pd.api.types.infer_dtype(values, skipna=True) in (
            "mixed",
            "mixed-integer",
        )
        if self.mixed:
            return
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        self.uniques = pd.Series(uniques, dtype=values.dtype).astype(object).tolist()
        missing = np.flatnonzero(codes < 0)
        self.missing_examples: list[Any] = []
        if len(missing):
            if values.dtype == object:  # any mixture of None, NaN, NaT, NA
                na_values = values.iloc[missing].astype(object).to_numpy()
                kinds: dict[type, int] = {}
                for v in na_values:
                    if type(v) not in kinds:
                        kinds[type(v)] = len(kinds)
                        self.missing_examples.append(v)
                kind_of = np.fromiter((kinds[type(v)] for v in na_values), np.int64, len(missing))
            else:  # one kind of missing value per dtype
                self.missing_examples = [values.iloc[missing[:1]].astype(object).iloc[0]]
                kind_of = np.zeros(len(missing), dtype=np.int64)
            codes = codes.astype(np.int64, copy=True)
            codes[missing] = len(self.uniques) + kind_of
        self.codes = codes

    def _table(self, func: Callable[[Any], Any]) -> list[Any]:
        """`func` of each distinct value, then of each kind of missing value."""
        return [func(u) for u in self.uniques] + [func(v) for v in self.missing_examples]

    def map(self, func: Callable[[Any], Any]) -> pd.Series:
        """`values.astype(object).map(func)`, calling `func` once per distinct value."""
        if self.mixed:
            return self.values.map(func)
        table = np.empty(len(self.uniques) + len(self.missing_examples), dtype=object)
        table[:] = self._table(func)
        return pd.Series(table[self.codes], index=self.values.index, dtype=object)

    def map_array(self, func: Callable[[Any], Any], dtype: type) -> np.ndarray:
        """`map(func)` as a NumPy array of `dtype` (booleans, for one)."""
        if self.mixed:
            return self.values.map(func).to_numpy(dtype=dtype)
        return np.array(self._table(func), dtype=dtype)[self.codes]

    def map_text(self, func: Callable[[Any], str | None], keep: pd.Series) -> pd.Series:
        """`map(func).where(keep).astype("string")`, gathered by Arrow (no Python object per
        row): `func` gives text or None."""
        if self.mixed:
            return self.map(func).where(keep).astype("string")
        return text_series(self._table(func), self.codes, keep.to_numpy(dtype=bool), self.values)


def text_series(table: list[str | None], codes: np.ndarray, keep: np.ndarray, like: pd.Series):
    """A `string` Series (index of `like`) holding `table[code]` per row, NA where not `keep`:
    what `pd.Series(values, dtype=object).astype("string")` gives, without the objects."""
    import pyarrow as pa

    texts = pa.array(table, type=pa.large_string())
    picked = texts.take(pa.array(codes, mask=~keep))
    return pd.Series(pd.arrays.ArrowStringArray(picked), index=like.index)


def per_value(values: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """`values.astype(object).map(func)`, calling `func` once per distinct value: coded columns
    repeat a handful of values, so this turns millions of Python calls into dozens.

    `func` sees each value as `astype(object)` gives it (Python floats, ints, strings,
    Timestamps), whatever the column's dtype; a numeric column is not converted whole, only its
    distinct values. Missing values (None, NaN, NaT, NA) are told apart by type only: `func` is
    called once for each kind. Object columns of mixed types fall back to element-wise mapping
    (booleans among numbers: True == 1 would share one result)."""
    return Distinct(values).map(func)


def _in_missing_range(obj: pd.Series, blank: pd.Series, field: Field) -> pd.Series:
    """Cells whose number lies in one of the field's user-missing ranges (ends included)."""
    numbers = pd.to_numeric(obj.where(~blank), errors="coerce").astype(float)
    inside = pd.Series(False, index=obj.index)
    for low, high, _label in field.missing_ranges:
        inside |= ((numbers >= low) & (numbers <= high)).fillna(False)
    return inside.astype(bool)


# The characters str.strip() removes (str.isspace); a test keeps the list equal to Python's.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# One whitespace character, and one at either end of a value, in RE2 (pyarrow) syntax.
SPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in PY_WHITESPACE) + "]"
EDGE_WHITESPACE = f"^{SPACE_CLASS}|{SPACE_CLASS}$"


def is_plain_text(s: pd.Series) -> bool:
    """A text column (string dtype) none of whose values starts or ends with whitespace: its
    values are their own code text (`code_text` strips nothing), blank only when empty."""
    if not pd.api.types.is_string_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
        return False
    if s.dtype == object:
        return False
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(s.array, pd.arrays.ArrowStringArray):  # its Arrow data, not copied
        arr = pa.array(s.array)
    else:
        arr = pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.large_string())
    return not pc.any(pc.match_substring_regex(arr, EDGE_WHITESPACE)).as_py()


def _datetimes(stamps: pd.Series, distinct: Distinct) -> pd.Series:
    """`pd.to_datetime(stamps)`, converting each distinct value once: `stamps` (Timestamps or
    None) is a function of the column's distinct values, which `distinct` holds. The values go
    to `to_datetime` in order of first appearance, a missing one last, as it would meet them."""
    if distinct.mixed:
        return pd.to_datetime(stamps)
    present = stamps.notna().to_numpy()
    codes, first_rows = np.unique(distinct.codes[present], return_index=True)
    order = np.argsort(first_rows, kind="stable")  # distinct values by first appearance
    rows = np.flatnonzero(present)[first_rows[order]]
    missing = np.flatnonzero(~present)[:1]
    converted = pd.to_datetime(stamps.iloc[np.concatenate([rows, missing])])
    if not len(missing):
        converted = pd.concat([converted, pd.Series([pd.NaT], dtype=converted.dtype)])
    position = np.zeros(int(distinct.codes.max(initial=0)) + 1, dtype=np.int64)
    position[codes[order]] = np.arange(len(rows))
    picked = np.where(present, position[distinct.codes], len(rows))
    return converted.iloc[picked].set_axis(stamps.index)


def _masked_numbers(number: np.ndarray, keep: np.ndarray, kind: str, index: pd.Index) -> pd.Series:
    """`Series(number).where(keep).astype("Float64")`, and `.astype("Int64")` for an integer
    field (whose kept values are whole numbers a 64-bit integer holds), built as one masked
    array rather than three copies of the column."""
    values = np.where(keep, number, 0.0)
    if kind != "integer":
        return pd.Series(pd.arrays.FloatingArray(values, ~keep), index=index)
    # kept values are whole and below 2**63 in size (parse_column): each converts exactly
    return pd.Series(pd.arrays.IntegerArray(values.astype(np.int64), ~keep), index=index)


def parse_column(values: pd.Series, field: Field) -> ParsedColumn:
    """Read a raw column as `field` says (type, user-missing codes)."""
    s = values.reset_index(drop=True)
    # numbers stay numbers (per_value hands func the Python objects astype(object) would
    # give); other columns are read as Python objects, the way a codebook reads them
    is_number = isinstance(s.dtype, np.dtype) and s.dtype.kind in "iuf"
    # dates as read from SPSS/Stata/SAS: factorised as they are, a Timestamp per distinct value
    # (not per cell); a date column with missing-value ranges is read as objects, as before
    is_dates = isinstance(s.dtype, np.dtype) and s.dtype.kind == "M" and not field.missing_ranges
    plain_text = field.type == "string" and not field.missing_ranges and is_plain_text(s)
    obj = s if is_number or plain_text or is_dates else s.astype(object)
    if plain_text:  # what per_value(obj, _is_blank) and per_value(obj, code_text) give
        text = pd.Series(s.to_numpy(dtype=object, na_value=None), index=s.index, dtype=object)
        blank = pd.Series(np.asarray(s.isna() | (s == ""), dtype=bool), index=s.index)
    else:
        distinct = Distinct(obj)
        blank = pd.Series(distinct.map_array(_is_blank, bool), index=s.index)
        text = distinct.map(code_text)
    codes = set(field.missing_labels())
    if not codes:
        user_missing = pd.Series(False, index=s.index)
    elif plain_text:
        user_missing = ~blank & text.isin(codes)
    else:  # text.isin(codes), once per distinct value
        is_code = distinct.map_array(lambda v: code_text(v) in codes, bool)
        user_missing = ~blank & pd.Series(is_code, index=s.index)
    if field.missing_ranges:
        user_missing |= ~blank & _in_missing_range(obj, blank, field)
    checked = ~blank & ~user_missing

    if field.type in ("integer", "number"):
        if pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_timedelta64_dtype(s):
            numeric = pd.Series(np.nan, index=s.index)
        elif is_number:  # blank cells are NaN already
            numeric = s.astype(float)
        else:
            numeric = pd.to_numeric(obj.where(~blank), errors="coerce").astype(float)
        number = numeric.to_numpy(dtype=float)
        finite = np.isfinite(number)
        if field.type == "integer":  # whole numbers a 64-bit integer holds (trunc, not fmod:
            with np.errstate(invalid="ignore"):  # the same test at a tenth of the cost)
                finite &= (np.trunc(number) == number) & (np.abs(number) < 2.0**63)
        ok = pd.Series(finite, index=s.index)
        keep = finite & ~user_missing.to_numpy(dtype=bool)
        typed = _masked_numbers(number, keep, field.type, s.index)
    elif field.type == "boolean":
        parsed = distinct.map(lambda v: None if _is_blank(v) else _to_bool(v))
        ok = parsed.notna()
        typed = parsed.where(ok & ~user_missing).astype("boolean")
    elif field.type in ("date", "datetime"):
        date_only = field.type == "date"
        stamps = distinct.map(lambda v: None if _is_blank(v) else _to_timestamp(v, date_only))
        ok = stamps.notna()
        typed = _datetimes(stamps.where(ok & ~user_missing), distinct)
    else:
        ok = ~blank
        if plain_text:  # text.where(checked).astype("string"), in Arrow
            import pyarrow as pa
            import pyarrow.compute as pc

            cells = pa.array(s.array).cast(pa.large_string())
            keep = pa.array(checked.to_numpy(dtype=bool))
            kept = pc.if_else(keep, cells, pa.scalar(None, pa.large_string()))
            typed = pd.Series(pd.arrays.ArrowStringArray(kept), index=s.index)
        else:
            as_text = lambda v: v if isinstance(v, str) else code_text(v)  # noqa: E731
            typed = distinct.map_text(as_text, checked)
    bad_type = checked & ~ok.astype(bool)
    return ParsedColumn(blank, user_missing, bad_type, typed, text)


def _shown_value(value: Any, field: Field | None) -> str:
    """A raw value as it may appear in the quarantine file: identifiers never do.

    Direct identifiers (names, phones) and indirect ones (respondent IDs, which the public key
    of a pseudonym links back to a person) are replaced by a placeholder; the quarantine's row
    number (1-based data row of the raw file) says where to look.
    """
    if _is_blank(value):
        return ""
    text = value if isinstance(value, str) else str(code_text(value))
    if field is not None and field.identifier == "direct":
        return f"<redacted direct identifier, {len(text)} characters>"
    if field is not None and field.identifier == "indirect":
        return WITHHELD_ID
    return text[:MAX_VALUE_CHARS]


def _key_is_identifier(codebook: Codebook, key: list[str]) -> bool:
    return any(codebook.fields[k].identifier in ("direct", "indirect") for k in key)


def _required_fields(codebook: Codebook) -> list[str]:
    return [n for n, f in codebook.fields.items() if f.required or n in codebook.primary_key]


def _check_structure_of_raw_names(data: pd.DataFrame, dataset: str, file: str) -> None:
    duplicated = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
    if duplicated:
        raise StructuralError(
            f"columns appear more than once: {', '.join(duplicated)}",
            dataset=dataset,
            file=file,
            column=duplicated[0],
            hint="give each column a unique name in the raw file",
        )


def _check_structure(data: pd.DataFrame, codebook: Codebook, dataset: str, file: str) -> None:
    _check_structure_of_raw_names(data, dataset, file)
    present = {str(c) for c in data.columns}
    missing = [n for n in _required_fields(codebook) if n not in present]
    if not missing:
        return
    unknown = [str(c) for c in data.columns if str(c) not in codebook.fields]
    lowered = {c.lower(): c for c in unknown}
    guesses = []
    for name in missing:
        close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
        if close:
            guesses.append(f"{name!r} might be {' or '.join(repr(lowered[c]) for c in close)}")
    problem = f"required column(s) missing: {', '.join(missing)}"
    if guesses:
        problem += "; the columns look renamed: " + "; ".join(guesses)
    elif unknown:
        problem += "; columns the codebook does not know, which might be the missing ones: "
        problem += ", ".join(repr(c) for c in unknown[:10])
    raise StructuralError(
        problem,
        dataset=dataset,
        file=file,
        column=missing[0],
        hint="map each renamed column to its field with x-source-name in codebook.json (the "
        "raw file stays as it is), or, if the wave really changed, update the codebook",
    )


def _check_type_usable(
    name: str, field: Field, parsed: ParsedColumn, raw: pd.Series, dataset: str, file: str
) -> None:
    n_checked = int((~parsed.blank & ~parsed.user_missing).sum())
    n_bad = int(parsed.bad_type.sum())
    if n_bad >= STRUCTURAL_MIN_BAD and n_bad > STRUCTURAL_SHARE * n_checked:
        positions = np.flatnonzero(parsed.bad_type.to_numpy())
        examples = ", ".join(repr(_shown_value(raw.iloc[p], field)[:40]) for p in positions[:3])
        raise StructuralError(
            f"{n_bad} of {n_checked} values are not of type {field.type} (e.g. {examples}); "
            f"the column is unusable",
            dataset=dataset,
            file=file,
            column=name,
            rows=[int(p) + 1 for p in positions],
            hint=f"check the export of {name!r} (text where {field.type} is expected, shifted or "
            "renamed columns), or correct the field type in codebook.json",
        )


def _range_text(field: Field) -> str:
    parts = []
    if field.minimum is not None:
        parts.append(f"minimum {field.minimum}")
    if field.maximum is not None:
        parts.append(f"maximum {field.maximum}")
    return " and ".join(parts)


def _bound(value: Any, field: Field) -> Any:
    return pd.Timestamp(value) if field.type in ("date", "datetime") else value


def _row_problems(name: str, field: Field, parsed: ParsedColumn, raw: pd.Series) -> list[dict]:
    """Row-level problems of one column, as quarantine records without `file`."""
    problems: list[dict] = []

    def add(mask: pd.Series, rule: str, detail: Any) -> None:
        for pos in np.flatnonzero(mask.to_numpy(dtype=bool)):
            value = raw.iloc[pos]
            text = detail(value) if callable(detail) else detail
            problems.append(
                {
                    "row": int(pos) + 1,
                    "column": name,
                    "value": _shown_value(value, field),
                    "rule": rule,
                    "message": f"column {name!r}, row {pos + 1}: {text}",
                }
            )

    shown = lambda v: repr(_shown_value(v, field))  # noqa: E731
    add(parsed.bad_type, "type", lambda v: f"{shown(v)} is not a valid {field.type}")
    good = parsed.typed.notna()
    if field.type in ("integer", "number", "date", "datetime"):
        too_low = pd.Series(False, index=good.index)
        too_high = pd.Series(False, index=good.index)
        if field.minimum is not None:
            too_low = good & (parsed.typed < _bound(field.minimum, field)).fillna(False)
        if field.maximum is not None:
            too_high = good & (parsed.typed > _bound(field.maximum, field)).fillna(False)
        codes = ", ".join(field.missing_labels()) or "none"
        add(
            too_low | too_high,
            "out_of_range",
            lambda v: (
                f"{shown(v)} is outside the {_range_text(field)} "
                f"(user-missing codes allowed: {codes})"
            ),
        )
    allowed = field.allowed_values()
    if allowed is not None:
        if field.type == "string":
            unknown = good & ~parsed.typed.astype(object).isin({str(a) for a in allowed})
        elif field.type in ("integer", "number"):
            unknown = good & ~parsed.typed.astype(float).isin([float(a) for a in allowed])
        else:
            unknown = good & ~parsed.typed.astype(object).isin(list(allowed))
        known = ", ".join(str(a) for a in allowed[:20])
        codes = ", ".join(field.missing_labels())
        add(
            unknown,
            "unknown_category",
            lambda v: (
                f"{shown(v)} is not a known code (valid: {known}"
                + (f"; user-missing: {codes})" if codes else ")")
            ),
        )
    if field.max_length is not None and field.type == "string":
        too_long = good & (parsed.typed.str.len() > field.max_length).fillna(False)
        add(
            too_long,
            "max_length",
            lambda v: (
                f"text of {len(str(v))} characters is longer than maxLength {field.max_length}"
            ),
        )
    if field.unique:
        dup = good & parsed.typed.duplicated(keep=False)  # missing values are not good
        add(dup, "not_unique", lambda v: f"{shown(v)} appears more than once; it must be unique")
    return problems


def _required_problems(name: str, parsed: ParsedColumn) -> list[dict]:
    return [
        {
            "row": int(pos) + 1,
            "column": name,
            "value": "",
            "rule": "required",
            "message": f"column {name!r}, row {pos + 1}: a value is required but the cell is empty",
        }
        for pos in np.flatnonzero(parsed.blank.to_numpy())
    ]


def _key_problems(codebook: Codebook, parsed: dict[str, ParsedColumn]) -> list[dict]:
    key = list(codebook.primary_key)
    if not key or any(k not in parsed for k in key):
        return []
    complete = pd.Series(True, index=parsed[key[0]].blank.index)
    for k in key:
        complete &= ~parsed[k].blank
    if len(key) == 1:  # its code text is the key text (" | ".join of one part)
        key_text = parsed[key[0]].code_text.fillna("").astype(object)
    else:
        key_text = pd.Series(
            [
                " | ".join(parts)
                for parts in zip(*(parsed[k].code_text.fillna("") for k in key), strict=True)
            ],
            index=complete.index,
            dtype=object,
        )
    dup = complete & key_text.duplicated(keep=False)
    label = ",".join(key)
    groups: dict[str, list[int]] = {}
    for pos in np.flatnonzero(dup.to_numpy()):
        groups.setdefault(key_text.iloc[pos], []).append(int(pos) + 1)
    withhold = _key_is_identifier(codebook, key)
    problems = []
    for value, rows in groups.items():
        shown = WITHHELD_ID if withhold else value[:MAX_VALUE_CHARS]
        named = "primary key" if withhold else f"primary key {value!r}"
        for row in rows:
            problems.append(
                {
                    "row": row,
                    "column": label,
                    "value": shown,
                    "rule": "duplicate_key",
                    "message": f"column {label!r}, row {row}: {named} is duplicated "
                    f"in {format_rows(rows)}; all of them are quarantined",
                }
            )
    return problems


def _warnings(
    table: RawTable, codebook: Codebook, unknown: list[str], missing_optional: list[str]
) -> list[str]:
    notes = []
    if unknown:
        notes.append(
            "columns not in the codebook were left out (they might be identifiers; add them to "
            f"codebook.json if they are needed): {', '.join(unknown)}"
        )
    if missing_optional:
        notes.append(
            f"optional codebook fields absent from this wave: {', '.join(missing_optional)}"
        )
    declared = getattr(table, "missing_codes", None) or {}
    by_column = {f.column(): f for f in codebook.fields.values()}
    for column in sorted(declared):
        field = by_column.get(column)
        if field is None:
            continue
        extra = sorted(
            {code_text(c) for c in declared[column]} - set(field.missing_labels()) - {None}
        )
        extra = [c for c in extra if field.missing_reason(c) is None]
        valid = [c for c in extra if c in _valid_codes(field)]
        applied = [c for c in extra if c not in valid]
        if applied:
            notes.append(
                f"the file declares user-missing code(s) {', '.join(applied)} for "
                f"{field.name!r} that the codebook lacks; they were applied as user-missing with "
                "the file's labels (add them to codebook.json to make them part of the codebook)"
            )
        if valid:
            notes.append(
                f"the file declares code(s) {', '.join(valid)} of {field.name!r} user-missing, "
                "but the codebook lists them as valid values; they were kept as values (correct "
                "codebook.json if they mean 'no answer')"
            )
    return notes


def _report(
    dataset: str,
    file: str,
    rows_in: int,
    rows_valid: int,
    quarantine: pd.DataFrame,
    unknown: list[str],
    missing_optional: list[str],
    warnings: list[str],
) -> dict[str, Any]:
    rows_quarantined = int(quarantine["row"].nunique())
    by_rule = quarantine.groupby("rule").size().sort_index()
    by_column = quarantine.groupby("column").size().sort_index()
    by_both = quarantine.groupby(["rule", "column"]).size().sort_index()
    report = {
        "dataset": dataset,
        "file": file,
        "rows_in": rows_in,
        "rows_valid": rows_valid,
        "rows_quarantined": rows_quarantined,
        "problems": len(quarantine),
        "problems_by_rule": {str(k): int(v) for k, v in by_rule.items()},
        "problems_by_column": {str(k): int(v) for k, v in by_column.items()},
        "problems_by_rule_and_column": [
            {"rule": r, "column": c, "n": int(n)} for (r, c), n in by_both.items()
        ],
        "unknown_columns": unknown,
        "missing_optional_columns": missing_optional,
        "warnings": warnings,
    }
    if rows_in != rows_valid + rows_quarantined:
        raise RuntimeError(
            f"reconciliation failed for {dataset} {file}: rows_in {rows_in} != rows_valid "
            f"{rows_valid} + rows_quarantined {rows_quarantined}"
        )
    return report


def _fail_on_rows(quarantine: pd.DataFrame, dataset: str, file: str) -> WpsInputError:
    groups: dict[tuple[str, str], list[int]] = {}
    for row in quarantine.itertuples(index=False):
        groups.setdefault((row.column, row.rule), []).append(int(row.row))
    shown = list(groups.items())[:FAIL_GROUPS_SHOWN]
    parts = [f"column {c!r} {format_rows(rows)} ({rule})" for (c, rule), rows in shown]
    more = len(groups) - len(shown)
    problem = (
        f"{len(quarantine)} row-level problem(s) in {quarantine['row'].nunique()} row(s): "
        + "; ".join(parts)
        + (f"; and {more} more column/rule group(s)" if more > 0 else "")
    )
    (column, _rule), rows = shown[0]
    return WpsInputError(
        problem,
        dataset=dataset,
        file=file,
        column=column,
        rows=rows,
        hint="correct these rows in the raw file, or validate with on_row_error='quarantine' to "
        "set them aside (results/quarantine/) and go on with the rest",
    )


def refuse_wave_without_valid_rows(
    rows_valid: int, report: dict[str, Any], quarantine_file: str, dataset: str, file: str
) -> None:
    """Stop a wave whose every row was quarantined: there is nothing to clean or estimate.

    Called once the quarantine is on disk (cleaning), so the message can send the analyst to it;
    ``report`` is the validation report (rows_in, problems by rule and column).
    """
    if rows_valid:
        return
    groups = report.get("problems_by_rule_and_column", [])[:FAIL_GROUPS_SHOWN]
    commonest = "; ".join(f"{g['rule']} in column {g['column']!r} ({g['n']})" for g in groups)
    raise WpsInputError(
        f"0 valid rows of {report.get('rows_in', '?')}: every row was quarantined, so the wave "
        f"has nothing left to clean or analyse (problems: {commonest or 'see the quarantine'})",
        dataset=dataset,
        file=file,
        hint=f"see the quarantine file {quarantine_file} (one line per problem: row, column, "
        "rule); a whole wave failing usually means the file is not this dataset's wave or the "
        "codebook no longer matches it (changed codes, units or column meaning): correct one of "
        "them and run again",
    )


# --- the file as a whole: undecided identifiers, column mapping, its own labels and codes -----


def refuse_undecided(codebook: Codebook, dataset: str, file: str) -> None:
    """Refuse a codebook that still has fields marked `x-identifier: review`."""
    undecided = codebook.undecided()
    if not undecided:
        return
    names = ", ".join(f.name for f in undecided)
    raise StructuralError(
        f"the codebook still has {len(undecided)} field(s) whose identifier status is "
        f"undecided (x-identifier: review): {names}",
        dataset=dataset,
        file=file,
        column=undecided[0].name,
        hint="run `wps codebook check` on the codebook and set each x-identifier to direct "
        "(dropped in cleaning), indirect (pseudonymised) or none (kept)",
    )


def apply_column_mapping(
    data: pd.DataFrame, codebook: Codebook, dataset: str, file: str
) -> pd.DataFrame:
    """The raw columns renamed to their codebook names (`x-source-name` -> `name`).

    A field whose source column is absent is accepted only when the file already has a column
    under the field's own name; otherwise a StructuralError names the field and the columns
    that exist. The raw file is never touched: only this in-memory table is renamed.
    """
    present = [str(c) for c in data.columns]
    renames: dict[str, str] = {}
    for f in codebook.fields.values():
        if not f.source_name or f.source_name == f.name:
            continue
        if f.source_name in present:
            if f.name in present:
                raise StructuralError(
                    f"field {f.name!r} maps the raw column {f.source_name!r} (x-source-name), "
                    f"but the file also has a column named {f.name!r}",
                    dataset=dataset,
                    file=file,
                    column=f.source_name,
                    hint=f"remove x-source-name from field {f.name!r} or give the field "
                    "another name in codebook.json",
                )
            renames[f.source_name] = f.name
        elif f.name not in present:
            shown = ", ".join(repr(c) for c in present[:40])
            more = f" and {len(present) - 40} more" if len(present) > 40 else ""
            raise StructuralError(
                f"codebook field {f.name!r} maps the raw column {f.source_name!r} "
                f"(x-source-name), which is not in this file; the file's columns are: "
                f"{shown}{more}",
                dataset=dataset,
                file=file,
                column=f.source_name,
                hint=f"correct x-source-name of field {f.name!r} in codebook.json to one of the "
                "file's columns (spelling and case must match exactly)",
            )
    return data.rename(columns=renames) if renames else data


def _file_labels(table: RawTable, column: str) -> dict[str, str]:
    """The file's value labels of a raw column, keyed by code text (`99.0` -> `"99"`)."""
    labels = (getattr(table, "value_labels", None) or {}).get(column) or {}
    return {str(code_text(k)): str(v) for k, v in labels.items() if code_text(k) is not None}


def _codebook_labels(field: Field) -> dict[str, str]:
    """Labels the codebook states for codes (categories, x-value-labels, user-missing codes).

    A code without a label of its own (label equal to the code) states nothing to compare.
    """
    stated = {str(code_text(v)): label for v, label in field.categories}
    for item in field.raw.get("x-value-labels", []):
        stated.setdefault(str(code_text(item["value"])), str(item["label"]))
    stated.update(field.missing_labels())
    return {code: label for code, label in stated.items() if label.strip() != code}


def _same_label(a: str, b: str) -> bool:
    def norm(text: str) -> str:
        return " ".join(text.replace("\u2019", "'").casefold().split())

    return norm(a) == norm(b)


def label_disagreements(table: RawTable, codebook: Codebook) -> list[dict[str, str]]:
    """Codes the file labels differently from the codebook: column, code, both labels."""
    found = []
    for f in codebook.fields.values():
        in_file = _file_labels(table, f.column())
        if not in_file:
            continue
        for code, label in _codebook_labels(f).items():
            if code in in_file and not _same_label(label, in_file[code]):
                found.append(
                    {"column": f.name, "code": code, "codebook": label, "file": in_file[code]}
                )
    return found


def check_label_agreement(table: RawTable, codebook: Codebook, dataset: str, file: str) -> None:
    """Refuse a wave whose own value labels give a code another meaning than the codebook.

    A code that now means something else (sex 1 = "Man" in the file, "Woman" in the codebook)
    would turn every table on it around without any value being invalid.
    """
    found = label_disagreements(table, codebook)
    if not found:
        return
    shown = found[:LABEL_DISAGREEMENTS_SHOWN]
    parts = [
        f"column {d['column']!r} code {d['code']}: the codebook says {d['codebook']!r}, the "
        f"file says {d['file']!r}"
        for d in shown
    ]
    more = len(found) - len(shown)
    raise StructuralError(
        f"the file's value labels disagree with the codebook for {len(found)} code(s): "
        + "; ".join(parts)
        + (f"; and {more} more" if more > 0 else ""),
        dataset=dataset,
        file=file,
        column=found[0]["column"],
        hint="a code must mean the same in every wave. If this wave was recoded, recode it "
        "back to the codebook's codes (in a copy made by the source software, not by editing "
        "the raw file here); if the codebook's label is wrong, correct codebook.json. Nothing "
        "from this wave was used",
    )


def _file_ranges(table: RawTable, column: str) -> list[tuple[float, float]]:
    ranges = (getattr(table, "missing_ranges", None) or {}).get(column) or []
    return [(float(lo), float(hi)) for lo, hi in ranges]


def _valid_codes(f: Field) -> set[str]:
    """The codes the codebook declares valid (enum or categories), as text."""
    return {str(code_text(v)) for v in (f.allowed_values() or ())}


def _with_file_codes(f: Field, table: RawTable) -> Field:
    column = f.column()
    declared = (getattr(table, "missing_codes", None) or {}).get(column) or []
    ranges = _file_ranges(table, column)
    labels = _file_labels(table, column)
    known = set(f.missing_labels()) | _valid_codes(f)  # the codebook's own say wins
    codes = list(f.missing_values)
    for code in declared:
        text = code_text(code)
        if text is None or text in known:
            continue
        number = code if isinstance(code, int | float) else None
        in_range = number is not None and any(lo <= number <= hi for lo, hi in ranges)
        if in_range and text not in labels:
            continue  # an unlabelled value inside a declared range: the range covers it
        codes.append((text, labels.get(text, text)))
        known.add(text)
    spans = list(f.missing_ranges)
    for lo, hi in ranges:
        if not any(lo == a and hi == b for a, b, _ in spans):
            spans.append((lo, hi, range_label(lo, hi)))
    if len(codes) == len(f.missing_values) and len(spans) == len(f.missing_ranges):
        return f
    return dataclasses.replace(f, missing_values=tuple(codes), missing_ranges=tuple(spans))


def with_file_missing(codebook: Codebook, table: RawTable) -> Codebook:
    """The codebook with the file's own user-missing codes and ranges added to its fields.

    Codes come from the file's declarations (SPSS missing values and ranges, Stata/SAS tagged
    missings), read under each field's raw column (`x-source-name`); a code's label is the
    file's value label for it, else the code itself. The codebook's own codes and labels win.
    """
    fields = {name: _with_file_codes(f, table) for name, f in codebook.fields.items()}
    return dataclasses.replace(codebook, fields=fields)


def validate(
    table: RawTable,
    codebook: Codebook,
    *,
    dataset: str,
    file: str,
    on_row_error: str = "quarantine",
) -> ValidationResult:
    """Check a raw table against its codebook.

    Returns the rows without problems (codebook columns only, values as stored, plus `_row`, the
    1-based data row in the raw file), the quarantine (one row per problem: file, row, column,
    value, rule, message) and a report whose counts reconcile (rows_in = rows_valid +
    rows_quarantined). A wave named by its year (`2025.sav`) is checked against it: dates after
    the next year and rows whose `wave` column says another year are quarantined, a file whose
    wave column mostly says another year is refused, IDs carrying another year are warned of
    (see `wave_year`). Raises StructuralError for problems of the whole table, and
    WpsInputError for row-level problems when `on_row_error="fail"`.
    """
    if on_row_error not in ("quarantine", "fail"):
        raise ValueError(f"on_row_error must be 'quarantine' or 'fail', not {on_row_error!r}")
    refuse_undecided(codebook, dataset, file)
    data = table.data.reset_index(drop=True)
    _check_structure_of_raw_names(data, dataset, file)
    data = apply_column_mapping(data, codebook, dataset, file)
    check_label_agreement(table, codebook, dataset, file)
    own_codebook = codebook
    codebook = with_file_missing(codebook, table)
    _check_structure(data, codebook, dataset, file)
    present = [n for n in codebook.fields if n in data.columns]
    unknown = [str(c) for c in data.columns if str(c) not in codebook.fields]
    missing_optional = [n for n in codebook.fields if n not in data.columns]
    required = set(_required_fields(codebook))

    year = wave_year(file)
    parsed: dict[str, ParsedColumn] = {}
    problems: list[dict] = []
    for name in present:
        field = codebook.fields[name]
        parsed[name] = parse_column(data[name], field)
        _check_type_usable(name, field, parsed[name], data[name], dataset, file)
        if name in required:
            problems += _required_problems(name, parsed[name])
        problems += _row_problems(name, field, parsed[name], data[name])
        problems += _late_date_problems(name, field, parsed[name], data[name], year)
    problems += _key_problems(codebook, parsed)
    wave_problems = _other_wave_problems(codebook, parsed, data, year)
    refuse_other_wave_file(wave_problems, len(data), dataset, file)
    problems += wave_problems

    quarantine = pd.DataFrame(problems, columns=QUARANTINE_COLUMNS[1:])
    quarantine.insert(0, "file", file)
    quarantine = quarantine.astype({"row": "int64"}).sort_values(
        ["row", "column", "rule"], kind="mergesort"
    )
    quarantine = quarantine.reset_index(drop=True)[QUARANTINE_COLUMNS]
    if on_row_error == "fail" and len(quarantine):
        raise _fail_on_rows(quarantine, dataset, file)

    kept = np.ones(len(data), dtype=bool)
    kept[quarantine["row"].to_numpy(dtype=np.int64) - 1] = False
    keep = np.flatnonzero(kept)
    valid = data[present] if kept.all() else data.iloc[keep][present]
    valid.insert(0, ROW_COLUMN, pd.Series(keep + 1, index=valid.index, dtype="int64"))
    valid = valid.reset_index(drop=True)
    warnings = _warnings(table, own_codebook, unknown, missing_optional)
    warnings += id_year_warnings(codebook, data, year)
    report = _report(
        dataset, file, len(data), len(valid), quarantine, unknown, missing_optional, warnings
    )
    fields = {name: codebook.fields[name] for name in present}
    return ValidationResult(valid, quarantine, report, parsed, fields, keep)


# --- wave consistency: dates, the wave column and respondent IDs against the file's wave ------

# A wave named by its year (2025, 2025-03, 2025b): the year its file name says.
WAVE_YEAR = re.compile(r"^((?:19|20|21)\d{2})(?!\d)")
# A year inside an identifier (OS2025-00017): four digits with no digit either side.
YEAR_IN_ID = re.compile(r"(?<!\d)((?:19|20|21)\d{2})(?!\d)")
# No survey date lies after this, whatever the wave; a date field's own codebook `maximum`
# takes its place. A wave named by its year also bounds its dates at the end of the next year.
LATEST_DATE = pd.Timestamp("2100-01-01")
DATE_YEARS_AFTER_WAVE = 1
WAVE_FIELD = "wave"


def wave_year(file: str) -> int | None:
    """The year a wave file's name says (`2025.sav` -> 2025), or None for other wave names."""
    match = WAVE_YEAR.match(Path(file).stem)
    return int(match.group(1)) if match else None


def latest_plausible_date(field: Field, year: int | None) -> pd.Timestamp | None:
    """The last date a date field may hold without its own maximum: LATEST_DATE, and for a wave
    named by its year the end of the year after it. None when the codebook sets a maximum."""
    if field.type not in ("date", "datetime") or field.maximum is not None:
        return None
    if year is None:
        return LATEST_DATE
    return min(LATEST_DATE, pd.Timestamp(year + DATE_YEARS_AFTER_WAVE + 1, 1, 1))


def _problem(name: str, field: Field, pos: int, value: Any, rule: str, text: str) -> dict:
    return {
        "row": pos + 1,
        "column": name,
        "value": _shown_value(value, field),
        "rule": rule,
        "message": f"column {name!r}, row {pos + 1}: {text}",
    }


def _late_date_problems(
    name: str, field: Field, parsed: ParsedColumn, raw: pd.Series, year: int | None
) -> list[dict]:
    """Dates after the wave's plausible horizon (a typo such as 2205 for 2025), one per row."""
    latest = latest_plausible_date(field, year)
    if latest is None:
        return []
    typed = parsed.typed
    late = typed.notna() & (pd.to_datetime(typed, errors="coerce") >= latest).fillna(False)
    after = f"after the wave {year}'s next year" if year is not None else "after 2099"
    return [
        _problem(
            name,
            field,
            int(pos),
            raw.iloc[pos],
            "date_too_late",
            f"{raw.iloc[pos]!s} is {after} (dates must be before {latest.date()}; set the "
            "field's maximum in codebook.json if later dates are right)",
        )
        for pos in np.flatnonzero(late.to_numpy(dtype=bool))
    ]


def _other_wave_problems(
    codebook: Codebook, parsed: dict[str, ParsedColumn], raw: pd.DataFrame, year: int | None
) -> list[dict]:
    """Rows whose `wave` column names a year other than the file's wave, one per row."""
    field = codebook.fields.get(WAVE_FIELD)
    if year is None or field is None or WAVE_FIELD not in parsed:
        return []
    values = pd.to_numeric(parsed[WAVE_FIELD].typed, errors="coerce")
    looks_like_year = values.between(1000, 2999)  # waves numbered 1, 2, 3 are not compared
    other = looks_like_year & (values != year)
    return [
        _problem(
            WAVE_FIELD,
            field,
            int(pos),
            raw[WAVE_FIELD].iloc[pos],
            "other_wave",
            f"the row says wave {values.iloc[pos]:g}, but the file is wave {year}",
        )
        for pos in np.flatnonzero(other.to_numpy(dtype=bool))
    ]


def refuse_other_wave_file(problems: list[dict], rows_in: int, dataset: str, file: str) -> None:
    """Refuse a file whose `wave` column says another wave in most rows: it is misnamed."""
    other = [p for p in problems if p["rule"] == "other_wave"]
    if not other or len(other) * 2 <= rows_in:
        return
    said = sorted({str(p["value"]) for p in other})
    raise StructuralError(
        f"the file is named as wave {wave_year(file)}, but its {WAVE_FIELD!r} column says "
        f"{', '.join(said)} in {len(other)} of {rows_in} rows: it is probably another wave's "
        "file under the wrong name",
        dataset=dataset,
        file=file,
        column=WAVE_FIELD,
        rows=[p["row"] for p in other][:10],
        hint="rename the file to the wave its data are from, or correct the wave column if the "
        "file name is right",
    )


def id_year_warnings(codebook: Codebook, data: pd.DataFrame, year: int | None) -> list[str]:
    """A warning when most respondent IDs carry a year other than the file's wave (OS2025-...
    in 2026.sav). Not refused: a panel keeps the IDs of the wave that recruited it."""
    id_field = codebook.role("id")
    if year is None or id_field is None or id_field not in data.columns:
        return []
    found = data[id_field].dropna().astype(str).str.extract(YEAR_IN_ID, expand=False).dropna()
    if found.empty or len(found) * 2 <= len(data):
        return []
    commonest = found.value_counts().idxmax()
    share = int((found == commonest).sum())
    if int(commonest) == year:
        return []
    return [
        f"{share} of {len(data)} values of {id_field!r} carry the year {commonest} (e.g. "
        f"{commonest} inside the ID), but the file is wave {year}: check that the file is this "
        "wave's (rename it if not); a panel that keeps its first wave's IDs may ignore this"
    ]
