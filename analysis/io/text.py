"""Read CSV files: detect the encoding and delimiter, infer numbers only where lossless."""

from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path

import pandas as pd

from analysis.errors import IngestError, IngestWarning
from analysis.io.table import RawTable

# numbers whose text survives the conversion: no leading zeros ("007"), no thousands separators
_INTEGER = re.compile(r"^[+-]?(?:0|[1-9]\d{0,14})$")
_DECIMAL = re.compile(
    r"""^[+-]?(?:
        (?:(?:0|[1-9]\d*)?\.\d+ | (?:0|[1-9]\d*)\.\d*)(?:[eE][+-]?\d+)?  # 1.5  .5  1.  1.5e3
        | (?:0|[1-9]\d*)[eE][+-]?\d+                                     # 1e5
    )$""",
    re.VERBOSE,
)
_MAX_DIGITS = 15  # more significant digits than a float keeps: leave the text alone
_DELIMITERS = ",;\t|"


def decode(raw: bytes, path: Path, dataset: str = "") -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM) or UTF-16 (BOM); else cp1252/latin-1 + warn."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    for encoding in ("cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        line = raw.count(b"\n", 0, bad_at) + 1
        warnings.warn(
            f"{dataset + ': ' if dataset else ''}{path}: not valid UTF-8 (first bad byte on line "
            f"{line}); read as {encoding}. Check accented text, or save the file as UTF-8.",
            IngestWarning,
            stacklevel=3,
        )
        return text, encoding
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        found = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","
    first = text.splitlines()[0] if text else ""
    if found != "," and first.count(found) <= first.count(","):
        return ","
    return found


def _is_plain_number(text: str) -> bool:
    if _INTEGER.match(text):
        return True
    if not _DECIMAL.match(text):
        return False
    mantissa = re.split("[eE]", text)[0]
    return len(mantissa.lstrip("+-.0").replace(".", "")) <= _MAX_DIGITS


def _infer(column: pd.Series) -> pd.Series:
    """Numbers where every non-empty cell is a plain number; the text itself otherwise."""
    present = column.dropna()
    if present.empty:
        return column
    text = present.astype(str)
    if text.map(lambda s: bool(_INTEGER.match(s))).all():
        return pd.to_numeric(column)
    if text.map(_is_plain_number).all():
        return pd.to_numeric(column).astype("float64")
    return column


def read_csv(path: Path, dataset: str = "") -> RawTable:
    """Read a CSV file; only empty cells become missing ("NA", "null" stay text)."""
    text, encoding = decode(path.read_bytes(), path, dataset)
    if not text.strip():
        raise IngestError(
            "the file holds no data (only blank space)",
            dataset=dataset,
            file=path,
            hint="export the data again and replace the file",
        )
    delimiter = _delimiter(text)
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise IngestError(
            f"cannot be parsed as CSV ({str(exc).strip()})",
            dataset=dataset,
            file=path,
            hint="check that every row has as many fields as the header and quotes are closed",
        ) from exc
    names = [str(c) for c in df.columns]
    unnamed = [n for n in names if n.startswith("Unnamed: ")]
    if (
        unnamed
        or len(set(df.columns)) != len(df.columns)
        or any(re.search(r"\.\d+$", n) and n.rsplit(".", 1)[0] in names for n in names)
    ):
        _check_header(text, delimiter, path, dataset)
    for col in df.columns:
        df[col] = _infer(df[col])
    info = {"delimiter": delimiter}
    return RawTable(data=df, source_format="csv", encoding=encoding, file_info=info)


def _check_header(text: str, delimiter: str, path: Path, dataset: str) -> None:
    """Refuse empty or repeated column names (pandas would rename them silently)."""
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if not name.strip():
            raise IngestError(
                f"the header has an empty column name (field {position})",
                dataset=dataset,
                file=path,
                hint="give every column a name in the first line",
            )
        if name in seen:
            raise IngestError(
                f"the header repeats the column name {name!r} (fields {seen[name]} and {position})",
                dataset=dataset,
                file=path,
                column=name,
                hint="give every column a distinct name",
            )
        seen[name] = position
