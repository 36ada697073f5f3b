"""End to end: the whole Snakemake workflow on the bundled data, in copies of the project.

Runs (2 cores): one full run (`workflow_run`), one more full run at another path for byte
identity (`workflow_rerun`), and two incremental runs in copies of the first run: one that adds a
wave and then changes a value (`grown_run`), one with privacy canaries planted (`canary_run`).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from workflow_run import (
    PlannedJob,
    WorkflowRun,
    copy_run,
    dry_run_jobs,
    find_canaries,
    pdf_text,
    rewrite_sav,
    rewrite_xlsx_rows,
    run_python,
    run_snakemake,
    snakemake_executable,
    tree_hashes,
)

from analysis.config.plan import load_plan
from analysis.ingest.discover import wave_files
from analysis.render import render_brief
from analysis.render.findings_file import load_findings
from analysis.render.projects import brief_document, unresolved_includes
from analysis.render.staging import stage_brief

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.skipif(
        not snakemake_executable().is_file(),
        reason=f"snakemake not installed beside {snakemake_executable().parent}",
    ),
]

SURVEY = "officer_survey"
BRIEF_WAVES = ("2023", "2025")
BRIEF_FORMATS = ("html", "pdf", "docx")
FIGURES = ("women_by_country", "training_gain", "code_cooccurrence")
INTERVIEW_TABLES = (
    "frequencies",
    "themes",
    "cooccurrence",
    "theme_cooccurrence",
    "sex_differences",
    "reliability",
    "quotes",
)
# Files that may differ between two runs on the same inputs: wall-clock times live only here.
TIMED = ("provenance/jobs/", "logs/", "provenance/ro-crate-metadata.json", "report.html")
CANARIES = ("Canaryname", "Zqxwv", "99 123 4567", "canary.zqxwv", "Canaryvillage")
VAR = re.compile(r"\{\{<\s*var\s+([A-Za-z0-9_.-]+)\s*>\}\}")


def need_pdftotext() -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed: make system-deps-test")


def config_of(root: Path) -> dict:
    return yaml.safe_load((root / "config" / "config.yaml").read_text(encoding="utf-8"))


def read_findings(results: Path, wave: str, brief: str = "regional") -> dict:
    return yaml.safe_load((results / "findings" / wave / f"{brief}.yaml").read_text("utf-8"))


SMART = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def flat(text: str) -> str:
    """Text with entities decoded, tags dropped, curly quotes made straight (pandoc's smart
    typography) and runs of white space made one space."""
    text = re.sub(r"<[^>]+>", " ", html.unescape(text)).translate(SMART)
    return re.sub(r"\s+", " ", text)


def brief_html(results: Path, wave: str) -> str:
    return flat((results / "briefs" / wave / "regional.html").read_text(encoding="utf-8"))


def quoted_findings(root: Path, brief: str = "regional") -> set[str]:
    """Names of the findings the brief's .qmd quotes with `{{< var name >}}`."""
    return set(VAR.findall((root / "reports" / brief / f"{brief}.qmd").read_text(encoding="utf-8")))


def record_key(record: dict) -> tuple[str, tuple[tuple[str, str], ...]]:
    wildcards = record.get("wildcards") or {}
    return record["rule"], tuple(sorted((str(k), str(v)) for k, v in wildcards.items()))


def job_key(job: PlannedJob) -> tuple[str, tuple[tuple[str, str], ...]]:
    return job.rule, tuple(sorted(job.wildcards))


def job_records(results: Path) -> dict[str, dict]:
    folder = results / "provenance" / "jobs"
    return {
        p.relative_to(folder).as_posix(): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(folder.rglob("*.json"))
    }


# ---- Quarto: every brief the run made stages as a project Quarto can render ------------------


def findings_files(results: Path) -> list[Path]:
    """Every brief's findings: regional and country briefs per wave, survey datasets' briefs."""
    return sorted(results.glob("findings/**/*.yaml"))


