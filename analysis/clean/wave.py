"""Clean a validated wave: types, user-missing codes to NA, labels, derived variables, and no
identifiers left (direct ones dropped, IDs pseudonymised, exact interviewee ages banded).

The output is deterministic: rows sorted by the (pseudonymised) primary key, columns in a fixed
order, nullable pandas dtypes (`Int64`, `Float64`, `string`, `boolean`, categories for labels).

Missing codes kept honestly: a user-missing code (the codebook's, or the file's own when the
caller passes the codebook through `analysis.validate.wave.with_file_missing`) becomes NA in its
column, and the reason stays beside it. Every kept field with user-missing codes or ranges gets a
column `<field>__missing` (string) holding the label of the code the raw cell had ("Don't know",
"Refused", "Not applicable"; the code itself when it has no label; `user-missing 2000 thru 3000`
for an unlabelled value in a range); it is empty where the cell held a value or was blank
(system-missing).
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.clean.derive import DROP_AFTER_DERIVE, derive
from analysis.clean.pseudonymise import HEX_CHARS, dataset_prefix, pseudonymise
from analysis.clean.redaction import (
    consented_and_deidentified,
    deidentified_free_text,
    identifiers_in,
    is_free_text,
    reads_like_free_text,
)
from analysis.errors import WpsInputError
from analysis.validate.codebook import Codebook, Field
from analysis.validate.wave import (
    ROW_COLUMN,
    Distinct,
    ParsedColumn,
    parse_column,
    text_series,
)

LABEL_SUFFIX = "_label"
MISSING_SUFFIX = "__missing"
SUMMARY_COLUMNS = ["dataset", "wave", "variable", "code", "label", "n"]
# Field properties carried into the cleaned codebook for kept fields.
KEPT_PROPERTIES = (
    "name",
    "type",
    "format",
    "title",
    "description",
    "constraints",
    "categories",
    "categoriesOrdered",
    "x-sensitive",
    "x-role",
)


@dataclass
class CleanResult:
    """Cleaned table, its Table Schema (dict) and user-missing counts."""

    data: pd.DataFrame
    codebook: dict[str, Any]
    missing_summary: pd.DataFrame


def is_pseudonymised(field: Field, codebook: Codebook) -> bool:
    """Indirect identifiers that are IDs get a pseudonym; other indirect ones are dropped."""
    if field.identifier != "indirect":
        return False
    return field.type == "string" or field.name in codebook.primary_key or field.role == "id"


def pseudonymised_fields(codebook: Codebook) -> list[str]:
    """Fields cleaning replaces by a keyed pseudonym. None (an aggregate table such as a results
    framework) means cleaning needs no pseudonymisation key at all."""
    return [n for n, f in codebook.fields.items() if is_pseudonymised(f, codebook)]


def _dropped(codebook: Codebook, dataset: str) -> set[str]:
    drop = set(codebook.direct_identifiers())
    drop |= {
        n
        for n in codebook.indirect_identifiers()
        if not is_pseudonymised(codebook.fields[n], codebook)
    }
    return drop | set(DROP_AFTER_DERIVE.get(dataset, ()))


def _label_column(typed: pd.Series, field: Field) -> pd.Series:
    labels = field.labels()
    categories = list(dict.fromkeys(labels.values()))
    # codes straight from the labels (what pd.Categorical(values, categories) computes), found
    # once per distinct value
    position = {label: i for i, label in enumerate(categories)}
    distinct = Distinct(typed)
    if distinct.mixed:
        values = typed.map(lambda v: None if pd.isna(v) else labels.get(v))
        label_codes = pd.Categorical(values, categories=categories).codes
    else:
        label_codes = distinct.map_array(
            lambda v: -1 if pd.isna(v) else position.get(labels.get(v), -1), np.int64
        )
    label = pd.Categorical.from_codes(label_codes, categories=categories)
    return pd.Series(label, index=typed.index)


def _missing_rows(field: Field, user_missing: pd.Series, text: pd.Series) -> list[dict]:
    counts = text[user_missing].value_counts()
    return [
        {"variable": field.name, "code": code, "label": label, "n": int(counts.get(code, 0))}
        for code, label in field.missing_labels().items()
    ]


def _missing_reason_column(field: Field, user_missing: pd.Series, text: pd.Series) -> pd.Series:
    """The label of the user-missing code each cell held; NA where it held no such code."""

    def reason(code: Any) -> str | None:
        if code is None or pd.isna(code):
            return None
        return field.missing_reason(str(code)) or str(code)

    # reason(NA) is None: only the codes cells held are looked up, once per distinct code
    held = user_missing.to_numpy(dtype=bool)
    codes = np.zeros(len(text), dtype=np.int64)
    held_codes, distinct = pd.factorize(text.to_numpy(dtype=object)[held], use_na_sentinel=False)
    codes[held] = held_codes
    return text_series([reason(code) for code in distinct], codes, held, text)


def _missing_reason_schema(field: Field) -> dict[str, Any]:
    ranges = [label for _low, _high, label in field.missing_ranges]
    labels = list(dict.fromkeys([*field.missing_labels().values(), *ranges]))
    return {
        "name": field.name + MISSING_SUFFIX,
        "type": "string",
        "title": f"{field.title or field.name} (why missing)",
        "description": f"Label of the user-missing code {field.name} held in the raw file "
        f"(e.g. don't know, refused); empty where {field.name} has a value or was blank.",
        "constraints": {"enum": labels},
        "x-derived": True,
        "x-derived-from": [field.name],
        "x-identifier": "none",
        "x-sensitive": field.sensitive,
    }


def _has_missing_codes(field: Field) -> bool:
    return bool(field.missing_labels() or field.missing_ranges)


def _kept_schema(field: Field) -> dict[str, Any]:
    spec = {k: copy.deepcopy(field.raw[k]) for k in KEPT_PROPERTIES if k in field.raw}
    # user-missing codes are NA now, so a field required in the raw file may have gaps
    constraints = {k: v for k, v in spec.pop("constraints", {}).items() if k != "required"}
    if constraints:
        spec["constraints"] = constraints
    if field.missing_values:
        spec["x-user-missing-recoded"] = [
            {"value": code, "label": label} for code, label in field.missing_labels().items()
        ]
    if field.missing_ranges:
        spec["x-user-missing-ranges-recoded"] = [
            {"low": low, "high": high, "label": label} for low, high, label in field.missing_ranges
        ]
    spec["x-identifier"] = "none"
    return spec


def _pseudonym_schema(field: Field, dataset: str) -> dict[str, Any]:
    prefix = dataset_prefix(dataset)
    return {
        "name": field.name,
        "type": "string",
        "title": f"{field.title or field.name} (pseudonym)",
        "description": f"Keyed pseudonym of the original {field.name}: '{prefix}-' and "
        f"{HEX_CHARS} hex characters of HMAC-SHA256. Stable across waves and reruns under the "
        "same key; the original ID is not in the cleaned data.",
        "x-pseudonymised": True,
        "x-identifier": "none",
        "x-sensitive": False,
    }


def _label_schema(field: Field) -> dict[str, Any]:
    return {
        "name": field.name + LABEL_SUFFIX,
        "type": "string",
        "title": f"{field.title or field.name} (label)",
        "description": f"Label of the code in {field.name}; missing where {field.name} is.",
        "categories": list(dict.fromkeys(field.labels().values())),
        "x-derived": True,
        "x-derived-from": [field.name],
        "x-identifier": "none",
        "x-sensitive": field.sensitive,
    }


def _warn_undeclared_text(
    frame: pd.DataFrame, codebook: Codebook, kept: list[str], free_text: list[str]
) -> None:
    """Warn about kept fields that read like free text the codebook does not declare."""
    for name in kept:
        if name not in free_text and reads_like_free_text(codebook.fields[name], frame[name]):
            print(
                f"WARNING: field {name} of {codebook.name} reads like free text but the codebook "
                "does not declare it (x-free-text: true): it is kept as it is, unredacted",
                file=sys.stderr,
            )


def clean(
    valid: pd.DataFrame,
    codebook: Codebook,
    *,
    dataset: str,
    wave: str,
    key: bytes,
    parsed: Mapping[str, ParsedColumn] | None = None,
) -> CleanResult:
    """Turn validated rows (from `validate`) into the cleaned wave; see the module docstring.

    `parsed`: the columns as validation read them (`ValidationResult.parsed_valid`), so each
    cell is typed once; a column not in it is read here."""
    parsed_by_name = dict(parsed or {})
    if ROW_COLUMN in valid.columns and not valid[ROW_COLUMN].is_monotonic_increasing:
        parsed_by_name = {}  # read in another row order: read again
        valid = valid.sort_values(ROW_COLUMN, kind="mergesort")
    valid = valid.reset_index(drop=True)
    unknown = [str(c) for c in valid.columns if c != ROW_COLUMN and c not in codebook.fields]
    if unknown:
        print(
            f"WARNING: columns not in the codebook dropped: {', '.join(unknown)}", file=sys.stderr
        )
    present = [n for n in codebook.fields if n in valid.columns]

    typed: dict[str, pd.Series] = {}
    reasons: dict[str, pd.Series] = {}
    summary: list[dict] = []
    for name in present:
        field = codebook.fields[name]
        column = (
            parsed_by_name[name] if name in parsed_by_name else parse_column(valid[name], field)
        )
        if column.bad_type.any():
            bad = column.bad_type.to_numpy()
            rows = valid[ROW_COLUMN][bad] if ROW_COLUMN in valid else np.flatnonzero(bad) + 1
            raise WpsInputError(
                f"values that are not of type {field.type} reached cleaning",
                dataset=dataset,
                file=f"wave {wave}",
                column=name,
                rows=[int(r) for r in rows],
                hint="clean only the `valid` table returned by analysis.validate.wave.validate",
            )
        typed[name] = column.typed
        if field.identifier != "direct":
            summary += _missing_rows(field, column.user_missing, column.code_text)
        if _has_missing_codes(field):
            reasons[name] = _missing_reason_column(field, column.user_missing, column.code_text)
    frame = pd.DataFrame(typed, index=valid.index, copy=False)
    derived, derived_specs = derive(frame, dataset, codebook)

    dropped = _dropped(codebook, dataset)
    direct = [n for n in codebook.direct_identifiers() if n in present]
    free_text = [
        n
        for n in present
        if n not in dropped
        and is_free_text(codebook.fields[n])
        and not is_pseudonymised(codebook.fields[n], codebook)
    ]
    _warn_undeclared_text(frame, codebook, [n for n in present if n not in dropped], free_text)
    quotable = [n for n in free_text if codebook.fields[n].raw.get("x-consent")]
    identifiers = identifiers_in(frame, direct) if free_text else {}
    for name in free_text:
        if name in quotable:
            consent_field = codebook.fields[name].raw["x-consent"]
            no_answer = pd.Series(pd.NA, index=frame.index, dtype="string")
            consent = frame.get(consent_field, no_answer)
            frame[name] = consented_and_deidentified(frame[name], consent, identifiers)
        else:
            frame[name] = deidentified_free_text(frame[name], identifiers)
    columns: dict[str, pd.Series] = {}
    specs: dict[str, dict[str, Any]] = {}
    for name in present:
        field = codebook.fields[name]
        if name in dropped:
            continue
        if is_pseudonymised(field, codebook):
            columns[name] = pseudonymise(frame[name], key, dataset)
            specs[name] = _pseudonym_schema(field, dataset)
            continue
        columns[name] = frame[name]
        specs[name] = _kept_schema(field)
        if name in quotable:
            specs[name]["x-consent-applied"] = (
                f"kept only where {field.raw['x-consent']} is yes, with names, places, ages, "
                "phones, e-mails and employers replaced by [name], [place], ...; removed where "
                "consent was not given or the replacement looked uncertain, except a text whose "
                "only doubt is a script the redactor cannot check, kept for a person's review "
                "(it reaches a brief only when approved)"
            )
        if name in free_text:
            specs[name]["x-redacted"] = (
                "free text (declared by x-consent or x-free-text): every value of this wave's "
                "direct identifiers (any script and case), numbers of 7+ digits (any digit "
                "system), e-mails, ages, names and places replaced by [name], [place], [phone], "
                "...; removed where a number, '@' or part of an identifier was left"
            )
        if field.categories:
            columns[name + LABEL_SUFFIX] = _label_column(frame[name], field)
            specs[name + LABEL_SUFFIX] = _label_schema(field)
        if name in reasons:
            reasons[name].index = frame.index
            columns[name + MISSING_SUFFIX] = reasons[name]
            specs[name + MISSING_SUFFIX] = _missing_reason_schema(field)
    for spec in derived_specs:
        columns[spec["name"]] = derived[spec["name"]]
        specs[spec["name"]] = spec

    key_columns = [k for k in codebook.primary_key if k in columns]
    order = key_columns + [c for c in columns if c not in key_columns]
    data = pd.DataFrame({c: columns[c] for c in order}, index=valid.index, copy=False)
    if key_columns:
        data = data.sort_values(key_columns, kind="mergesort", na_position="last")
    data = data.reset_index(drop=True)

    missing_summary = pd.DataFrame(summary, columns=SUMMARY_COLUMNS[2:])
    missing_summary.insert(0, "wave", str(wave))
    missing_summary.insert(0, "dataset", dataset)
    missing_summary = missing_summary.astype({"n": "int64"})[SUMMARY_COLUMNS]

    schema: dict[str, Any] = {"name": codebook.name}
    for prop in ("title", "description", "x-synthetic"):
        if prop in codebook.raw:
            schema[prop] = codebook.raw[prop]
    schema["x-wave"] = str(wave)
    if key_columns:
        schema["primaryKey"] = key_columns
    schema["fields"] = [specs[c] for c in order]
    return CleanResult(data=data, codebook=schema, missing_summary=missing_summary)
