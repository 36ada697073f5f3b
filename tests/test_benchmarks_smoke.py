"""Smoke test of the benchmark suite: tiny sizes, structure of results.json/.md, no timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import run
from benchmarks.scale_data import scaled_wave
from benchmarks.stage import STAGES
from benchmarks.targets import TARGET_ROWS, evaluate
from benchmarks.workflow import EXCLUDED, project_files

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run ``python -m benchmarks.run --smoke`` once into a temporary folder."""
    out = tmp_path_factory.mktemp("bench")
    argv = ["--smoke", "--sizes", "1500", "--out-dir", str(out), "--work-dir", str(out / "w")]
    assert run.main(argv) == 0
    return out


def test_results_json_structure(smoke: Path) -> None:
    text = (smoke / "results.json").read_text()
    results = json.loads(text)
    assert text == json.dumps(results, indent=2, sort_keys=True) + "\n"  # sorted keys
    assert results["mode"] == "smoke" and results["repeats"] == 1
    assert results["machine"]["cores"] >= 1 and results["machine"]["python"].count(".") == 2
    assert results["workflow"]["dry_run_s"] > 0
    size = results["scale"]["sizes"]["1500"]
    assert size["rows"] == 1500 and size["sav_mb"] > 0
    assert set(size["stages"]) == {*STAGES, "ingest_validate_clean"}
    for stage in size["stages"].values():
        assert stage["seconds"]["median"] in stage["seconds"]["runs"]
        assert stage["peak_rss_mb"]["median"] > 0
    assert size["stages"]["floor"]["ratio_to_floor"] == 1.0
    # Tiny sizes measure no target: every row says so instead of met/missed.
    assert {row["status"] for row in results["targets"]} == {"not measured"}


def test_results_markdown_has_every_section(smoke: Path) -> None:
    md = (smoke / "results.md").read_text()
    for heading in ("## Targets", "## The researcher's loop", "## Rendering", "## Scale"):
        assert heading in md
    assert "| 1,500 | ingest_validate_clean |" in md
    results = json.loads((smoke / "results.json").read_text())
    assert md.count("| not measured |") == len(results["targets"])


def test_stages_kept_every_row(smoke: Path) -> None:
    """Validation and cleaning of the scaled survey lose no row (IDs unique, codes valid)."""
    stages = smoke / "w" / "scale" / "stages_1500"
    report = json.loads((stages / "validate.report.json").read_text())
    assert report["rows_in"] == 1500
    assert report["rows_quarantined"] == 0


def test_scaled_wave_has_unique_ids_and_stations() -> None:
    base = scaled_wave(100)  # one copy, cut
    big = scaled_wave(2 * 3016 + 5)
    assert len(base) == 100 and len(big) == 6037
    assert big["respondent_id"].is_unique
    first, second = big.iloc[:3016], big.iloc[3016:6032]
    assert set(first["station_id"]).isdisjoint(second["station_id"])
    tripled = big["stations_in_stratum"].to_numpy()[:100]
    assert (tripled == 3 * base["stations_in_stratum"].to_numpy()).all()


def test_targets_say_by_how_much_they_are_missed() -> None:
    results = {
        "workflow": {
            "noop_rerun_s": {"median": 4.5},
            "new_wave_to_cold_ratio": {"median": 0.25},
        },
        "render": {"briefs": {"regional": {"pdf": {"median": 2.0}}}},
        "scale": {
            "sizes": {
                str(TARGET_ROWS): {
                    "stages": {
                        "ingest_validate_clean": {
                            "ratio_to_floor": 3.0,
                            "peak_rss_mb": {"median": 1000.0},
                        },
                        "models": {"seconds": {"median": 90.0}},
                    }
                }
            }
        },
    }
    rows = {r["id"]: r for r in evaluate(results)}
    assert rows["noop_rerun"]["status"] == "missed"
    assert rows["noop_rerun"]["missed_by"] == 1.5 and rows["noop_rerun"]["missed_by_pct"] == 50.0
    assert rows["new_wave_rerun"]["status"] == "met"
    assert rows["ivc_1m_time"]["status"] == "met"  # 3x the floor this turn
    assert rows["ivc_1m_time_later"]["missed_by"] == 1.0  # 2x after
    assert rows["ivc_1m_memory"]["status"] == "met"
    assert rows["models_1m_time"]["missed_by_pct"] == 50.0
    assert rows["render_regional_pdf"]["status"] == "met"


def test_project_copy_leaves_out_outputs_and_work() -> None:
    files = project_files(ROOT)
    assert "Snakefile" in files and "config/plan.yaml" in files
    assert not [f for f in files if any(f.startswith(ex + "/") for ex in EXCLUDED)]
