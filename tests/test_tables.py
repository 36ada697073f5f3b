"""Result tables: spreadsheet-safe CSV (no formula injection), deterministic, never half-written."""

from __future__ import annotations

import csv

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
