"""Read .xlsx sheets: find the header below title rows, fill merged cells, drop empty lines."""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries

from analysis.errors import IngestError
from analysis.io.table import RawTable

HEADER_SCAN_ROWS = 50
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?\bref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def find_header(grid: list[list[Any]], expected_columns: Sequence[str] | None = None) -> int | None:
    """0-based index of the header row in ``grid`` (merged cells not yet filled), or None.

    With ``expected_columns``: the first row naming most of them (at least half). Without: the
    first row whose filled cells are mostly (80%) text and span at least half the sheet's width.
    """
    scan = grid[:HEADER_SCAN_ROWS]
    if expected_columns:
        wanted = {str(c).strip().casefold() for c in expected_columns}
        best, best_hits = None, 0
        for index, row in enumerate(scan):
            names = {str(v).strip().casefold() for v in row if not _blank(v)}
            hits = len(wanted & names)
            if hits > best_hits:
                best, best_hits = index, hits
        return best if best_hits * 2 >= len(wanted) else None
    counts = [sum(not _blank(v) for v in row) for row in scan]
    width = max(counts, default=0)
    for index, row in enumerate(scan):
        filled = [v for v in row if not _blank(v)]
        if not filled or len(filled) * 2 < width:
            continue
        if sum(isinstance(v, str) for v in filled) >= 0.8 * len(filled):
            return index
    return None


def _merged_ranges(path: Path, part: str) -> list[str]:
    """Merged ranges ("A1:D1") of one sheet, read from its XML (read-only mode hides them)."""
    if not part:
        return []
    with zipfile.ZipFile(path) as archive:
        xml = archive.read(part.lstrip("/"))
    return [m.decode("ascii") for m in _MERGE.findall(xml)]


def _holds_data(ws: Any, expected_columns: Sequence[str] | None) -> bool:
    """True when a sheet has a header row (of two or more columns) with a filled row below it.

    Notes or read-me sheets (one column of text, or a title alone) do not count as data.
    """
    ws.reset_dimensions()
    grid = [list(r) for r in ws.iter_rows(max_row=HEADER_SCAN_ROWS + 1, values_only=True)]
    width = max((len(r) for r in grid), default=0)
    grid = [row + [None] * (width - len(row)) for row in grid]
    header_at = find_header(grid, expected_columns)
    if header_at is None or sum(not _blank(v) for v in grid[header_at]) < 2:
        return False
    return any(not _blank(v) for row in grid[header_at + 1 :] for v in row)


def _refuse_several_data_sheets(
    book: Any, path: Path, dataset: str, expected_columns: Sequence[str] | None
) -> None:
    """Stop when more than one sheet holds data: reading only the first would lose the rest."""
    if len(book.worksheets) < 2:
        return
    with_data = [ws.title for ws in book.worksheets if _holds_data(ws, expected_columns)]
    if len(with_data) < 2:
        return
    raise IngestError(
        f"the workbook holds data on {len(with_data)} sheets ({', '.join(map(repr, with_data))}); "
        "a wave file must hold one table, and reading only the first sheet would silently lose "
        "the others",
        dataset=dataset,
        file=path,
        hint="keep the wave's data on one sheet: combine the sheets into one (same columns), or "
        "save each sheet as its own wave file; read-me or notes sheets of one column may stay",
    )


