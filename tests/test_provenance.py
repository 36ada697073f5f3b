"""Job records, manifest, lineage, trace and RO-Crate, on a small fake run made with `job()`."""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from analysis.provenance import (
    build_crate,
    build_manifest,
    job,
    load_records,
    trace,
    write_crate,
    write_manifest,
)
from analysis.provenance import record as record_module

SCRIPT = Path(__file__)


class FakeNamedlist(list):
    """Like Snakemake's Namedlist: a list of paths, with names as attributes, keys() and items()."""

    def __init__(self, named: dict | None = None, positional: tuple = ()) -> None:
        super().__init__(positional)
        self._names: dict = {}
        for name, value in (named or {}).items():
            self.append(value)
            self._names[name] = value
            setattr(self, name, value)

    def keys(self):
        return self._names.keys()

    def items(self):
        return self._names.items()


def fake_snakemake(rule, *, inputs=None, outputs=None, params=None, wildcards=None, log=None):
    """A stand-in for the `snakemake` object Snakemake gives a script."""
    return SimpleNamespace(
        rule=rule,
        input=FakeNamedlist(inputs or {}),
        output=FakeNamedlist(outputs or {}),
        params=FakeNamedlist(params or {}),
        wildcards=FakeNamedlist(wildcards or {}),
        log=FakeNamedlist(positional=tuple(log or ())),
        config={"seed": 20250601, "results_dir": "results", "raw_dir": "data/raw"},
        threads=1,
    )


