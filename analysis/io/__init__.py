"""Reading raw wave files (one reader per format family) and storing them as ingested waves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from analysis.errors import IngestError, WpsInputError
from analysis.io.sniff import FORMAT_BY_EXTENSION, check_file, sniff
from analysis.io.store import as_stored, read_ingested, write_ingested
from analysis.io.table import RawTable

__all__ = [
    "FORMAT_BY_EXTENSION",
    "RawTable",
    "as_stored",
    "read_ingested",
    "read_raw",
    "sniff",
    "write_ingested",
]


def read_raw(
    path: Path,
    dataset: str = "",
    *,
    sheet: str | None = None,
    expected_columns: Sequence[str] | None = None,
    processes: int = 1,
) -> RawTable:
    """Read one raw wave file into a ``RawTable``; bad files raise ``IngestError``.

    ``sheet`` and ``expected_columns`` apply to .xlsx only: the sheet to read (default: the
    first) and column names that locate the header row below any title rows. ``processes``
    above 1 reads an SPSS, Stata or SAS file in that many row chunks at once (pyreadstat).
    """
    path = Path(path)
    fmt = check_file(path, dataset)
    try:  # each reader imported when used: a job that only reads Parquet loads none of them
        if fmt == "csv":
            from analysis.io.text import read_csv

            return read_csv(path, dataset)
        if fmt == "xlsx":
            from analysis.io.spreadsheet import read_xlsx

            return read_xlsx(path, dataset, sheet=sheet, expected_columns=expected_columns)
        from analysis.io.statfiles import read_stat_file

        return read_stat_file(path, fmt, dataset, processes=processes)
    except WpsInputError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bad file must give a message, not a traceback
        raise IngestError(
            f"reading failed unexpectedly ({type(exc).__name__}: {exc})",
            dataset=dataset,
            file=path,
            hint="check that the file opens in the software that wrote it; if it does, report "
            "this message to the pipeline maintainers",
        ) from exc
