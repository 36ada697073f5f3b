"""Draft a codebook from a data file, and say what is still to decide: `wps codebook`.

`wps codebook draft FILE [--dataset NAME] [--out PATH]` reads FILE with the project's reader for
its format (analysis.io.read_raw: the same one ingest uses) and writes a Frictionless Table
Schema in the project's codebook format (analysis/schemas/codebook.schema.json): one field per
column with its type, variable label (title), value labels (categories), user-missing codes
(missingValues) and ranges (x-missing-ranges), the source software's display format (x-format),
and `x-source-name` where the column's name is not a valid field name (`sch.wide` -> field
`sch_wide`). Fields that look like direct identifiers, by name (name, phone, e-mail, address,
comment...) or by content (e-mail addresses, long digit strings, free text, nearly every value
different), are marked `x-identifier: review` with `x-identifier-reason`; a person decides.
No data value is ever written into the codebook. The data file is only read, never changed.

`wps codebook check CODEBOOK` lists every field still marked `review` and exits 1 while any
remain (2 when the codebook itself is invalid, 0 when nothing is left to decide). Validation
refuses a codebook with `review` fields, so nothing undecided reaches the cleaned tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.atomic import atomic_write
from analysis.errors import CodebookError, WpsInputError
from analysis.io import RawTable, read_raw
from analysis.io.statfiles import date_kind
from analysis.validate.codebook import UNDECIDED, codebook_from_dict, load_codebook
from analysis.validate.wave import code_text

VALID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Cells that mean "no value" in CSV exports from R, SPSS and spreadsheets.
NA_TOKENS = {"NA": "not available (NA in the file)", "N/A": "not available (N/A in the file)",
             "#NULL!": "system-missing (#NULL! in the file)"}  # fmt: skip
# Name words that suggest a direct identifier, with the reason shown to the user.
NAME_WORDS: dict[str, str] = {
    **dict.fromkeys(("name", "names", "surname", "firstname", "lastname", "fullname", "forename",
                     "givenname", "nom", "nombre", "nama"), "personal name"),
    **dict.fromkeys(("phone", "telephone", "tel", "mobile", "cellphone", "whatsapp", "fax"),
                    "phone number"),
    **dict.fromkeys(("email", "mail"), "e-mail address"),
    **dict.fromkeys(("address", "street", "addr", "postcode", "zipcode", "village"),
                    "address or small place"),
    **dict.fromkeys(("passport", "ssn", "nid", "nin", "idcard", "licence", "license"),
                    "official identity number"),
    **dict.fromkeys(("dob", "birthdate", "birthday"), "date of birth"),
    **dict.fromkeys(("gps", "latitude", "longitude", "lat", "lon", "lng", "coordinates"),
                    "precise location"),
    **dict.fromkeys(("ip", "ipaddress"), "network address"),
    **dict.fromkeys(("comment", "comments", "note", "notes", "remark", "remarks", "verbatim",
                     "quote", "quotes", "specify", "describe", "narrative", "story", "text"),
                    "free text, which may name people or places"),
}  # fmt: skip
ID_WORDS = {"id", "uuid", "respondent", "responseid", "caseid", "serial", "pid", "hhid"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]{2,}$")
LONG_DIGITS = re.compile(r"^\+?[\d\s().\-/]{7,}$")
MIN_ROWS_FOR_CONTENT = 10
DISTINCT_SHARE = 0.9
FREE_TEXT_MEAN_CHARS = 30
CONTENT_SHARE = 0.5


# --- names -----------------------------------------------------------------------------------


def field_name(column: str, index: int, used: set[str]) -> str:
    """A valid, unused field name for a raw column (`sch.wide` -> `sch_wide`)."""
    if VALID_NAME.match(column) and column not in used:
        return column
    ascii_text = unicodedata.normalize("NFKD", column).encode("ascii", "ignore").decode()
    name = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", ascii_text)).strip("_")
    if not name:
        name = f"var_{index + 1}"
    elif name[0].isdigit():
        name = f"v_{name}"
    base, n = name, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    return name


def name_words(column: str) -> list[str]:
    """The words of a column name: `respondentName`, `e-mail`, `first_name` -> lower-case words."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", column)
    words = [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]
    joined = "".join(words)
    return [*words, joined] if len(words) > 1 else words


