"""Read SPSS, Stata and SAS files with pyreadstat, keeping labels and user-missing codes."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat

from analysis.errors import IngestError, IngestWarning
from analysis.io.table import RawTable

READERS: dict[str, Callable[..., tuple[pd.DataFrame, Any]]] = {
    "sav": pyreadstat.read_sav,
    "zsav": pyreadstat.read_sav,
    "por": pyreadstat.read_por,
    "dta": pyreadstat.read_dta,
    "sas7bdat": pyreadstat.read_sas7bdat,
    "xpt": pyreadstat.read_xport,
}
KEEPS_USER_MISSING = {"sav", "zsav", "dta", "sas7bdat"}
TAGGED_MISSING = {"dta", "sas7bdat"}  # letters .a-.z (Stata), .A-.Z and ._ (SAS)
NAMES = {
    "sav": "SPSS .sav",
    "zsav": "SPSS .zsav",
    "por": "SPSS portable .por",
    "dta": "Stata .dta",
    "sas7bdat": "SAS .sas7bdat",
    "xpt": "SAS transport .xpt",
}

# date formats as pyreadstat classifies them (used when we convert dates ourselves)
_FORMAT_NAME = re.compile(r"^([A-Z][A-Z0-9]+[A-Z])(\d+)?(?:\.\d+)?$")
_SPSS = {"date": {"DATE", "ADATE", "EDATE", "JDATE", "SDATE"},
         "datetime": {"DATETIME", "YMDHMS"}, "time": {"TIME", "DTIME"}}  # fmt: skip
_SAS = {
    "date": {"WEEKDATE", "MMDDYY", "DDMMYY", "YYMMDD", "DATE", "DDMMYYB", "DDMMYYC", "DDMMYYD",
             "DDMMYYN", "DDMMYYP", "DDMMYYS", "MMDDYYB", "MMDDYYC", "MMDDYYD", "MMDDYYN",
             "MMDDYYP", "MMDDYYS", "WEEKDATX", "DTDATE", "IS8601DA", "E8601DA", "B8601DA",
             "YYMMDDB", "YYMMDDD", "YYMMDDN", "YYMMDDP", "YYMMDDS"},
    "datetime": {"DATETIME", "E8601DT", "DATEAMPM", "MDYAMPM", "IS8601DT", "B8601DT", "B8601DN"},
    "time": {"TIME", "HHMM", "TOD", "TIMEAMPM", "IS8601TM", "E8601TM", "B8601TM"},
}  # fmt: skip
_STATA = {"date": {"%td", "%d", "%tdD_m_Y", "%tdCCYY-NN-DD"}, "datetime": {"%tC", "%tc"},
          "time": {"%tcHH:MM:SS", "%tcHH:MM"}}  # fmt: skip
_ORIGIN = {"spss": dt.datetime(1582, 10, 14), "other": dt.datetime(1960, 1, 1)}


def file_written_at(path: Path) -> dt.datetime | None:
    """When an SPSS, Stata or SAS file's header says it was written (None for other files, or
    a header without a time): the data's own date when no column holds one."""
    reader = READERS.get(Path(path).suffix.lower().lstrip("."))
    if reader is None:
        return None
    try:
        _, meta = reader(str(path), metadataonly=True)
    except Exception:  # noqa: BLE001 - an unreadable header has no date; ingest says why
        return None
    stamps = [getattr(meta, name, None) for name in ("modification_time", "creation_time")]
    return next((s for s in stamps if isinstance(s, dt.datetime)), None)


#: SPSS files, whose header gives the row count, are read in row chunks at once by a large
#: wave's job (the Stata and SAS readers' tagged missing values differ when read so).
CHUNKED_READS = {"sav", "zsav"}


def _chunk(reader: Callable, path: str, offset: int, limit: int, kwargs: dict) -> pd.DataFrame:
    frame, _meta = reader(path, row_offset=offset, row_limit=limit, **kwargs)
    return frame


