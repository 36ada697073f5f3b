"""The in-memory form of one raw wave file: data plus the metadata the file declares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class RawTable:
    """Values as stored (user-missing codes kept as values) and the file's own metadata.

    ``missing_codes`` lists, per column, the user-missing values the file declares: SPSS discrete
    codes plus the observed values inside declared ranges; Stata/SAS tagged missings appear in
    ``data`` and here as strings ``".a"`` / ``".A"`` / ``"._"``. ``missing_ranges`` keeps SPSS
    ranges as ``(lo, hi)``. ``file_info`` holds notes about the reading (file label, formats,
    header row of a spreadsheet, dates kept as numbers...), all JSON-serialisable.
    """

    data: pd.DataFrame
    variable_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    missing_codes: dict[str, list[Any]] = field(default_factory=dict)
    source_format: str = ""
    encoding: str | None = None
    missing_ranges: dict[str, list[tuple[Any, Any]]] = field(default_factory=dict)
    file_info: dict[str, Any] = field(default_factory=dict)