# --- types and codes -------------------------------------------------------------------------


def _present_values(series: pd.Series, missing: set[str]) -> list[Any]:
    """Non-blank values that are not user-missing codes."""
    out = []
    for value in series.tolist():
        text = code_text(value)
        if text is None or text == "" or text in missing:
            continue
        out.append(value)
    return out


def field_type(series: pd.Series, values: list[Any], had_na_tokens: bool = False) -> str:
    """The codebook type that fits every present value (string when nothing else does).

    Text cells are read as numbers only when `NA`-like tokens were what kept the reader from
    doing so (an R export); text the reader kept on purpose (leading zeros, long IDs) stays.
    """
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "datetime"
    if not values:
        return "number" if pd.api.types.is_numeric_dtype(series.dtype) else "string"
    if all(isinstance(v, dt.datetime) for v in values):
        return "datetime"
    if all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in values):
        return "date"
    if all(isinstance(v, bool | np.bool_) for v in values):
        return "boolean"
    numbers = [v for v in values if isinstance(v, int | float | np.integer | np.floating)]
    if len(numbers) == len(values) and not any(isinstance(v, bool | np.bool_) for v in values):
        floats = np.asarray(numbers, dtype=float)
        if not np.isfinite(floats).all():
            return "number"
        return "integer" if bool((floats % 1 == 0).all()) else "number"
    if all(isinstance(v, str) for v in values) and had_na_tokens:
        return _text_type(values)
    return "string"


TEXT_INTEGER = re.compile(r"^[+-]?(?:0|[1-9]\d{0,14})$")  # no leading zeros: "007" is a code
TEXT_DECIMAL = re.compile(r"^[+-]?(?:0|[1-9]\d*)?\.\d+(?:[eE][+-]?\d+)?$")


def _text_type(values: list[str]) -> str:
    """Text cells that are all integers or all decimals (a CSV with `NA` in it), else string."""
    if all(TEXT_INTEGER.match(v) for v in values):
        return "integer"
    if all(TEXT_INTEGER.match(v) or TEXT_DECIMAL.match(v) for v in values):
        return "number"
    return "string"


def _typed_code(code: Any, ftype: str) -> Any:
    """A code as JSON for `categories`: integers for integer fields, text for string fields."""
    if ftype == "integer":
        return int(float(code))
    if ftype == "number":
        return float(code)
    if ftype == "boolean":
        return bool(code)
    return str(code_text(code))


def _missing_spec(table: RawTable, column: str, series: pd.Series) -> list[dict[str, str]]:
    """User-missing codes the file declares, labelled: codes inside a declared range only when
    the file labels them (97 'Don't know' and 98 'Refused' in 97 thru 99 keep their reasons)."""
    value_labels = table.value_labels.get(column) or {}
    labels = {code_text(k): str(v) for k, v in value_labels.items()}
    ranges = table.missing_ranges.get(column) or []

    def in_range(code: Any) -> bool:
        return isinstance(code, int | float) and any(lo <= code <= hi for lo, hi in ranges)

    spec: list[dict[str, str]] = []
    for code in table.missing_codes.get(column) or []:
        if in_range(code):
            continue
        text = str(code_text(code))
        spec.append({"value": text, **({"label": labels[text]} if text in labels else {})})
    for code in sorted(k for k in value_labels if in_range(k)):
        spec.append({"value": str(code_text(code)), "label": labels[code_text(code)]})
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        present = {str(v) for v in series.dropna().unique()}
        for token, label in NA_TOKENS.items():
            if token in present and all(s["value"] != token for s in spec):
                spec.append({"value": token, "label": label})
    return spec


