"""A brief's date comes from the data, never the clock: the last date in the cleaned table, else
the date the SPSS/Stata/SAS file says it was written. Data with no date column (R's iris) were
dated 1 January 1970 in their briefs; data that carry no date at all (CSV) now say they are
undated."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from analysis.io.statfiles import file_written_at
from analysis.provenance.runinfo import source_date_epoch

IRIS_SAV = next(
    (
        folder / "shared/reference-data/formats/haven/iris.sav"
        for folder in Path(__file__).resolve().parents[1:4]  # beside the repo or its worktree
        if (folder / "shared/reference-data").is_dir()
    ),
    Path("shared/reference-data/formats/haven/iris.sav"),
)
NO_DATES = pd.DataFrame({"score": [1.0, 2.0]})


def midnight_after(day: dt.date) -> int:
    return int(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC).timestamp())


def test_data_without_dates_take_the_date_their_file_was_written(tmp_path: Path):
    path = tmp_path / "wave.sav"
    pyreadstat.write_sav(NO_DATES, str(path))
    _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    assert file_written_at(path) == meta.modification_time
    epoch = source_date_epoch(NO_DATES, [path])
    assert epoch == midnight_after(meta.modification_time.date()) and epoch > 0


def test_a_date_in_the_data_wins_over_the_file(tmp_path: Path):
    path = tmp_path / "wave.dta"
    pyreadstat.write_dta(NO_DATES, str(path))
    dated = NO_DATES.assign(interviewed=pd.to_datetime(["2024-03-01", "2024-05-31"]))
    assert source_date_epoch(dated, [path]) == midnight_after(dt.date(2024, 5, 31))


def test_files_that_carry_no_date_leave_the_epoch(tmp_path: Path):
    path = tmp_path / "wave.csv"
    NO_DATES.to_csv(path, index=False)
    assert file_written_at(path) is None
    assert source_date_epoch(NO_DATES, [path]) == 0


def test_haven_iris_is_dated_the_day_after_it_was_written():
    if not IRIS_SAV.is_file():
        pytest.skip(f"reference data {IRIS_SAV} is absent")
    assert source_date_epoch(NO_DATES, [IRIS_SAV]) == midnight_after(dt.date(2016, 6, 10))


def test_a_brief_of_data_that_carry_no_date_says_so_instead_of_1970(tmp_path: Path):
    from analysis.render.findings_file import UNDATED, BriefFindings

    def dated(epoch: int) -> str:
        fields = {f: None for f in BriefFindings.__dataclass_fields__}
        brief = BriefFindings(**{**fields, "source_date_epoch": epoch})
        return brief.date_text

    assert dated(0) == UNDATED and "1970" not in dated(0)
    assert dated(midnight_after(dt.date(2024, 5, 31))) == "1 June 2024"