def read_xlsx(
    path: Path,
    dataset: str = "",
    *,
    sheet: str | None = None,
    expected_columns: Sequence[str] | None = None,
) -> RawTable:
    """Read one sheet (the first unless ``sheet``) into a table with named columns.

    Without ``sheet``, a workbook with data on more than one sheet is refused (``IngestError``
    naming the sheets) rather than read from its first sheet alone.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # openpyxl's style/extension notices
            # read-only mode: fast, and tolerant of parts (drawings...) that real exports lack
            book = load_workbook(path, read_only=True, data_only=True)
            if sheet is not None and sheet not in book.sheetnames:
                raise IngestError(
                    f"no sheet named {sheet!r} (sheets: {', '.join(book.sheetnames)})",
                    dataset=dataset,
                    file=path,
                    hint="name the sheet that holds the data",
                )
            if sheet is None:
                _refuse_several_data_sheets(book, path, dataset, expected_columns)
            ws = book[sheet] if sheet is not None else book.worksheets[0]
            ws.reset_dimensions()  # exports often declare a wrong used range (e.g. A1:A1)
            grid = [list(row) for row in ws.iter_rows(values_only=True)]
            merges = _merged_ranges(path, getattr(ws, "_worksheet_path", ""))
            title = ws.title
            book.close()
    except IngestError:
        raise
    except Exception as exc:  # noqa: BLE001 - zip, XML and openpyxl errors alike mean "unreadable"
        detail = str(exc).strip() or type(exc).__name__
        raise IngestError(
            f"cannot be read as an Excel .xlsx workbook ({detail}); the file is probably damaged, "
            "truncated or not a workbook",
            dataset=dataset,
            file=path,
            hint="open it in Excel or LibreOffice and save it again as .xlsx, or export it again",
        ) from exc
    width = max((len(r) for r in grid), default=0)
    grid = [row + [None] * (width - len(row)) for row in grid]
    if not any(not _blank(v) for row in grid for v in row):
        raise IngestError(
            f"sheet {title!r} is empty",
            dataset=dataset,
            file=path,
            hint="put the data on the first sheet, or export it again",
        )
    header_at = find_header(grid, expected_columns)
    if header_at is None:
        expected = f" naming {', '.join(expected_columns)}" if expected_columns else ""
        raise IngestError(
            f"no header row{expected} found in the first {HEADER_SCAN_ROWS} rows of sheet "
            f"{title!r}",
            dataset=dataset,
            file=path,
            hint="make one row hold the column names above the data",
        )
    for min_col, min_row, max_col, max_row in (range_boundaries(m) for m in merges):
        if max_row > len(grid) or max_col > width:
            continue
        top_left = grid[min_row - 1][min_col - 1]
        for r in range(max(min_row, header_at + 1), max_row + 1):  # title rows stay as they are
            for c in range(min_col, max_col + 1):
                grid[r - 1][c - 1] = top_left
    header = grid[header_at]
    body = grid[header_at + 1 :]
    keep_cols = [
        c for c in range(width) if not _blank(header[c]) or any(not _blank(r[c]) for r in body)
    ]
    names = _column_names(header, keep_cols, path, dataset, header_at + 1)
    kept_rows, dropped_rows = [], []
    for offset, row in enumerate(body):
        sheet_row = header_at + 2 + offset
        if all(_blank(row[c]) for c in keep_cols):
            dropped_rows.append(sheet_row)
        else:
            kept_rows.append(sheet_row)
    records = [[grid[r - 1][c] for c in keep_cols] for r in kept_rows]
    df = pd.DataFrame(records, columns=names) if records else pd.DataFrame(columns=names)
    df = df.infer_objects()
    info: dict[str, Any] = {"sheet": title, "header_row": header_at + 1}
    if kept_rows and kept_rows != list(range(header_at + 2, header_at + 2 + len(kept_rows))):
        info["sheet_rows"] = kept_rows  # data row i sits on sheet row sheet_rows[i-1]
    if dropped_rows:
        info["empty_rows_dropped"] = len(dropped_rows)
    if merges:
        info["merged_cells_filled"] = sorted(merges)
    return RawTable(data=df, source_format="xlsx", encoding=None, file_info=info)


def _column_names(
    header: list[Any], keep_cols: list[int], path: Path, dataset: str, header_row: int
) -> list[str]:
    names: list[str] = []
    for c in keep_cols:
        value = header[c]
        letter = get_column_letter(c + 1)
        if _blank(value):
            raise IngestError(
                f"column {letter} holds data but has no name in header row {header_row}",
                dataset=dataset,
                file=path,
                hint="give every data column a name in the header row",
            )
        name = str(value).strip()
        if name in names:
            first = get_column_letter(keep_cols[names.index(name)] + 1)
            raise IngestError(
                f"header row {header_row} repeats the column name {name!r} (columns {first} "
                f"and {letter})",
                dataset=dataset,
                file=path,
                column=name,
                hint="give every column a distinct name",
            )
        names.append(name)
    return names
