"""Write and read an ingested wave: deterministic Parquet plus a JSON sidecar of metadata."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.errors import IngestError
from analysis.io.table import RawTable

META_VERSION = 1
_KEY_TYPES = {"int": int, "float": float, "str": str, "bool": lambda s: s == "True"}


def _is_null(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _null_mask(values: np.ndarray) -> np.ndarray:
    """Which cells of an object array `_is_null` calls missing: `pd.isna` finds candidates in
    C (it also counts pd.NA and NumPy's NaT as missing), and only those few are checked."""
    mask = np.asarray(pd.isna(values), dtype=bool).copy()
    for i in np.flatnonzero(mask):
        mask[i] = _is_null(values[i])
    return mask


def _null_marker(nulls: np.ndarray) -> str:
    """How an object column writes its missing cells (`nulls`: those cells): "none", "nan" or
    "nat" (the commonest)."""
    counts = {"none": 0, "nan": 0, "nat": 0}
    for value in nulls:
        if value is None:
            counts["none"] += 1
        elif value is pd.NaT:
            counts["nat"] += 1
        elif _is_null(value):
            counts["nan"] += 1
    return max(sorted(counts), key=lambda k: counts[k]) if any(counts.values()) else "none"


_NULLS = {"none": None, "nan": float("nan"), "nat": pd.NaT}


def _value_kind(value: Any) -> str:
    """The arrow kind of one non-null value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, dt.datetime):
        return "datetime" if value.tzinfo is None else "json"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    return "json"


def _object_kind(values: np.ndarray) -> str:
    """The one arrow type that holds every non-null value, or "json" for a mixture.

    A value's kind follows from its type, except a datetime's (time zone or not): one value of
    each type is looked at, every value only of datetime types."""
    last_of_type = dict(zip(map(type, values), values, strict=True))
    kinds = set()
    for kind_type, value in last_of_type.items():
        if issubclass(kind_type, dt.datetime):
            kinds.update(_value_kind(v) for v in values if type(v) is kind_type)
        else:
            kinds.add(_value_kind(value))
    if len(kinds) == 1:
        return kinds.pop()
    return "json"


def _encode(value: Any) -> str | None:
    """One cell of a mixed column as JSON text that records its type."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return json.dumps({"datetime": value.isoformat()})
    if isinstance(value, dt.date):
        return json.dumps({"date": value.isoformat()})
    if isinstance(value, dt.time):
        return json.dumps({"time": value.isoformat()})
    if isinstance(value, (bool, int, float, str)):
        return json.dumps(value)  # NaN is written as NaN, read back as float nan
    return json.dumps({"text": str(value)})


def _decode(text: Any) -> Any:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    value = json.loads(text)
    if isinstance(value, dict):
        ((kind, raw),) = value.items()
        parse = {
            "datetime": dt.datetime.fromisoformat,
            "date": dt.date.fromisoformat,
            "time": dt.time.fromisoformat,
            "text": str,
        }
        return parse[kind](raw)
    return value


def _arrow_column(series: pd.Series) -> tuple[pa.Array, str | None]:
    """An arrow array for one column; the second item names the encoding used, if any."""
    if series.dtype != object:
        if pd.api.types.is_float_dtype(series.dtype) and isinstance(series.dtype, np.dtype):
            return pa.array(series.to_numpy(), from_pandas=False), None  # NaN stays NaN
        return pa.array(series, from_pandas=True), None
    cells = series.to_numpy(dtype=object)
    null = _null_mask(cells)
    present = cells[~null]
    kind = _object_kind(present) if len(present) else "str"
    if any(issubclass(t, np.generic) for t in set(map(type, present))):
        values = [None if is_null else _plain(v) for v, is_null in zip(cells, null, strict=True)]
    else:
        values = np.where(null, None, cells).tolist()
    if kind == "json":
        return pa.array([_encode(v) for v in values], type=pa.string()), "json"
    arrow_type = {
        "bool": pa.bool_(),
        "int": pa.int64(),
        "float": pa.float64(),
        "str": pa.string(),
        "datetime": pa.timestamp("us"),
        "date": pa.date32(),
        "time": pa.time64("us"),
    }[kind]
    return pa.array(values, type=arrow_type), None


def _labels_to_json(labels: dict[str, dict[Any, str]]) -> dict[str, list[dict[str, str]]]:
    out = {}
    for col, mapping in labels.items():
        entries = []
        for key, label in mapping.items():
            key = _plain(key)
            entries.append({"value": str(key), "type": type(key).__name__, "label": label})
        out[col] = entries
    return out


def _labels_from_json(data: dict[str, list[dict[str, str]]]) -> dict[str, dict[Any, str]]:
    return {
        col: {_KEY_TYPES[e["type"]](e["value"]): e["label"] for e in entries}
        for col, entries in data.items()
    }


def _stored_form(table: RawTable, file: Path | None = None) -> tuple[pa.Table, dict[str, Any]]:
    """The table as Arrow columns and its metadata as the JSON sidecar's dict."""
    df = table.data
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        raise IngestError("column names repeat after ingest", file=file)
    arrays, encoded, nulls = [], {}, {}
    for name, col in zip(names, df.columns, strict=True):
        array, encoding = _arrow_column(df[col])
        arrays.append(array)
        if encoding:
            encoded[name] = encoding
        if df[col].dtype == object:
            cells = df[col].to_numpy(dtype=object)
            marker = _null_marker(cells[_null_mask(cells)])
            if marker != "none":
                nulls[name] = marker
    arrow = pa.Table.from_arrays(arrays, names=names) if names else pa.table({})
    sidecar = {
        "meta_version": META_VERSION,
        "source_format": table.source_format,
        "encoding": table.encoding,
        "n_rows": len(df),
        "columns": names,
        "dtypes": {name: str(df[col].dtype) for name, col in zip(names, df.columns, strict=True)},
        "encoded_columns": encoded,
        "object_nulls": nulls,
        "variable_labels": dict(table.variable_labels),
        "value_labels": _labels_to_json(table.value_labels),
        "missing_codes": {
            c: [_plain(v) for v in codes] for c, codes in table.missing_codes.items()
        },
        "missing_ranges": {
            c: [[_plain(lo), _plain(hi)] for lo, hi in spans]
            for c, spans in table.missing_ranges.items()
        },
        "file_info": table.file_info,
    }
    return arrow, sidecar


def _sidecar_text(sidecar: dict[str, Any]) -> str:
    return json.dumps(sidecar, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)


def write_ingested(table: RawTable, parquet: Path, meta: Path) -> None:
    """Write ``table`` as Parquet (no index, columns in order) and its metadata as JSON."""
    arrow, sidecar = _stored_form(table, parquet)
    parquet.parent.mkdir(parents=True, exist_ok=True)
    meta.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(arrow, parquet, compression="zstd", write_statistics=True)
    meta.write_text(_sidecar_text(sidecar) + "\n", encoding="utf-8")


def _restored(df: pd.DataFrame, info: dict[str, Any]) -> RawTable:
    """The table from its stored columns and sidecar: dtypes, label keys and mixed columns."""
    for col, encoding in info.get("encoded_columns", {}).items():
        if encoding == "json":
            df[col] = pd.Series([_decode(v) for v in df[col].tolist()], dtype=object)
    for col, dtype in info["dtypes"].items():
        if str(df[col].dtype) != dtype:
            df[col] = df[col].astype(dtype)
    for col, marker in info.get("object_nulls", {}).items():
        cells = df[col].to_numpy(dtype=object).copy()
        cells[_null_mask(cells)] = _NULLS[marker]
        df[col] = pd.Series(cells, index=df.index, dtype=object)
    return RawTable(
        data=df,
        variable_labels=info["variable_labels"],
        value_labels=_labels_from_json(info["value_labels"]),
        missing_codes=info["missing_codes"],
        source_format=info["source_format"],
        encoding=info["encoding"],
        missing_ranges={
            c: [tuple(s) for s in spans] for c, spans in info["missing_ranges"].items()
        },
        file_info=info["file_info"],
    )


def read_ingested(parquet: Path, meta: Path) -> RawTable:
    """Read what ``write_ingested`` wrote, restoring dtypes, label keys and mixed columns."""
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
        df = pq.read_table(parquet).to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise IngestError(
            f"cannot read the ingested wave ({exc})",
            file=parquet,
            hint="delete it and rerun the ingest step",
        ) from exc
    if list(df.columns) != info["columns"] or len(df) != info["n_rows"]:
        raise IngestError(
            f"the Parquet file does not match its sidecar {meta}",
            file=parquet,
            hint="delete both and rerun the ingest step",
        )
    return _restored(df, info)


def as_stored(table: RawTable) -> RawTable:
    """``table`` as `read_ingested` gives it back after `write_ingested`, without the disk: the
    metadata through its JSON sidecar (plain Python codes and label keys), object columns
    (Python values of any type) through Arrow; other columns come back as they are."""
    arrow, sidecar = _stored_form(table)
    info = json.loads(_sidecar_text(sidecar))
    df = table.data.copy(deep=False)
    df.columns = info["columns"]
    for i, name in enumerate(info["columns"]):
        if df[name].dtype == object:
            df[name] = arrow.column(i).to_pandas().set_axis(df.index)
    return _restored(df, info)