def test_every_brief_stages_as_a_self_consistent_quarto_project(
    workflow_run: WorkflowRun, tmp_path: Path
) -> None:
    """Quarto expands the includes of every document of a project: with the findings the run
    really made (never a union of every brief's), each staged brief must hold one document
    whose includes all resolve."""
    root = workflow_run.root
    paths = findings_files(workflow_run.results)
    assert len(paths) >= 4, paths
    assert any(path.parts[-3] == "survey" for path in paths), paths
    for path in paths:
        qmd = brief_document(load_findings(path).kind, root / "reports")
        work = tmp_path / path.relative_to(workflow_run.results).with_suffix("")
        staged = stage_brief(qmd, load_findings(path), work, "quarto", root)
        assert [p.name for p in staged.root.rglob("*.qmd")] == [qmd.name], path
        assert unresolved_includes(staged.root) == [], path


def test_quarto_renders_every_brief_the_run_made(workflow_run: WorkflowRun, tmp_path: Path):
    if shutil.which("quarto") is None:
        pytest.skip("quarto not on PATH (our build machines cannot install it)")
    root = workflow_run.root
    for path in findings_files(workflow_run.results):
        qmd = brief_document(load_findings(path).kind, root / "reports")
        out = render_brief(
            qmd, path, tmp_path / "q" / path.parent.name, engine="quarto",
            work_dir=tmp_path / "w", data_root=root,
        )  # fmt: skip
        for rendered in out.values():
            assert rendered.stat().st_size > 1000, rendered


def test_every_survey_dataset_gets_a_default_brief(workflow_run: WorkflowRun) -> None:
    """No declaration: each survey dataset with a plan entry gets a brief per wave quoting its
    plan's estimates, each number a finding with its source row."""
    root, results = workflow_run.root, workflow_run.results
    config = config_of(root)
    plan = load_plan(root / config["plan"])
    surveys = [d for d, spec in config["datasets"].items() if spec["kind"] == "survey"]
    assert surveys
    for dataset in surveys:
        for wave in sorted(wave_files(root / config["raw_dir"] / dataset)):
            findings = yaml.safe_load(
                (results / "findings" / "survey" / dataset / f"{wave}.yaml").read_text("utf-8")
            )
            first = plan[dataset]["estimates"][0]["id"]
            quoted = [k for k in findings["findings"] if k.startswith(f"{first}__overall")]
            assert quoted, sorted(findings["findings"])
            html = flat(
                (results / "briefs" / "survey" / dataset / wave / f"{dataset}.html").read_text(
                    encoding="utf-8"
                )
            )
            for key in quoted:
                assert findings["findings"][key]["text"] in html, key
                assert not source_problems(root, key, findings["findings"][key]["source"])
            for fmt in BRIEF_FORMATS:
                path = results / "briefs" / "survey" / dataset / wave / f"{dataset}.{fmt}"
                assert path.stat().st_size > 1000, path


def test_every_brief_the_run_made_keeps_to_two_to_four_pages(workflow_run: WorkflowRun) -> None:
    """The real run's briefs, provenance appendix included (its data-file list grows with every
    raw file a brief rests on: the previous wave, the results framework), stay in the genre."""
    pypdf = pytest.importorskip("pypdf")
    # a survey's default brief lists every estimate of its plan, so it runs as long as the plan
    # (10 pages for the officer survey): it is a researcher's overview, not a policy brief
    pdfs = [
        p for p in sorted(workflow_run.results.glob("briefs/**/*.pdf")) if "survey" not in p.parts
    ]
    assert len(pdfs) >= 19
    pages = {str(p.relative_to(workflow_run.results)): len(pypdf.PdfReader(p).pages) for p in pdfs}
    assert {name: n for name, n in pages.items() if not 1 <= n <= 4} == {}
    assert all(n >= 2 for name, n in pages.items() if name.endswith("regional.pdf"))