def _range_spec(table: RawTable, column: str) -> list[dict[str, Any]]:
    labels = table.value_labels.get(column) or {}
    spec = []
    for lo, hi in table.missing_ranges.get(column) or []:
        item: dict[str, Any] = {"low": _plain_number(lo), "high": _plain_number(hi)}
        inside = {str(v) for k, v in labels.items() if isinstance(k, int | float) and lo <= k <= hi}
        if len(inside) == 1:
            item["label"] = inside.pop()
        spec.append(item)
    return spec


def _plain_number(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


def _categories(
    table: RawTable, column: str, ftype: str, values: list[Any], missing: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(categories, partial labels): categories when every present value has a label."""
    labels = table.value_labels.get(column) or {}
    coded = [(k, str(v)) for k, v in labels.items() if code_text(k) not in missing]
    coded = [(k, v) for k, v in coded if not (isinstance(k, str) and k.startswith("."))]
    if not coded or ftype in ("date", "datetime"):
        return [], []
    try:
        spec = [{"value": _typed_code(k, ftype), "label": v} for k, v in coded]
    except (TypeError, ValueError):
        return [], [{"value": str(code_text(k)), "label": v} for k, v in coded]
    known = {code_text(k) for k, _v in coded}
    if all(code_text(v) in known for v in values):
        return spec, []
    return [], [{"value": str(code_text(k)), "label": v} for k, v in coded]


# --- identifiers -----------------------------------------------------------------------------


LABEL_KINDS = {"personal name", "phone number", "e-mail address"}


def reason_by_name(column: str, label: str) -> str | None:
    """Why a column's name (or its label: names, phones, e-mails) suggests an identifier."""
    for word in name_words(column):
        if word in NAME_WORDS:
            return f"its name suggests a {NAME_WORDS[word]} ({column!r})"
    for word in name_words(label):
        if NAME_WORDS.get(word) in LABEL_KINDS:
            return f"its label suggests a {NAME_WORDS[word]}"
    return None


def reason_by_content(values: list[Any], ftype: str) -> str | None:
    """Why a column's values look like direct identifiers, without quoting any value."""
    if ftype != "string" or len(values) < MIN_ROWS_FOR_CONTENT:
        return None
    texts = [str(v).strip() for v in values]
    n = len(texts)
    share = lambda pattern: sum(bool(pattern.match(t)) for t in texts) / n  # noqa: E731
    if share(EMAIL) >= CONTENT_SHARE:
        return "its values look like e-mail addresses"
    if share(LONG_DIGITS) >= CONTENT_SHARE:
        return "its values are numbers of 7 or more digits: phone numbers or record IDs"
    distinct = len(set(texts))
    mean_chars = sum(len(t) for t in texts) / n
    if mean_chars >= FREE_TEXT_MEAN_CHARS and distinct / n >= CONTENT_SHARE:
        return (
            f"long text ({mean_chars:.0f} characters on average) with {distinct} different "
            f"values in {n} rows: free text, which may name people or places"
        )
    if distinct / n >= DISTINCT_SHARE:
        return f"{distinct} different values in {n} rows: could be names or record IDs"
    return None


def _id_like(column: str) -> bool:
    return any(w in ID_WORDS or w.endswith("id") and len(w) <= 12 for w in name_words(column))


def identifier_reason(column: str, label: str, values: list[Any], ftype: str) -> str | None:
    """Why the field should be reviewed as a possible identifier, or None."""
    reasons = [r for r in (reason_by_name(column, label), reason_by_content(values, ftype)) if r]
    if not reasons and _id_like(column):
        reasons.append(f"its name suggests a record ID ({column!r}): indirect if it can be linked "
                       "to a person (pseudonymised in cleaning), none if not")  # fmt: skip
    return "; ".join(reasons) or None


# --- the draft -------------------------------------------------------------------------------


def draft_field(table: RawTable, column: str, name: str) -> dict[str, Any]:
    """One field of the draft from one raw column and the file's metadata about it."""
    series = table.data[column]
    missing = _missing_spec(table, column, series)
    ranges = _range_spec(table, column)
    missing_texts = {m["value"] for m in missing}
    values = _present_values(series, missing_texts)
    if ranges:
        values = [v for v in values if not _in_ranges(v, ranges)]
    ftype = field_type(series, values, any(m["value"] in NA_TOKENS for m in missing))
    fmt = (table.file_info.get("formats") or {}).get(column)
    if not values and ftype == "string" and fmt and _numeric_format(str(fmt)):
        ftype = "number"  # only missing values here, but the file stores numbers
    if ftype == "datetime" and fmt and date_kind(str(fmt), table.source_format) == "date":
        ftype = "date"  # a date format, which the reader gives as datetimes at midnight
    spec: dict[str, Any] = {"name": name, "type": ftype}
    label = table.variable_labels.get(column, "")
    if label:
        spec["title"] = label
    if name != column:
        spec["x-source-name"] = column
    if fmt:
        spec["x-format"] = str(fmt)
    categories, partial = _categories(table, column, ftype, values, missing_texts)
    if categories:
        spec["categories"] = categories
    if partial:
        spec["x-value-labels"] = partial
    if missing:
        spec["missingValues"] = missing
    if ranges:
        spec["x-missing-ranges"] = ranges
    reason = identifier_reason(column, label, values, ftype)
    spec["x-identifier"] = UNDECIDED if reason else "none"
    if reason:
        spec["x-identifier-reason"] = reason
    return spec


def _numeric_format(fmt: str) -> bool:
    """A display format of numbers: Stata `%9.0g` (not `%9s`), SPSS/SAS `F8.2` (not `A8`)."""
    if fmt.startswith("%"):
        return not fmt.rstrip().endswith("s")
    return not fmt.upper().startswith(("A", "$"))


def _in_ranges(value: Any, ranges: list[dict[str, Any]]) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return any(r["low"] <= number <= r["high"] for r in ranges)


def dataset_name(path: Path, given: str | None) -> str:
    """The dataset's name: --dataset, else the file's folder (data/raw/<dataset>/<wave>.sav)."""
    if given:
        if not re.match(r"^[a-z][a-z0-9_]*$", given):
            raise WpsInputError(
                f"dataset name {given!r} is not allowed",
                dataset=given,
                hint="use lower-case letters, digits and _ only, starting with a letter",
            )
        return given
    base = path.parent.name or path.stem
    name = re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", base.lower())).strip("_")
    return name if name and name[0].isalpha() else f"dataset_{name}".rstrip("_")


def _primary_key(fields: list[dict[str, Any]], table: RawTable) -> list[str]:
    """The one ID-like column that is complete and unique, if there is exactly one."""
    found = []
    for f in fields:
        column = f.get("x-source-name", f["name"])
        series = table.data[column]
        if _id_like(column) and series.notna().all() and series.is_unique and len(series):
            found.append(f["name"])
    return found if len(found) == 1 else []


def _na_tokens_seen(fields: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The not-available tokens (NA, N/A, ...) the file used in any column, for the table."""
    seen = {
        m["value"]
        for f in fields
        for m in f.get("missingValues") or []
        if isinstance(m, dict) and m.get("value") in NA_TOKENS
    }
    return [{"value": token, "label": NA_TOKENS[token]} for token in sorted(seen)]


def draft_codebook(
    path: Path, dataset: str | None = None, sheet: str | None = None
) -> dict[str, Any]:
    """A complete codebook (dict) drafted from one data file; checked against the schema."""
    path = Path(path)
    name = dataset_name(path, dataset)
    table = read_raw(path, name, sheet=sheet)
    used: set[str] = set()
    fields = []
    for index, column in enumerate(str(c) for c in table.data.columns):
        field = field_name(column, index, used)
        used.add(field)
        fields.append(draft_field(table, column, field))
    n_review = sum(f["x-identifier"] == UNDECIDED for f in fields)
    spec: dict[str, Any] = {"name": name}
    if table.file_info.get("file_label"):
        spec["title"] = str(table.file_info["file_label"])
    spec["description"] = (
        f"Drafted by `wps codebook draft` from {path.name} ({len(table.data)} rows, "
        f"{len(fields)} columns). {n_review} field(s) are marked x-identifier: review: decide "
        "each (direct, indirect or none), check types, categories and missing codes, then run "
        "`wps codebook check`."
    )
    key = _primary_key(fields, table)
    if key:
        spec["primaryKey"] = key
    na_seen = _na_tokens_seen(fields)
    if na_seen:
        # R and Stata exports write NA for a missing cell in any column: a later wave's NA in a
        # column that had none in this file is missing too, not a wrong value
        spec["missingValues"] = na_seen
    spec["fields"] = fields
    codebook_from_dict(spec, f"draft of {path}")  # never hand out a codebook that would not load
    return spec


def write_draft(spec: dict[str, Any], out: Path, source: Path, force: bool) -> Path:
    """Write the draft as JSON; never over the data file, nor over a codebook unless `force`."""
    if out.resolve() == source.resolve():
        raise WpsInputError(
            "the output path is the data file itself",
            file=str(source),
            hint="give --out a codebook path (e.g. data/raw/<dataset>/codebook.json)",
        )
    if out.exists() and not force:
        raise WpsInputError(
            "a codebook already exists there; it was left as it is",
            file=str(out),
            hint="give another --out, or add --force to replace it",
        )
    text = json.dumps(spec, indent=2, ensure_ascii=False) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# --- wps codebook ----------------------------------------------------------------------------


def undecided_fields(path: Path) -> list[tuple[str, str]]:
    """(field, reason) for every field of a codebook still marked `x-identifier: review`."""
    codebook = load_codebook(path)
    return [(f.name, f.identifier_reason or "no reason given") for f in codebook.undecided()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`wps codebook draft ...` and `wps codebook check ...`."""
    sub = parser.add_subparsers(dest="codebook_command", metavar="ACTION", required=True)
    draft = sub.add_parser("draft", help="write a codebook drafted from a data file")
    draft.add_argument("file", type=Path, help="the data file (.sav, .dta, .csv, .xlsx ...)")
    draft.add_argument("--dataset", help="dataset name (default: the file's folder name)")
    draft.add_argument(
        "--out", help="where to write it (default: codebook.json beside the file; - for stdout)"
    )
    draft.add_argument("--sheet", help="the sheet to read from an .xlsx file")
    draft.add_argument("--force", action="store_true", help="replace an existing codebook")
    check = sub.add_parser("check", help="list what is still to decide in a codebook")
    check.add_argument("codebook", type=Path, help="the codebook.json to check")


def _run_draft(args: argparse.Namespace) -> int:
    source = Path(args.file)
    spec = draft_codebook(source, args.dataset, args.sheet)
    if args.out == "-":
        sys.stdout.write(json.dumps(spec, indent=2, ensure_ascii=False) + "\n")
        return 0
    out = Path(args.out) if args.out else source.parent / "codebook.json"
    write_draft(spec, out, source, args.force)
    n_review = sum(f["x-identifier"] == UNDECIDED for f in spec["fields"])
    print(f"wrote {out}: {len(spec['fields'])} fields, {n_review} to review")
    if n_review:
        print(f"next: decide each x-identifier: review, then run `wps codebook check {out}`")
    return 0


def _run_check(args: argparse.Namespace) -> int:
    try:
        left = undecided_fields(args.codebook)
    except CodebookError as err:
        print(f"wps codebook check: {err}", file=sys.stderr)
        return 2
    if not left:
        print(f"{args.codebook}: nothing left to decide")
        return 0
    print(f"{args.codebook}: {len(left)} field(s) still to decide (x-identifier: review):")
    for name, reason in left:
        print(f"  {name}: {reason}")
    print(
        "set each to direct (dropped in cleaning), indirect (pseudonymised ID, or dropped) or "
        "none (kept as is); validation refuses the codebook until none is left"
    )
    return 1


def run(args: argparse.Namespace) -> int:
    """Run `wps codebook draft|check`; bad input prints one message and returns 2."""
    try:
        if args.codebook_command == "draft":
            return _run_draft(args)
        return _run_check(args)
    except WpsInputError as err:
        print(f"wps codebook {args.codebook_command}: {err}", file=sys.stderr)
        return 2