def sha(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write(path: str, text: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="utf-8")


RAW = "data/raw/officer_survey/2025.csv"
CODEBOOK = "data/raw/officer_survey/codebook.json"
INGESTED = "results/ingest/officer_survey/2025.csv"
CLEAN = "results/clean/officer_survey/2025.csv"
FINDINGS = "results/findings/2025/regional.yaml"
BRIEF = "results/briefs/2025/regional.html"
JOBS = "results/provenance/jobs"
WC = {"dataset": "officer_survey", "wave": "2025"}


def run_step(rule, inputs, outputs, make, wildcards=None, params=None, stem=None):
    """Run one fake job: `make(sm)` writes the outputs inside `with job(...)`."""
    wildcards = wildcards or {}
    stem = stem or ("/".join(wildcards.values()) or "all")
    outputs = {**outputs, "record": f"{JOBS}/{rule}/{stem}.json"}
    sm = fake_snakemake(
        rule,
        inputs=inputs,
        outputs=outputs,
        params=params,
        wildcards=wildcards,
        log=[f"results/logs/{rule}/{stem}.log"],
    )
    with job(sm, script=SCRIPT) as j:
        make(sm, j)
    return sm


def fake_run(
    root: Path, start: datetime | None = None, raw: str = "id,sex,n\n1,2,5\n2,1,7\n"
) -> Path:
    """Raw data and four chained jobs (ingest, clean, findings, brief) under `root` (the cwd)."""
    assert Path.cwd().resolve() == root.resolve()
    write(RAW, raw)
    write(CODEBOOK, '{"name": "officer_survey"}\n')
    write("Snakefile", 'configfile: "config/config.yaml"\n')

    def ingest(sm, j):
        write(sm.output.table, Path(sm.input.raw).read_text())

    def clean(sm, j):
        rows = Path(sm.input.table).read_text().splitlines()
        write(sm.output.table, "\n".join(rows) + "\n")
        j.note("rows_clean", len(rows) - 1)

    def findings(sm, j):
        n = Path(sm.input.table).read_text().splitlines()[2].split(",")[2]
        write(
            sm.output.findings,
            f"findings:\n  n_men:\n    text: {n} men\n    value: {n}\n    source:\n"
            f"      table: {CLEAN}\n      row: 1\n      column: n\n",
        )

    def brief(sm, j):
        write(sm.output.html, "<p>" + Path(sm.input.findings).read_text() + "</p>\n")
        j.software["pandoc"] = "3.9"

    steps = [
        ("ingest_wave", {"raw": RAW}, {"table": INGESTED}, ingest, WC),
        ("clean_wave", {"table": INGESTED, "codebook": CODEBOOK}, {"table": CLEAN}, clean, WC),
        ("make_findings", {"table": CLEAN}, {"findings": FINDINGS}, findings, {"wave": "2025"}),
        ("render_brief", {"findings": FINDINGS}, {"html": BRIEF}, brief, {"wave": "2025"}),
    ]
    clock = [start or datetime(2025, 1, 1, tzinfo=UTC)]

    def tick() -> datetime:
        clock[0] += timedelta(seconds=1)
        return clock[0]

    original = record_module.utc_now
    record_module.utc_now = tick
    try:
        for rule, inputs, outputs, make, wildcards in steps:
            run_step(rule, inputs, outputs, make, wildcards)
    finally:
        record_module.utc_now = original
    return root


@pytest.fixture
def run(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return fake_run(tmp_path)


# --- job records ----------------------------------------------------------------------------


def test_record_has_hashes_params_code_and_software(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write("in/a.txt", "alpha\n")
    write("in/b.txt", "beta\n")
    params = {"threshold": 10, "api_key": "s3cret", "nested": {"key_env": "X", "keep": [1, 2]}}
    sm = fake_snakemake(
        "clean_wave",
        inputs={"a": "in/a.txt", "b": "in/b.txt"},
        outputs={"table": "out/t.csv", "record": "rec/clean.json"},
        params=params,
        wildcards=WC,
        log=["logs/clean.log"],
    )
    with job(sm, script=SCRIPT) as j:
        write(sm.output.table, "x\n1\n")
        j.note("rows_clean", 1)
        j.seeds["bootstrap"] = 7
        j.software["pandoc"] = "3.9"
    record = json.loads(Path("rec/clean.json").read_text())

    assert record["job"] == "clean_wave officer_survey/2025"
    assert record["wildcards"] == WC
    assert [(i["name"], i["path"], i["sha256"], i["size"]) for i in record["inputs"]] == [
        ("a", "in/a.txt", sha("in/a.txt"), 6),
        ("b", "in/b.txt", sha("in/b.txt"), 5),
    ]
    assert [(o["name"], o["sha256"]) for o in record["outputs"]] == [("table", sha("out/t.csv"))]
    assert record["params"] == {"nested": {"keep": [1, 2]}, "threshold": 10}
    assert "s3cret" not in Path("rec/clean.json").read_text()
    assert record["code"]["script"]["sha256"] == sha(SCRIPT)
    modules = {m["path"]: m["sha256"] for m in record["code"]["modules"]}
    record_py = Path(record_module.__file__)
    assert modules["analysis/provenance/record.py"] == sha(record_py)
    assert set(record["code"]["git"]) == {"commit", "dirty"}
    assert record["software"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert record["software"]["pandoc"] == "3.9"
    assert record["software"]["snakemake"]  # installed in the project environment
    assert record["seeds"] == {"config": 20250601, "bootstrap": 7}
    assert record["notes"] == {"rows_clean": 1}
    assert record["started_at"] <= record["ended_at"]
    assert not list(Path("rec").glob(".*.tmp"))  # atomic write leaves no temporary file


def test_stderr_and_logging_go_to_the_log_then_come_back(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    sm = fake_snakemake("ingest_wave", outputs={"o": "o.txt"}, log=["logs/x.log"])
    before = sys.stderr
    with job(sm, script=SCRIPT):
        print("to stderr", file=sys.stderr)
        logging.getLogger("analysis.test").info("through logging")
        write("o.txt", "o")
    assert sys.stderr is before
    log = Path("logs/x.log").read_text()
    assert "to stderr" in log and "through logging" in log
    assert "to stderr" not in capsys.readouterr().err


def test_default_record_path_without_a_record_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sm = fake_snakemake("fit_model", outputs={"o": "o.txt"}, wildcards={**WC, "model": "m1"})
    with job(sm, script=SCRIPT) as j:
        write("o.txt", "o")
    assert j.record_path == Path("results/provenance/jobs/fit_model/officer_survey_2025_m1.json")
    assert j.record_path.is_file()
    sm = fake_snakemake("all_tables", outputs={"o": "o.txt"})
    with job(sm, script=SCRIPT) as j:
        pass
    assert j.record_path == Path("results/provenance/jobs/all_tables/all.json")


def test_failure_writes_no_record_logs_traceback_and_reraises(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write("in.csv", "a\n")
    sm = fake_snakemake(
        "clean_wave",
        inputs={"valid": "in.csv"},
        outputs={"table": "out.csv", "record": "rec.json"},
        wildcards=WC,
        log=["logs/clean.log"],
    )
    with pytest.raises(ValueError, match="column age out of range"), job(sm, script=SCRIPT):
        raise ValueError("column age out of range\nmore detail")
    assert not Path("rec.json").exists()
    log = Path("logs/clean.log").read_text()
    assert "Traceback (most recent call last)" in log and "column age out of range" in log
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "rule clean_wave failed on in.csv: ValueError: column age out of range; "
        "see log logs/clean.log"
    ]


def test_missing_output_is_a_failure_not_a_record(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    sm = fake_snakemake(
        "clean_wave", outputs={"table": "never.csv", "record": "rec.json"}, log=["l.log"]
    )
    with pytest.raises(FileNotFoundError, match="never.csv"), job(sm, script=SCRIPT):
        pass
    assert not Path("rec.json").exists()
    assert "failed" in capsys.readouterr().err


def test_real_snakemake_namedlist_is_understood(tmp_path, monkeypatch):
    iocontainers = pytest.importorskip("snakemake.iocontainers")
    monkeypatch.chdir(tmp_path)
    write("a.txt", "a")
    write("b.txt", "b")
    named = iocontainers.Namedlist(fromdict={"first": "a.txt"})
    named.append("b.txt")  # an unnamed input after a named one
    sm = fake_snakemake("r", outputs={"o": "o.txt"})
    sm.input = named
    sm.wildcards = iocontainers.Namedlist(fromdict={"wave": "2025"})
    with job(sm, script=SCRIPT):
        write("o.txt", "o")
    record = json.loads(Path("results/provenance/jobs/r/2025.json").read_text())
    assert [(i["name"], i["path"]) for i in record["inputs"]] == [
        ("first", "a.txt"),
        (None, "b.txt"),
    ]
    assert record["wildcards"] == {"wave": "2025"}


# --- manifest, lineage, trace ---------------------------------------------------------------


def test_manifest_lists_outputs_jobs_raw_and_lineage(run):
    manifest = build_manifest(JOBS, "results", "data/raw")
    assert set(manifest["outputs"]) == {INGESTED, CLEAN, FINDINGS, BRIEF}
    assert manifest["outputs"][CLEAN] == {
        "sha256": sha(CLEAN),
        "size": Path(CLEAN).stat().st_size,
        "job": "clean_wave officer_survey/2025",
    }
    assert set(manifest["raw"]) == {RAW, CODEBOOK}
    assert manifest["raw"][RAW]["sha256"] == sha(RAW)
    assert manifest["jobs"]["clean_wave officer_survey/2025"]["notes"] == {"rows_clean": 2}
    # lineage walks back through the jobs: the brief is four hops from the raw files
    assert manifest["lineage"][INGESTED] == [RAW]
    assert manifest["lineage"][CLEAN] == [RAW, CODEBOOK]
    assert manifest["lineage"][BRIEF] == [RAW, CODEBOOK]
    assert manifest["warnings"] == []
    assert manifest["unrecorded"] == []
    assert "started_at" not in json.dumps(manifest)  # no times in the manifest


def test_content_hash_and_manifest_bytes_stable_across_runs_at_different_times(
    tmp_path, monkeypatch
):
    made = []
    for name, start in (("a", datetime(2025, 1, 1, tzinfo=UTC)), ("b", datetime(2026, 6, 1))):
        root = tmp_path / name
        root.mkdir()
        monkeypatch.chdir(root)
        fake_run(root, start=start.replace(tzinfo=UTC))
        path = write_manifest(build_manifest(JOBS, "results", "data/raw"), "m.json")
        record = json.loads(Path(f"{JOBS}/render_brief/2025.json").read_text())
        made.append((path.read_bytes(), record["started_at"]))
    (bytes_a, time_a), (bytes_b, time_b) = made
    assert time_a != time_b
    assert bytes_a == bytes_b
    assert json.loads(bytes_a)["content_hash"]


def test_content_hash_changes_when_an_output_changes(run):
    before = build_manifest(JOBS, "results", "data/raw")["content_hash"]
    fake_run(run, raw="id,sex,n\n1,2,5\n2,1,8\n")
    assert build_manifest(JOBS, "results", "data/raw")["content_hash"] != before


def test_stale_record_is_reported(run):
    write(CLEAN, "changed by hand\n")
    run_step(
        "make_findings",
        {"table": CLEAN},
        {"findings": FINDINGS},
        lambda sm, j: write(sm.output.findings, "x: 1\n"),
        {"wave": "2025"},
    )
    warnings = build_manifest(JOBS, "results", "data/raw")["warnings"]
    # make_findings read a clean table that clean_wave never wrote; render_brief read old findings
    assert len(warnings) == 2
    assert warnings[0].startswith(f"job make_findings 2025 read {CLEAN} with sha256 {sha(CLEAN)}")
    assert "job clean_wave officer_survey/2025 now has" in warnings[0]
    assert warnings[1].startswith(f"job render_brief 2025 read {FINDINGS}")
    assert all("stale" in w for w in warnings)


def test_trace_orders_jobs_from_raw_to_brief(run):
    manifest = build_manifest(JOBS, "results", "data/raw")
    steps = trace(manifest, BRIEF)
    assert [s["job"] for s in steps] == [
        "ingest_wave officer_survey/2025",
        "clean_wave officer_survey/2025",
        "make_findings 2025",
        "render_brief 2025",
    ]
    first = steps[0]["inputs"][0]
    assert (first["path"], first["sha256"], first["raw"]) == (RAW, sha(RAW), True)
    assert steps[-1]["outputs"][0]["path"] == BRIEF
    assert trace(manifest, RAW) == []
    with pytest.raises(KeyError, match="not an output"):
        trace(manifest, "results/nothing.csv")


# --- RO-Crate -------------------------------------------------------------------------------


def _entities(crate_json: dict) -> dict[str, dict]:
    return {e["@id"]: e for e in crate_json["@graph"]}


def _types(entity: dict) -> set[str]:
    kind = entity["@type"]
    return {kind} if isinstance(kind, str) else set(kind)


def test_crate_loads_with_rocrate_and_describes_every_job(run):
    rocrate = pytest.importorskip("rocrate.rocrate")
    manifest = build_manifest(JOBS, "results", "data/raw")
    records = load_records(JOBS)
    config = {
        "seed": 20250601,
        "raw_dir": "data/raw",
        "api_secret": "s3cret",
        "pseudonymisation": {"key_env": "K", "allow": True},
    }
    path = write_crate(manifest, records, "results/provenance", config)
    assert path == Path("results/provenance/ro-crate-metadata.json")

    crate = rocrate.ROCrate(path.parent)
    main = crate.mainEntity
    assert main.id == "../../Snakefile"
    assert {"File", "SoftwareSourceCode", "ComputationalWorkflow"} <= set(main.type)
    assert main["programmingLanguage"]["name"] == "Snakemake"
    conforms = {c.id for c in crate.root_dataset["conformsTo"]}
    assert {
        "https://w3id.org/ro/wfrun/process/0.5",
        "https://w3id.org/ro/wfrun/workflow/0.5",
        "https://w3id.org/ro/wfrun/provenance/0.5",
        "https://w3id.org/workflowhub/workflow-ro-crate/1.0",
    } <= conforms

    actions = [e for e in crate.get_entities() if e.type == "CreateAction" and e.id != "#run"]
    assert len(actions) == len(manifest["jobs"]) == 4
    by_name = {a["name"]: a for a in actions}
    clean = by_name["Run of rule clean_wave (clean_wave officer_survey/2025)"]
    assert clean["instrument"]["@type"] == "SoftwareApplication"
    assert {o.id for o in clean["object"]} == {
        "../ingest/officer_survey/2025.csv",
        "../../data/raw/officer_survey/codebook.json",
    }
    assert [r.id for r in clean["result"]] == ["../clean/officer_survey/2025.csv"]
    assert clean["result"][0]["sha256"] == sha(CLEAN)
    record = json.loads(Path(f"{JOBS}/clean_wave/officer_survey/2025.json").read_text())
    assert (clean["startTime"], clean["endTime"]) == (record["started_at"], record["ended_at"])
    for action in actions:
        for prop in ("object", "result", "instrument", "startTime", "endTime"):
            assert action[prop], (action.id, prop)

    organize = [e for e in crate.get_entities() if e.type == "OrganizeAction"]
    assert len(organize) == 1 and organize[0]["result"].id == "#run"
    assert len(organize[0]["object"]) == 4
    assert all(c.type == "ControlAction" for c in organize[0]["object"])
    run_action = crate.get("#run")
    assert run_action["instrument"].id == main.id
    assert [r.id for r in run_action["result"]] == ["../briefs/2025/regional.html"]
    params = {p["name"]: p for p in main["input"]}
    assert set(params) == {"seed", "raw_dir", "pseudonymisation"}  # no api_secret
    assert params["pseudonymisation"]["workExample"]["value"] == '{"allow": true}'
    assert "s3cret" not in path.read_text() and "key_env" not in path.read_text()
    assert params["seed"]["additionalType"] == "Integer"
    assert params["seed"]["workExample"]["value"] == "20250601"
    assert len(main["step"]) == 4


def test_crate_is_deterministic_except_job_times(run, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    manifest = build_manifest(JOBS, "results", "data/raw")
    records = load_records(JOBS)
    first = build_crate(manifest, records, "results/provenance", {"seed": 1})
    assert first == build_crate(manifest, records, "results/provenance", {"seed": 1})
    shifted = [{**r, "started_at": "2030-01-01T00:00:00+00:00"} for r in records]
    second = build_crate(manifest, shifted, "results/provenance", {"seed": 1})

    def without_times(crate):
        return [
            {k: v for k, v in e.items() if k not in ("startTime", "endTime", "datePublished")}
            for e in crate["@graph"]
        ]

    assert first != second
    assert without_times(first) == without_times(second)


def test_manifest_keeps_the_targets_and_the_manifest_jobs_own_files(run):
    """The targets `rule all` asked for are kept (the audit checks each was made); the log of
    the job writing the manifest is a provenance file, not an unrecorded stray."""
    write("results/logs/write_manifest.log", "")
    manifest = build_manifest(
        JOBS,
        "results",
        "data/raw",
        targets=[BRIEF, Path(CLEAN), "results/provenance/manifest.json"],
        provenance_files=["results/logs/write_manifest.log"],
    )
    assert manifest["targets"] == sorted([BRIEF, CLEAN])
    assert "results/logs/write_manifest.log" in manifest["provenance_files"]
    assert manifest["unrecorded"] == []


def test_a_folder_output_is_recorded_file_by_file_without_snakemakes_mark(tmp_path) -> None:
    """A wave's findings folder (a `directory()` output) is recorded as each file in it, so the
    manifest names the job that made each brief's findings; Snakemake's empty mark is left out,
    and a hidden file that is not that mark still counts."""
    from analysis.provenance.record import files_of

    folder = tmp_path / "findings" / "2025"
    folder.mkdir(parents=True)
    for name in ("regional.yaml", "briefs.json", ".snakemake_timestamp"):
        (folder / name).write_text("" if name.startswith(".") else name, encoding="utf-8")
    (folder / ".regional.yaml.tmp").write_text("half", encoding="utf-8")
    assert files_of(folder) == [
        folder / ".regional.yaml.tmp",
        folder / "briefs.json",
        folder / "regional.yaml",
    ]
    assert files_of(folder / "briefs.json") == [folder / "briefs.json"]


def test_lineage_and_trace_follow_the_inputs_each_output_was_made_from() -> None:
    """A wave's findings job makes every brief of the wave; the regional brief reads the results
    framework, a country's does not. Its record names the inputs of each output (`made_from`),
    so a country brief's lineage and trace leave the framework out, the regional's keep it, and
    an output the record does not name rests on every input."""
    from analysis.provenance.manifest import lineage, trace

    survey, framework = "data/raw/officer_survey/2025.sav", "data/raw/results_framework/2019.csv"
    clean, progress = "results/clean/2025.parquet", "results/tables/progress.parquet"
    regional, country = "results/findings/2025/regional.yaml", "results/findings/2025/lao.yaml"
    plan = "results/findings/2025/briefs.json"

    def files(*paths: str) -> list[dict]:
        return [{"path": p, "sha256": "0" * 64} for p in paths]

    jobs = {
        "clean_wave": {"rule": "clean_wave", "wildcards": {}, "inputs": files(survey),
                       "outputs": files(clean)},
        "results_progress": {"rule": "results_progress", "wildcards": {},
                             "inputs": files(framework), "outputs": files(progress)},
        "build_findings 2025": {
            "rule": "build_findings", "wildcards": {"wave": "2025"},
            "inputs": files(clean, progress), "outputs": files(regional, country, plan),
            "made_from": {regional: [clean, progress], country: [clean]},
        },
    }  # fmt: skip
    outputs = {out["path"]: {"job": jid} for jid, job in jobs.items() for out in job["outputs"]}
    manifest = {"raw": {survey: {}, framework: {}}, "outputs": outputs, "jobs": jobs}
    found = lineage(manifest)
    assert found[country] == [survey]
    assert found[regional] == [survey, framework]
    assert found[plan] == [survey, framework]  # not named: every input of its job
    steps = trace(manifest, country)
    assert [s["job"] for s in steps] == ["clean_wave", "build_findings 2025"]
    assert [i["path"] for i in steps[-1]["inputs"]] == [clean]
    assert [s["job"] for s in trace(manifest, regional)] == [
        "clean_wave",
        "results_progress",
        "build_findings 2025",
    ]


SCRIPT_PROCESS = """
import sys
from pathlib import Path
from types import SimpleNamespace
sys.path.insert(0, {tests!r})
from test_provenance import fake_snakemake
snakemake = fake_snakemake(
    "demo", outputs={{"out": "out.txt", "record": "record.json"}}, log=["demo.log"]
)
if {as_snakemake}:
    __real_file__ = __file__  # what Snakemake's preamble sets in a job's script
from analysis.provenance import job
import atexit
atexit.register(lambda: Path("teardown.txt").write_text("ran"))
with job(snakemake):
    Path("out.txt").write_text("made")
    print("logged", file=sys.stderr)
    print("printed", flush=False)
Path("after.txt").write_text("ran")
"""


def run_script(folder: Path, text: str):
    """Run `text` as a script in its own interpreter in `folder` (the repository importable)."""
    import subprocess

    script = folder / "script.py"
    script.write_text(text)
    repo = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.parametrize("as_snakemake", [True, False])
def test_a_snakemake_job_process_ends_with_its_block(tmp_path: Path, as_snakemake: bool) -> None:
    """In the process Snakemake started for a job, a successful block ends the process at once
    (no interpreter teardown, issue 18) with status 0, its output, record, log and printed
    output all written; anywhere else (a test, a notebook) the code after the block runs."""
    text = SCRIPT_PROCESS.format(tests=str(Path(__file__).parent), as_snakemake=as_snakemake)
    done = run_script(tmp_path, text)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.txt").read_text() == "made"
    assert json.loads((tmp_path / "record.json").read_text())["rule"] == "demo"
    assert "logged" in (tmp_path / "demo.log").read_text()
    assert done.stdout == "printed\n"
    assert (tmp_path / "after.txt").exists() is not as_snakemake
    assert (tmp_path / "teardown.txt").exists() is not as_snakemake


def test_a_failed_block_is_not_ended_early(tmp_path: Path) -> None:
    """A failing job still raises: Snakemake sees the non-zero status of the traceback."""
    text = SCRIPT_PROCESS.format(tests=str(Path(__file__).parent), as_snakemake=True)
    done = run_script(tmp_path, text.replace('Path("out.txt").write_text("made")', "1 / 0"))
    assert done.returncode == 1
    assert "ZeroDivisionError" in done.stderr
    assert not (tmp_path / "record.json").exists()