def test_no_output_carries_a_path_of_the_machine(workflow_run: WorkflowRun, tmp_path: Path):
    """Outputs are shared: none may name the checkout, the temp folder or the home folder
    (text, DOCX XML, PDF text and metadata, HTML with its embedded files, PNG/SVG metadata),
    the Snakemake report included."""
    root = workflow_run.root
    report = tmp_path / "report" / "report.html"
    report.parent.mkdir()
    run_snakemake(root, "--report", str(report), cores=1)
    folders = (tempfile.gettempdir(), str(Path.home()))  # with a separator: PDFs have "/Root"
    paths = sorted({str(root), str(root.resolve()), *(os.path.join(f, "") for f in folders)})
    hits = find_canaries([workflow_run.results, report.parent], paths)
    assert hits == [], hits[:20]


# ---- 1. one run makes everything --------------------------------------------------------------


def test_run_makes_every_output(workflow_run: WorkflowRun) -> None:
    root, results = workflow_run.root, workflow_run.results
    config = config_of(root)
    missing: list[str] = []

    def need(rel: str) -> Path:
        path = results / rel
        if not path.is_file() or path.stat().st_size == 0:
            missing.append(rel)
        return path

    plan = load_plan(root / config["plan"])
    for dataset, spec in sorted(config["datasets"].items()):
        waves = sorted(wave_files(root / config["raw_dir"] / dataset))
        assert waves, f"no waves of {dataset} in the copy"
        for wave in waves:
            for ext in ("parquet", "csv", "codebook.json"):
                need(f"clean/{dataset}/{wave}.{ext}")
            need(f"quarantine/{dataset}/{wave}.csv")
            report_path = need(f"quarantine/{dataset}/{wave}.report.json")
            if report_path.is_file():
                report = json.loads(report_path.read_text(encoding="utf-8"))
                assert report["rows_in"] == report["rows_valid"] + report["rows_quarantined"], (
                    f"{dataset} {wave}: reconciliation does not add up: {report}"
                )
                quarantined = pd.read_csv(results / f"quarantine/{dataset}/{wave}.csv")
                assert quarantined["row"].nunique() == report["rows_quarantined"], (
                    f"{dataset} {wave}: quarantine CSV rows != report's rows_quarantined"
                )
            if spec["kind"] == "survey":
                need(f"tables/{dataset}/{wave}/estimates.parquet")
                need(f"tables/{dataset}/{wave}/estimates.csv")
                for model in plan[dataset].get("models", []):
                    for ext in ("parquet", "csv", "card.json"):
                        need(f"models/{dataset}/{wave}/{model['id']}.{ext}")
            elif spec["kind"] == "training":
                need(f"tables/{dataset}/{wave}/prepost.parquet")
            elif spec["kind"] == "interviews":
                for name in INTERVIEW_TABLES:
                    need(f"interviews/{dataset}/{wave}/{name}.csv")
    for wave in BRIEF_WAVES:
        for name in FIGURES:
            for ext in ("svg", "png", "alt.txt"):
                need(f"figures/{wave}/{name}.{ext}")
        need(f"findings/{wave}/regional.yaml")
        for fmt in BRIEF_FORMATS:
            need(f"briefs/{wave}/regional.{fmt}")
    need("provenance/manifest.json")
    need("provenance/ro-crate-metadata.json")
    assert not missing, f"missing or empty outputs: {missing}"

    for wave in BRIEF_WAVES:
        brief = results / "briefs" / wave / "regional"
        assert brief.with_suffix(".pdf").read_bytes().startswith(b"%PDF-")
        assert brief.with_suffix(".docx").read_bytes().startswith(b"PK")
        assert "<html" in brief.with_suffix(".html").read_text(encoding="utf-8").lower()


def test_every_job_has_one_record(workflow_run: WorkflowRun) -> None:
    ran = Counter(job_key(j) for j in workflow_run.jobs)
    assert ran, "found no jobs in Snakemake's output"
    records = job_records(workflow_run.results)
    recorded = Counter(record_key(r) for r in records.values())
    assert recorded == ran, (
        f"jobs without a record: {sorted((ran - recorded).elements())}; "
        f"records without a job: {sorted((recorded - ran).elements())}"
    )
    for rel, record in records.items():
        assert rel.startswith(record["rule"] + "/"), f"record {rel} is of rule {record['rule']}"


