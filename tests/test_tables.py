"""Result tables: spreadsheet-safe CSV (no formula injection), deterministic, never half-written."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.tables import neutralise_formulas, write_csv, write_json, write_parquet

DANGEROUS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1:A2)", "\tcmd", "\rcmd"]


def test_formula_like_text_is_neutralised_in_csv(tmp_path):
    frame = pd.DataFrame({"note": DANGEROUS + ["plain", None], "n": range(8)})
    path = tmp_path / "t.csv"
    write_csv(frame, path)
    with path.open(newline="", encoding="utf-8") as handle:
        cells = [row["note"] for row in csv.DictReader(handle)]
    for original, written in zip(DANGEROUS, cells, strict=False):
        assert written == "'" + original.replace("\r", "\n")
        assert not written.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cells[6] == "plain"
    assert cells[7] == ""
    assert len(cells) == len(frame)  # a carriage return inside a cell did not split the row


def test_numbers_are_not_touched():
    frame = pd.DataFrame({"value": [-1.5, 2.0], "label": ["-1.5", "ok"]})
    safe = neutralise_formulas(frame)
    assert safe["value"].tolist() == [-1.5, 2.0]
    assert safe["label"].tolist() == ["'-1.5", "ok"]


def test_writes_are_deterministic(tmp_path):
    frame = pd.DataFrame({"b": [2, 1], "a": ["x", "y"]})
    for name in ("one", "two"):
        write_parquet(frame, tmp_path / f"{name}.parquet")
        write_csv(frame, tmp_path / f"{name}.csv")
        write_json({"z": 1, "a": [1, 2]}, tmp_path / f"{name}.json")
    for ext in ("parquet", "csv", "json"):
        assert (tmp_path / f"one.{ext}").read_bytes() == (tmp_path / f"two.{ext}").read_bytes()
    assert (tmp_path / "one.json").read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "z": 1\n}\n'


def test_a_failed_write_leaves_no_file(tmp_path):
    class Broken(pd.DataFrame):
        def to_parquet(self, *args, **kwargs):
            raise RuntimeError("disk full")

    target = tmp_path / "out.parquet"
    with pytest.raises(RuntimeError, match="disk full"):
        write_parquet(Broken({"a": [1]}), target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_written_files_are_readable_by_the_group_like_any_new_file(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        write_csv(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    finally:
        os.umask(old)
    assert (tmp_path / "t.csv").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600


def _pandas_csv(frame: pd.DataFrame) -> bytes:
    """The bytes write_csv promises: to_csv of the spreadsheet-safe frame."""
    from analysis.tables import normalise_line_breaks

    safe = normalise_line_breaks(neutralise_formulas(frame))
    return safe.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _odd_frame(n: int) -> pd.DataFrame:
    import numpy as np

    rng = np.random.default_rng(n)
    texts = ["=1+1", "a,b", 'q"x', "l\r\nm", "\rz", None, "", "-3", "ok", " sp ", "é 中", "x\ny"]
    pick = rng.integers(0, len(texts), n)
    floats = rng.choice([0.1, 1.0, np.nan, 1e-05, 1e16, 2.5, -1.5, 1 / 3], n)
    return pd.DataFrame(
        {
            "text": pd.Series([texts[i] for i in pick], dtype="string"),
            "ids": pd.Series([f"ID-{i}" if i % 7 else None for i in range(n)], dtype="string"),
            "float": floats,
            "Float": pd.array(floats, dtype="Float64"),
            "Int": pd.array([None if i % 5 == 0 else i % 9 - 4 for i in range(n)], dtype="Int64"),
            "bool": pd.array([None if i % 4 == 0 else i % 2 == 0 for i in range(n)], "boolean"),
            "label": pd.Categorical([texts[i] for i in pick]),
            "code": pd.Categorical(rng.integers(1, 4, n)),
            "date": pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 9, n), "D"),
            "time": pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 9, n), "h"),
            "int": rng.integers(-5, 5, n),
            "str": pd.Series([texts[i] for i in pick], dtype="str"),
        }
    )


@pytest.mark.parametrize("rows", [1, 7, 200])
def test_column_wise_csv_is_byte_for_byte_to_csv(tmp_path, monkeypatch, rows):
    from analysis.io import csv_writer

    monkeypatch.setattr(csv_writer, "CHUNK_ROWS", 3)  # several chunks even for small frames
    monkeypatch.setattr(csv_writer, "MIN_ROWS", 1)
    frame = _odd_frame(rows)
    assert csv_writer.supports(frame)
    write_csv(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes() == _pandas_csv(frame)


def test_frames_the_column_wise_writer_leaves_to_pandas(tmp_path, monkeypatch):
    from analysis.io import csv_writer

    monkeypatch.setattr(csv_writer, "MIN_ROWS", 1)
    mixed = pd.DataFrame({"a": pd.Series([1, "1", True], dtype=object), "b": [1, 2, 3]})
    negative_zero = pd.DataFrame({"a": [0.0, -0.0], "b": [1, 2]})
    one_column = pd.DataFrame({"a": ["", "x"]})
    marker = pd.DataFrame({"a": [f"x,{csv_writer.END}\n"] * 2, "b": [1, 2]})
    for frame in (mixed, negative_zero, one_column, one_column.iloc[:0], marker):
        assert frame is marker or not csv_writer.supports(frame)
        write_csv(frame, tmp_path / "t.csv")
        assert (tmp_path / "t.csv").read_bytes() == _pandas_csv(frame)


def test_parquet_and_csv_written_at_once_are_the_same_files(tmp_path: Path) -> None:
    """Two threads (a large wave's prepare job) write exactly what one writes."""
    from analysis.tables import write_table

    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "id": pd.array([f"P-{i:06d}" for i in range(30_000)], dtype="string"),
            "n": pd.array(rng.integers(0, 9, 30_000), dtype="Int64"),
            "x": rng.normal(size=30_000),
        }
    )
    one, two = tmp_path / "one", tmp_path / "two"
    write_table(frame, parquet=one.with_suffix(".parquet"), csv=one.with_suffix(".csv"))
    write_table(frame, parquet=two.with_suffix(".parquet"), csv=two.with_suffix(".csv"), threads=2)
    for suffix in (".parquet", ".csv"):
        assert one.with_suffix(suffix).read_bytes() == two.with_suffix(suffix).read_bytes()


def test_a_failed_parquet_write_in_its_thread_is_raised(tmp_path: Path) -> None:
    from analysis.tables import write_table

    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    blocked = tmp_path / "file"
    blocked.write_text("a file, not a folder")
    with pytest.raises(OSError):
        write_table(frame, parquet=blocked / "t.parquet", csv=tmp_path / "t.csv", threads=2)


def test_a_large_raw_wave_gets_two_threads() -> None:
    from analysis.tables import LARGE_WAVE_MB, writer_threads

    assert writer_threads(LARGE_WAVE_MB) == 2
    assert writer_threads(LARGE_WAVE_MB - 0.1) == 1