def _read_in_chunks(reader: Callable, path: Path, processes: int, **kwargs: Any) -> tuple | None:
    """`reader(path, **kwargs)` as `processes` row chunks read at once, or None when that
    would not give the same frame: no row count in the header, or chunks whose columns came out
    of different types (a chunk with no date, one with a user-missing code in a date column)."""
    import multiprocessing

    _, meta = reader(str(path), metadataonly=True, **kwargs)
    rows = meta.number_rows
    if not rows or rows < 2 * processes:
        return None
    size = -(-rows // processes)
    jobs = [(reader, str(path), start, size, kwargs) for start in range(0, rows, size)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        parts = pool.starmap(_chunk, jobs)
    if any(list(part.dtypes) != list(parts[0].dtypes) for part in parts[1:]):
        return None
    return pd.concat(parts, ignore_index=True), meta


def _read(reader: Callable, path: Path, fmt: str, processes: int, **kwargs: Any) -> tuple:
    """`reader(path, **kwargs)`, in `processes` row chunks at once where that gives the same
    frame (`_read_in_chunks`): a large wave's job has the cores."""
    if processes > 1 and fmt in CHUNKED_READS:
        read = _read_in_chunks(reader, path, processes, **kwargs)
        if read is not None:
            return read
    return reader(str(path), **kwargs)


def read_stat_file(path: Path, fmt: str, dataset: str = "", *, processes: int = 1) -> RawTable:
    """Read one SPSS/Stata/SAS file (in `processes` row chunks at once, for the formats that
    allow it); never lets a pyreadstat exception escape."""
    reader = READERS[fmt]
    kwargs: dict[str, Any] = {"user_missing": True} if fmt in KEEPS_USER_MISSING else {}
    # date formats as datetime64 (midnight), converted in one NumPy step, not one Python date
    # object per cell (0.75 s of 5 s at 1,000,000 rows); `date_kind` of the column's format
    # still says it holds dates
    own_dates = False
    try:
        df, meta = _read(reader, path, fmt, processes, dates_as_pandas_datetime=True, **kwargs)
    except Exception as first:  # noqa: BLE001 - pyreadstat raises many types; retry then refuse
        try:
            df, meta = reader(str(path), disable_datetime_conversion=True, **kwargs)
        except Exception:  # noqa: BLE001
            raise _unreadable(path, fmt, dataset, first) from first
        own_dates = True
    declared = getattr(meta, "number_rows", None)
    if declared is not None and declared >= 0 and declared != len(df):
        raise IngestError(
            f"the file declares {declared} rows but only {len(df)} could be read; it is "
            "probably truncated",
            dataset=dataset,
            file=path,
            hint="export the data again from the source software and replace the file",
        )
    info: dict[str, Any] = {}
    if meta.file_label:
        info["file_label"] = meta.file_label
    if getattr(meta, "notes", None):
        info["notes"] = list(meta.notes)
    formats = {k: v for k, v in (meta.original_variable_types or {}).items() if v}
    if formats:
        info["formats"] = formats
    if own_dates:
        df = _convert_dates(df, formats, fmt, info, path, dataset)
    else:
        _dates_in_seconds(df, formats, fmt)

    value_labels = {
        col: {_plain(k): str(v) for k, v in labels.items()}
        for col, labels in (meta.variable_value_labels or {}).items()
    }
    missing_codes: dict[str, list[Any]] = {}
    missing_ranges: dict[str, list[tuple[Any, Any]]] = {}
    if fmt in TAGGED_MISSING:
        df, value_labels, missing_codes = _mark_tagged_missing(df, meta, value_labels)
    else:
        missing_codes, missing_ranges = _spss_missing(df, meta.missing_ranges or {})
    labels = {c: str(lab) for c, lab in (meta.column_names_to_labels or {}).items() if lab}
    return RawTable(
        data=df,
        variable_labels=labels,
        value_labels=value_labels,
        missing_codes=missing_codes,
        source_format=fmt,
        encoding=meta.file_encoding or None,
        missing_ranges=missing_ranges,
        file_info=info,
    )


def _unreadable(path: Path, fmt: str, dataset: str, exc: Exception) -> IngestError:
    detail = str(exc).strip() or type(exc).__name__
    return IngestError(
        f"cannot be read as {NAMES[fmt]} ({detail}); the file is probably damaged or truncated",
        dataset=dataset,
        file=path,
        hint="export the data again from the source software (or copy it again in full) and "
        "replace the file",
    )


def _plain(value: Any) -> Any:
    """numpy scalars to Python scalars (so labels and codes compare and serialise simply)."""
    return value.item() if isinstance(value, np.generic) else value


def _spss_missing(
    df: pd.DataFrame, ranges: dict[str, list[dict[str, Any]]]
) -> tuple[dict[str, list[Any]], dict[str, list[tuple[Any, Any]]]]:
    codes: dict[str, list[Any]] = {}
    spans: dict[str, list[tuple[Any, Any]]] = {}
    for col, entries in ranges.items():
        found: list[Any] = []
        for entry in entries:
            lo, hi = _plain(entry["lo"]), _plain(entry["hi"])
            if lo == hi:
                found.append(lo)
                continue
            spans.setdefault(col, []).append((lo, hi))
            values = pd.to_numeric(df[col], errors="coerce")
            found.extend(_plain(v) for v in values[(values >= lo) & (values <= hi)].unique())
        unique: list[Any] = []
        for value in found:
            if value not in unique:
                unique.append(value)
        codes[col] = sorted(unique, key=lambda v: (str(type(v)), v))
    return codes, spans


def _mark_tagged_missing(
    df: pd.DataFrame, meta: Any, value_labels: dict[str, dict[Any, str]]
) -> tuple[pd.DataFrame, dict[str, dict[Any, str]], dict[str, list[Any]]]:
    """Write Stata/SAS tagged missings as ``.a``/``.A``/``._`` so they never pass as values."""
    types = meta.readstat_variable_types or {}
    codes: dict[str, list[Any]] = {}
    for col, tags in (meta.missing_user_values or {}).items():
        if types.get(col) == "string" or col not in df.columns:
            continue
        tagset = {str(t) for t in tags}
        series = df[col]
        mask = series.map(lambda v, s=tagset: isinstance(v, str) and v in s).astype(bool)
        if mask.any():
            series = series.astype(object)
            series[mask] = "." + series[mask].astype(str)
            df[col] = series
        codes[col] = sorted(f".{t}" for t in tagset)
    for col, labels in value_labels.items():
        if types.get(col, "string") != "string":
            value_labels[col] = {
                (f".{k}" if isinstance(k, str) and not k.startswith(".") else k): v
                for k, v in labels.items()
            }
    return df, value_labels, codes


def _dates_in_seconds(df: pd.DataFrame, formats: dict[str, str], fmt: str) -> None:
    """Date-format columns (read as datetime64 at midnight) to whole seconds, the unit of the
    dates the other readers give: the cleaned tables store them alike."""
    for col, fmt_string in formats.items():
        kind = date_kind(fmt_string, fmt) if col in df.columns else None
        if kind == "date" and pd.api.types.is_datetime64_dtype(df[col].dtype):
            df[col] = df[col].astype("datetime64[s]")


def date_kind(fmt_string: str, fmt: str) -> str | None:
    """The kind ("date", "datetime" or "time") of a date display format of a file of format `fmt`
    (sav, dta, sas7bdat...), else None."""
    if fmt == "dta":
        table = _STATA
        name = fmt_string
    else:
        match = _FORMAT_NAME.match(fmt_string.upper())
        if not match:
            return None
        name = match.group(1)
        table = _SPSS if fmt in {"sav", "zsav", "por"} else _SAS
    for kind, names in table.items():
        if name in names:
            return kind
    return None


def _convert_dates(
    df: pd.DataFrame, formats: dict[str, str], fmt: str, info: dict[str, Any], path: Path,
    dataset: str,
) -> pd.DataFrame:  # fmt: skip
    """Turn date numbers into dates ourselves; keep a column as numbers if a value won't fit."""
    spss = fmt in {"sav", "zsav", "por"}
    origin = _ORIGIN["spss" if spss else "other"]
    kept: dict[str, Any] = {}
    for col, fmt_string in formats.items():
        kind = date_kind(fmt_string, fmt)
        if kind is None or col not in df.columns:
            continue
        numbers = pd.to_numeric(df[col], errors="coerce")
        if numbers.isna().sum() > df[col].isna().sum():
            continue  # tagged missings or strings inside: leave the column as read
        # seconds per unit: SPSS counts seconds; Stata/SAS count days, Stata %tc milliseconds
        if kind == "date":
            unit = 1.0 if spss else 86400.0
        elif kind == "datetime":
            unit = 0.001 if fmt == "dta" else 1.0
        else:
            unit = 0.001 if fmt == "dta" else 1.0
        converted, bad = _to_dates(numbers, kind, unit, origin)
        if bad:
            unit_name = {1.0: "seconds", 86400.0: "days", 0.001: "milliseconds"}[unit]
            since = "" if kind == "time" else f" since {origin.date().isoformat()}"
            kept[col] = {"format": fmt_string, "unit": f"{unit_name}{since}", "rows": bad}
            continue
        df[col] = converted
    info["dates_converted_by"] = "wps-evidence (pyreadstat could not convert them)"
    if kept:
        info["dates_kept_as_numbers"] = kept
        warnings.warn(
            f"{dataset + ': ' if dataset else ''}{path}: date columns kept as raw numbers because "
            f"some values lie outside the representable range: {', '.join(sorted(kept))}",
            IngestWarning,
            stacklevel=3,
        )
    return df


def _to_dates(
    numbers: pd.Series, kind: str, unit: float, origin: dt.datetime
) -> tuple[pd.Series | list[Any], list[int]]:
    """Convert; return the converted column and the 1-based rows whose values do not fit."""
    micros = numbers.to_numpy(dtype="float64") * unit * 1e6
    bad: list[int] = []
    out: list[Any] = []
    origin_us = (origin - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)
    limit = 9.2e18
    for row, value in enumerate(micros, start=1):
        if np.isnan(value):
            out.append(None)
            continue
        if kind == "time":
            if not 0 <= value < 86400e6:
                bad.append(row)
                out.append(None)
                continue
            out.append((dt.datetime.min + dt.timedelta(microseconds=round(value))).time())
            continue
        since_unix = origin_us + round(value)
        if abs(since_unix) >= limit:
            bad.append(row)
            out.append(None)
            continue
        if kind == "date":
            try:
                out.append((origin + dt.timedelta(microseconds=round(value))).date())
            except OverflowError:
                bad.append(row)
                out.append(None)
            continue
        out.append(np.datetime64(since_unix, "us"))
    if kind == "datetime" and not bad:
        series = pd.Series(
            [np.datetime64("NaT", "us") if v is None else v for v in out],
            index=numbers.index,
            dtype="datetime64[us]",
        )
        return series, bad
    return pd.Series(out, index=numbers.index, dtype=object), bad