def test_audit_passes(workflow_run: WorkflowRun) -> None:
    done = run_python(workflow_run.root, "-m", "analysis", "audit", "--results", "results")
    assert done.returncode == 0, f"wps audit failed:\n{done.stdout}\n{done.stderr}"


# ---- 2. nothing left to do --------------------------------------------------------------------


def test_second_invocation_has_nothing_to_do(workflow_run: WorkflowRun) -> None:
    planned, output = dry_run_jobs(workflow_run.root)
    assert not planned, f"a finished run still plans jobs: {planned}\n{output[-3000:]}"
    assert "Nothing to be done" in output, output[-3000:]


# ---- 7. every finding points at one row of a real table -------------------------------------


def read_source_table(path: Path) -> pd.DataFrame:
    """A finding's source table: Parquet, CSV, or JSON (an object is one row, a list is rows)."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return pd.DataFrame([data] if isinstance(data, dict) else data)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def source_problems(root: Path, name: str, source: dict) -> list[str]:
    """What is wrong with one finding's source {table, row, column} (empty: nothing)."""
    table_path = root / source["table"]
    if not table_path.is_file():
        return [f"{name}: table {source['table']} does not exist"]
    table = read_source_table(table_path)
    problems = []
    columns = [c.strip() for c in str(source["column"]).split(",")]
    problems += [f"{name}: no column {c!r} in {source['table']}" for c in columns if c not in table]
    selected = pd.Series(True, index=table.index)
    for column, value in (source.get("row") or {}).items():
        if column not in table:
            return [*problems, f"{name}: row key {column!r} is not a column of {source['table']}"]
        selected &= table[column].astype(str) == str(value)
    if int(selected.sum()) != 1:
        problems.append(
            f"{name}: row {source.get('row')} selects {int(selected.sum())} rows of "
            f"{source['table']}, not 1"
        )
    return problems


def test_every_finding_has_a_source_row(workflow_run: WorkflowRun) -> None:
    problems: list[str] = []
    checked = 0
    for wave in BRIEF_WAVES:
        findings = read_findings(workflow_run.results, wave)["findings"]
        assert findings, f"{wave}: no findings"
        for name, finding in sorted(findings.items()):
            source = finding.get("source") or {}
            if "derived_from" in source:
                parts = source["derived_from"]
                if not parts and finding.get("value") is not None:
                    problems.append(f"{wave} {name}: a number derived from nothing")
            elif "table" in source:
                parts = [source]
            else:
                problems.append(f"{wave} {name}: source has neither table nor derived_from")
                continue
            for part in parts:
                if "finding" in part:  # derived from another finding of the same file
                    if part["finding"] not in findings:
                        problems.append(f"{wave} {name}: derived from unknown {part['finding']}")
                    continue
                problems += source_problems(workflow_run.root, f"{wave} {name}", part)
                checked += 1
    assert checked > 20
    assert not problems, "\n".join(problems)


def test_brief_quotes_its_findings(workflow_run: WorkflowRun) -> None:
    quoted = quoted_findings(workflow_run.root)
    assert "women_share" in quoted
    for wave in BRIEF_WAVES:
        findings = read_findings(workflow_run.results, wave)["findings"]
        page = brief_html(workflow_run.results, wave)
        assert "{{<" not in page, f"{wave}: the HTML brief has an unrendered shortcode"
        absent = {
            k: findings[k]["text"]
            for k in sorted(quoted & set(findings))
            if flat(findings[k]["text"]) not in page
        }
        assert not absent, f"{wave}: finding texts missing from the HTML brief: {absent}"


# ---- 4. same inputs, same bytes ---------------------------------------------------------------


def test_rerun_elsewhere_is_byte_identical(
    workflow_run: WorkflowRun, workflow_rerun: WorkflowRun
) -> None:
    """The second run was killed part-way, resumed with --rerun-incomplete on one core, at
    another path: none of that may show in the outputs."""
    assert workflow_run.root != workflow_rerun.root
    first, second = tree_hashes(workflow_run.results), tree_hashes(workflow_rerun.results)
    compared = sorted(p for p in set(first) | set(second) if not p.startswith(TIMED))
    differ = [p for p in compared if first.get(p) != second.get(p)]
    assert len(compared) > 100
    assert not differ, f"files that differ between two runs on the same inputs: {differ}"

    def manifest(run: WorkflowRun) -> dict:
        return json.loads((run.results / "provenance" / "manifest.json").read_text("utf-8"))

    assert manifest(workflow_run)["content_hash"] == manifest(workflow_rerun)["content_hash"]
    for run in (workflow_run, workflow_rerun):
        leaked = [
            p
            for p in compared
            if str(run.root) in (run.results / p).read_bytes().decode("utf-8", errors="replace")
        ]
        assert not leaked, f"outputs holding the run's absolute path {run.root}: {leaked}"


# ---- 3 and 6. a new wave, then a changed value ------------------------------------------------


@dataclass
class GrownRun:
    """A copy of the first run, grown by wave 2027 and then changed in wave 2025."""

    root: Path
    before: dict[str, str]  # hashes under results/ after the first run
    planned_2027: list[PlannedJob]
    ran_2027: list[PlannedJob]
    with_2027: dict[str, str]  # hashes after adding 2027
    findings_before: dict
    findings_after: dict
    pdf_before: str
    pdf_after: str


MEN_MADE_WOMEN = 300


def men_to_women(data: pd.DataFrame) -> pd.DataFrame:
    men = data.index[data["sex"] == 1][:MEN_MADE_WOMEN]
    assert len(men) == MEN_MADE_WOMEN
    data.loc[men, "sex"] = 2.0
    return data


@pytest.fixture(scope="module")
def grown_run(workflow_run: WorkflowRun, tmp_path_factory: pytest.TempPathFactory) -> GrownRun:
    need_pdftotext()
    root = copy_run(workflow_run.root, tmp_path_factory.mktemp("wps-grown") / "project")
    results = root / "results"
    before = tree_hashes(results)
    survey = root / "data" / "raw" / SURVEY
    # a new wave: 2025's rows, with the wave column saying 2027 (validation refuses a file whose
    # wave column names another wave); not the bundled data, so a real key, as for real data
    shutil.copy2(survey / "2025.sav", survey / "2027.sav")
    rewrite_sav(survey / "2027.sav", lambda data: data.assign(wave=2027))
    planned, _ = dry_run_jobs(root)
    done = run_snakemake(root, env={"WPS_PSEUDONYM_KEY": CANARY_KEY})
    ran = WorkflowRun(root, done.stdout + "\n" + done.stderr).jobs
    with_2027 = tree_hashes(results)
    findings_before = read_findings(results, "2025")
    pdf_before = pdf_text(results / "briefs" / "2025" / "regional.pdf")
    rewrite_sav(survey / "2025.sav", men_to_women)
    # no longer the bundled data, so the public example key is refused: a real key, as for real data
    run_snakemake(root, env={"WPS_PSEUDONYM_KEY": CANARY_KEY})
    return GrownRun(
        root=root,
        before=before,
        planned_2027=planned,
        ran_2027=ran,
        with_2027=with_2027,
        findings_before=findings_before,
        findings_after=read_findings(results, "2025"),
        pdf_before=pdf_before,
        pdf_after=pdf_text(results / "briefs" / "2025" / "regional.pdf"),
    )


def other_waves(jobs: list[PlannedJob]) -> list[PlannedJob]:
    """Jobs of a wave other than 2027 (run-wide jobs, with no wave, may rerun: the manifest,
    comparisons across waves)."""
    return [j for j in jobs if j.wildcard_dict.get("wave", "2027") != "2027"]


def run_wide_files(jobs: list[PlannedJob]) -> tuple[str, ...]:
    """Paths under results/ (prefixes) written by the run-wide jobs among `jobs`."""
    found: list[str] = []
    for job in jobs:
        if "wave" in job.wildcard_dict:
            continue
        found += [p.removeprefix("results/") for p in job.outputs]
        found += [f"logs/{job.rule}", f"provenance/jobs/{job.rule}/"]
    return tuple(found)


def test_new_wave_plans_only_its_own_jobs(grown_run: GrownRun) -> None:
    planned = grown_run.planned_2027
    assert not other_waves(planned), (
        f"adding wave 2027 also plans jobs of other waves: {other_waves(planned)}"
    )
    rules = Counter(j.rule for j in planned)
    for rule in ("prepare_wave", "write_manifest"):
        assert rules[rule] == 1, f"{rule}: planned {rules[rule]} jobs, expected 1"
    # A dry run stops at a checkpoint (the wave's findings): what comes after shows in the real
    # run. One findings job per wave describes its inputs, draws its figures and builds all of
    # its briefs' findings.
    per_wave = ("prepare_wave", "estimate_survey", "build_findings")
    models = load_plan(grown_run.root / "config" / "plan.yaml")[SURVEY].get("models", [])
    ran = Counter(j.rule for j in grown_run.ran_2027)
    assert not other_waves(grown_run.ran_2027), (
        f"adding wave 2027 also ran jobs of other waves: {other_waves(grown_run.ran_2027)}"
    )
    for rule in per_wave:
        assert ran[rule] == 1, f"adding wave 2027 ran {ran[rule]} {rule} jobs, not 1: {dict(ran)}"
    for rule in ("draw_figures", "build_findings", "render_brief", "write_manifest"):
        assert ran[rule] >= 1, f"adding wave 2027 ran no {rule} job: {dict(ran)}"
    assert ran["fit_model"] == len(models)


def test_new_wave_leaves_other_outputs_alone(grown_run: GrownRun) -> None:
    run_wide = run_wide_files(grown_run.ran_2027)
    assert "provenance/manifest.json" in run_wide
    changed = [
        p
        for p, digest in grown_run.before.items()
        if not p.startswith(run_wide) and grown_run.with_2027.get(p) != digest
    ]
    assert not changed, f"adding wave 2027 changed outputs or job records of other waves: {changed}"
    for fmt in BRIEF_FORMATS:
        assert f"briefs/2027/regional.{fmt}" in grown_run.with_2027
    new = {p for p in grown_run.with_2027 if p not in grown_run.before}
    assert all("2027" in p for p in new), sorted(p for p in new if "2027" not in p)


def qmd_context(root: Path, name: str, words: int = 2) -> tuple[str, str]:
    """The plain words just before and after `{{< var name >}}` in the regional brief's source."""
    source = (root / "reports" / "regional" / "regional.qmd").read_text(encoding="utf-8")
    for line in source.splitlines():
        found = re.search(r"\{\{<\s*var\s+" + re.escape(name) + r"\s*>\}\}", line)
        if found:
            before = re.sub(r"[*_`]", "", line[: found.start()]).split()[-words:]
            after = re.sub(r"[*_`]", "", line[found.end() :]).split()[:words]
            return " ".join(before), " ".join(after)
    raise AssertionError(f"reports/regional.qmd does not quote {name}")


def test_changed_value_changes_the_brief(grown_run: GrownRun) -> None:
    old = grown_run.findings_before["findings"]["women_share"]
    new = grown_run.findings_after["findings"]["women_share"]
    assert new["value"] > old["value"] + 0.05, (old, new)
    assert new["text"] != old["text"], f"women_share text did not change: {old['text']}"

    before, after = qmd_context(grown_run.root, "women_share")
    sentence = re.escape(before) + r"\s+" + re.escape(new["text"]) + r"\s+" + re.escape(after)
    old_sentence = re.escape(before) + r"\s+" + re.escape(old["text"]) + r"\s+" + re.escape(after)
    assert re.search(old_sentence, flat(grown_run.pdf_before)), "old text not in the old PDF"
    assert re.search(sentence, flat(grown_run.pdf_after)), (
        f"PDF does not say '{before} {new['text']} {after}'"
    )
    assert not re.search(old_sentence, flat(grown_run.pdf_after)), "PDF still has the old text"
    page = brief_html(grown_run.root / "results", "2025")
    assert re.search(sentence, page), f"HTML does not say '{before} {new['text']} {after}'"

    findings = grown_run.findings_after["findings"]
    quoted = quoted_findings(grown_run.root) & set(findings)
    absent = {
        k: v["text"] for k, v in findings.items() if k in quoted and flat(v["text"]) not in page
    }
    assert not absent, f"finding texts missing from the HTML brief after the change: {absent}"


def test_changed_value_reruns_cleanly(grown_run: GrownRun) -> None:
    planned, output = dry_run_jobs(grown_run.root)
    assert not planned, f"jobs still planned after the rerun: {planned}\n{output[-2000:]}"
    done = run_python(grown_run.root, "-m", "analysis", "audit", "--results", "results")
    assert done.returncode == 0, f"wps audit failed after the rerun:\n{done.stdout}\n{done.stderr}"


# ---- 5. privacy canaries ----------------------------------------------------------------------

CANARY_NAME = "Canaryname Zqxwv"
CANARY_PHONE = "+855 99 123 4567"
CANARY_COMMENT = "call Canaryname Zqxwv at canary.zqxwv@example.org in Canaryvillage Qwzx"
CANARY_QUOTE = "They kept us in a house outside Canaryvillage Qwzx and took our papers."
CANARY_ROWS = 40
CANARY_KEY = "Canarykey-Xq7vWz-pseudonym-key-under-test"


def plant_survey_canaries(data: pd.DataFrame) -> pd.DataFrame:
    rows = data.index[::75][:CANARY_ROWS]
    data.loc[rows, "name"] = CANARY_NAME
    data.loc[rows, "phone"] = CANARY_PHONE
    data.loc[rows, "comment"] = CANARY_COMMENT
    return data


def plant_interview_canaries(path: Path) -> int:
    """A consented quote naming a village, and the respondent's name, in a few interview rows."""
    done: list[str] = []

    def edit(row: dict) -> dict | None:
        consented = str(row.get("quote_consent") or "").strip().lower() == "yes"
        if not consented or not row.get("quote") or len(done) >= 3:
            return None
        done.append(str(row.get("quote_id")))
        return {**row, "quote": CANARY_QUOTE, "respondent_name": CANARY_NAME}

    return rewrite_xlsx_rows(path, edit)


@pytest.fixture(scope="module")
def canary_run(workflow_run: WorkflowRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_run(workflow_run.root, tmp_path_factory.mktemp("wps-canary") / "project")
    raw = root / "data" / "raw"
    rewrite_sav(raw / SURVEY / "2025.sav", plant_survey_canaries)
    assert plant_interview_canaries(raw / "interviews" / "2024.xlsx") == 3
    key = {"WPS_PSEUDONYM_KEY": CANARY_KEY}
    run_snakemake(root, env=key)
    run_snakemake(root, "--report", "results/report.html", env=key)
    return root


def test_planted_canaries_reach_the_raw_files(canary_run: Path) -> None:
    """The canaries really are in the raw data (else the search below proves nothing)."""
    import pyreadstat

    data, _ = pyreadstat.read_sav(str(canary_run / "data/raw" / SURVEY / "2025.sav"))
    assert (data["name"] == CANARY_NAME).sum() == CANARY_ROWS
    assert (data["comment"] == CANARY_COMMENT).sum() == CANARY_ROWS
    sheet = pd.read_excel(canary_run / "data/raw/interviews/2024.xlsx")
    assert (sheet["quote"] == CANARY_QUOTE).sum() == 3
    ran = json.loads((canary_run / "results/provenance/manifest.json").read_text("utf-8"))
    assert not ran["warnings"], ran["warnings"]
    assert (canary_run / "results" / "report.html").is_file()


# Where older runs kept raw rows, direct identifiers included, until cleaning: a wave is now
# read, validated and cleaned in one job (prepare_wave), so none may exist. Everything under
# results/ (and Snakemake's logs) must be free of identifiers.
INTERMEDIATE = ("results/ingest/", "results/validated/")


def canary_hits(root: Path) -> list[str]:
    hits = find_canaries([root / "results", root / ".snakemake" / "log"], CANARIES)
    return sorted({f"{Path(f).relative_to(root).as_posix()} ({how}): {c}" for f, how, c in hits})


def test_no_canary_leaks_into_any_output(canary_run: Path) -> None:
    need_pdftotext()
    where = canary_hits(canary_run)
    assert not where, "identifying canary values found in outputs:\n" + "\n".join(where)


def test_no_raw_rows_with_identifiers_are_written(canary_run: Path) -> None:
    """Raw rows (identifiers included) never reach the disk: no folder of ingested or validated
    tables, and no temporary output in the manifest."""
    written = [folder for folder in INTERMEDIATE if (canary_run / folder).exists()]
    assert not written, written
    manifest = json.loads((canary_run / "results/provenance/manifest.json").read_text("utf-8"))
    temporary = [p for p, e in manifest["outputs"].items() if e.get("temporary")]
    assert not temporary, temporary


def test_the_pseudonym_key_appears_nowhere(canary_run: Path) -> None:
    hits = find_canaries([canary_run / "results", canary_run / ".snakemake" / "log"], [CANARY_KEY])
    assert not hits, f"the pseudonymisation key was written to: {sorted({h[0] for h in hits})}"


def test_without_a_key_the_run_stops_saying_how_to_set_one(
    workflow_run: WorkflowRun, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = copy_run(workflow_run.root, tmp_path_factory.mktemp("wps-no-key") / "project")
    config = root / "config" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert "allow_example_key: true" in text
    config.write_text(text.replace("allow_example_key: true", "allow_example_key: false"), "utf-8")
    target = "results/clean/training/2024.parquet"
    done = run_snakemake(root, target, "--forcerun", "prepare_wave", check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "WPS_PSEUDONYM_KEY" in output and "prepare_wave" in output, output[-3000:]


# ---- interviews: consent and planted identifying details (bundled data) -----------------------


def test_no_planted_detail_or_unconsented_quote_in_any_output(workflow_run: WorkflowRun) -> None:
    """The generator plants names, villages, exact ages, phones and employers in quotes; none
    may reach any output. Quotes given without consent leave cleaning empty and never enter the
    quote bank (their sentences may also occur, with consent, in other interviews)."""
    from analysis.synth.interviews import PLANTED_IDENTIFIERS

    need_pdftotext()
    planted = sorted({str(v) for values in PLANTED_IDENTIFIERS.values() for v in values})
    assert len(planted) >= 10
    folders = [workflow_run.results, workflow_run.root / ".snakemake" / "log"]
    hits = find_canaries(folders, planted)
    where = sorted({f"{Path(f).relative_to(workflow_run.root)} ({how}): {c}" for f, how, c in hits})
    assert not where, "planted identifying details in outputs:\n" + "\n".join(where)

    sheet = pd.read_excel(workflow_run.root / "data/raw/interviews/2024.xlsx", dtype=str)
    quoted = sheet.dropna(subset=["quote_id"])
    refused = set(quoted.loc[quoted["quote_consent"] != "yes", "quote_id"])
    assert len(refused) >= 5
    bank = pd.read_csv(workflow_run.results / "interviews/interviews/2024/quotes.csv", dtype=str)
    assert len(bank) > 0 and not set(bank["quote_id"]) & refused
    cleaned = pd.read_parquet(workflow_run.results / "clean/interviews/2024.parquet")
    assert cleaned.loc[cleaned["quote_consent"] != "yes", "quote"].isna().all()
