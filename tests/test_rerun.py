"""An edit to the plan, the config or a brief's words reruns only what depends on it (issue 18).

Each test edits a copy of one full run (`workflow_run`, tests/conftest.py) and checks, against
the job records of that run, what `snakemake -n` plans, what the run then does, and that a
second `snakemake -n` has nothing left to do.

Snakemake plans a job when its params (the plan entry and config values it uses), its set of
inputs or its script changed, or an input's bytes changed, and it plans every job downstream of
a planned one: a dry run cannot know that a findings file will come out the same. The findings
jobs are checkpoints, so once one has run Snakemake looks again at its brief, and renders it
only if the findings' bytes changed. The tests check both: the planned set, and the briefs
rendered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from workflow_run import (
    PlannedJob,
    WorkflowRun,
    copy_run,
    dry_run_jobs,
    run_python,
    run_snakemake,
    sha256_file,
    snakemake_executable,
    tree_hashes,
)

from analysis.config.plan import design_of, load_plan

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.skipif(
        not snakemake_executable().is_file(),
        reason=f"snakemake not installed beside {snakemake_executable().parent}",
    ),
]

SURVEY = "officer_survey"
RENDERS = ("render_brief", "render_dataset_brief", "render_results_brief")
FINDINGS = ("build_findings", "build_dataset_findings", "build_results_findings")
RUN_WIDE = ("write_manifest",)  # the manifest lists every output: it follows any change
NEW_ESTIMATE = """\
      - id: border_share_by_sex
        title: Officers posted at a border crossing
        variable: border_posting
        statistic: proportion
        by: [women]
"""

JobKey = tuple[str, tuple[tuple[str, str], ...]]


# ---- the full run's job records: who reads what ------------------------------------------------


def job_records(results: Path) -> list[dict]:
    folder = results / "provenance" / "jobs"
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.rglob("*.json"))]
    return [r for r in records if "rule" in r and "inputs" in r]


def record_key(record: dict) -> JobKey:
    wildcards = record.get("wildcards") or {}
    return record["rule"], tuple(sorted((str(k), str(v)) for k, v in wildcards.items()))


def job_key(job: PlannedJob) -> JobKey:
    return job.rule, tuple(sorted(job.wildcards))


def downstream(records: list[dict], start: Iterable[JobKey]) -> set[JobKey]:
    """The jobs in `start` and every job that reads, directly or not, a file one of them made."""
    made = {record_key(r): {o["path"] for o in r["outputs"]} for r in records}
    reads = {record_key(r): {i["path"] for i in r["inputs"]} for r in records}
    found = set(start)
    grew = True
    while grew:
        produced = set().union(*(made.get(key, set()) for key in found))
        more = {key for key, paths in reads.items() if paths & produced} - found
        found |= more
        grew = bool(more)
    return found


def params_holding(records: list[dict], value: object) -> set[JobKey]:
    """Jobs whose recorded params hold `value` somewhere (the part of the plan they use)."""

    def holds(data: object) -> bool:
        if data == value:
            return True
        if isinstance(data, dict):
            return any(holds(v) for v in data.values())
        if isinstance(data, list):
            return any(holds(v) for v in data)
        return False

    return {record_key(r) for r in records if holds(r.get("params"))}


def planned_keys(jobs: Iterable[PlannedJob]) -> set[JobKey]:
    return {job_key(j) for j in jobs if j.rule not in RUN_WIDE}


def without_run_wide(keys: Iterable[JobKey]) -> set[JobKey]:
    return {k for k in keys if k[0] not in RUN_WIDE}


def of_rules(keys: Iterable[JobKey], rules: Iterable[str]) -> set[JobKey]:
    return {k for k in keys if k[0] in set(rules)}


def plannable(keys: Iterable[JobKey]) -> set[JobKey]:
    """The jobs of `keys` a dry run can list: which countries of a wave get a brief is known only
    once the wave's findings checkpoint has run (its brief plan), so when it is to run again a
    dry run lists the regional brief's render but no country's (Snakemake then says that the
    DAG will change after the checkpoint)."""
    return {k for k in keys if k[0] != "render_brief" or dict(k[1])["brief"] == "regional"}


def findings_hashes(results: Path) -> dict[str, str]:
    return {p: h for p, h in tree_hashes(results / "findings").items() if p.endswith(".yaml")}


def brief_html(path: str) -> str:
    """The HTML brief of a findings file (relative to results/findings/)."""
    parts = Path(path).with_suffix("").parts
    if parts[0] in ("survey", "results"):
        return f"results/briefs/{parts[0]}/{parts[1]}/{parts[2]}/{parts[1]}.html"
    return f"results/briefs/{parts[0]}/{parts[1]}.html"


def findings_render(path: str) -> JobKey:
    """The render job of a findings file (relative to results/findings/)."""
    parts = Path(path).with_suffix("").parts
    if parts[0] == "survey":
        return "render_dataset_brief", (("dataset", parts[1]), ("wave", parts[2]))
    if parts[0] == "results":
        return "render_results_brief", (("dataset", parts[1]), ("wave", parts[2]))
    return "render_brief", (("brief", parts[1]), ("wave", parts[0]))


# ---- one edit in a copy of the full run ---------------------------------------------------------


@dataclass
class Edited:
    """A copy of the full run, edited once and run again."""

    root: Path
    records: list[dict]  # job records of the full run
    planned: set[JobKey]  # `snakemake -n` after the edit (without the manifest)
    ran: set[JobKey]  # what the run after the edit did
    findings_before: dict[str, str]
    findings_after: dict[str, str]
    planned_after: list[PlannedJob]  # `snakemake -n` once more: nothing
    dry_run_text: str

    @property
    def rendered(self) -> set[JobKey]:
        return of_rules(self.ran, RENDERS)

    @property
    def changed_findings(self) -> set[str]:
        return {p for p, h in self.findings_after.items() if self.findings_before.get(p) != h}


def edit_and_rerun(
    workflow_run: WorkflowRun,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    edit,
    *args: str,
) -> Edited:
    """Copy the full run, `edit` the copy, dry-run, run (with `args`), dry-run again."""
    root = copy_run(workflow_run.root, tmp_path_factory.mktemp(f"wps-rerun-{name}") / "project")
    results = root / "results"
    before = findings_hashes(results)
    edit(root)
    planned, text = dry_run_jobs(root)
    done = run_snakemake(root, *args)
    ran = WorkflowRun(root, done.stdout + "\n" + done.stderr).jobs
    after, _ = dry_run_jobs(root)
    return Edited(
        root=root,
        records=job_records(workflow_run.results),
        planned=planned_keys(planned),
        ran=planned_keys(ran),
        findings_before=before,
        findings_after=findings_hashes(results),
        planned_after=after,
        dry_run_text=text,
    )


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path}: expected one {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def add_estimate(root: Path) -> None:
    """One more estimate in the survey's plan, before its models."""
    plan = root / "config" / "plan.yaml"
    replace_once(plan, "\n    models:\n", f"\n{NEW_ESTIMATE}\n    models:\n")


def words_of_regional_brief(root: Path) -> Path:
    return root / "reports" / "regional" / "text" / "recommendations.md"


SENTENCE = "Partners reviewed these recommendations in a second round of consultation."


def edit_regional_words(root: Path) -> None:
    path = words_of_regional_brief(root)
    path.write_text(path.read_text(encoding="utf-8") + f"\n{SENTENCE}\n", encoding="utf-8")


def widen_plausibility_bound(root: Path) -> None:
    """A config value the briefs' numbers do not rest on: the bound of the plausibility check."""
    replace_once(root / "config" / "config.yaml", "max_change_points: 20", "max_change_points: 25")


def drop_results_framework(root: Path) -> None:
    """Remove the results framework from the config (its raw folder stays on disk)."""
    path = root / "config" / "config.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index("  results_framework:\n")
    end = start + 1
    while lines[end].startswith("    "):
        end += 1
    path.write_text("".join(lines[:start] + lines[end:]), encoding="utf-8")
    assert "results_framework" not in yaml.safe_load(path.read_text("utf-8"))["datasets"]


def retitle_cited_estimate(root: Path) -> None:
    """Edit an estimate every country brief cites (its title only: the numbers stay)."""
    replace_once(
        root / "config" / "plan.yaml",
        "title: Officers who received gender-sensitive trafficking training",
        "title: Officers trained in gender-sensitive handling of trafficking cases",
    )


def assert_settled(edited: Edited) -> None:
    """A second `snakemake -n` has nothing to do (no output left older than its input)."""
    assert not edited.planned_after, f"still planned after the rerun: {edited.planned_after}"
    done = run_python(edited.root, "-m", "analysis", "audit", "--results", "results")
    assert done.returncode == 0, f"wps audit failed after the rerun:\n{done.stdout}{done.stderr}"


def assert_rendered_what_changed(edited: Edited) -> None:
    """Exactly the briefs whose findings bytes changed are rendered again."""
    expected = {findings_render(p) for p in edited.changed_findings}
    assert edited.rendered == expected, (
        f"rendered {sorted(edited.rendered)}, but the findings that changed are "
        f"{sorted(edited.changed_findings)}"
    )


# ---- (a) one more estimate ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def estimate_added(workflow_run: WorkflowRun, tmp_path_factory) -> Edited:
    return edit_and_rerun(workflow_run, tmp_path_factory, "estimate", add_estimate)


def test_added_estimate_plans_only_that_datasets_estimation_and_its_readers(
    estimate_added: Edited, workflow_run: WorkflowRun
) -> None:
    plan = load_plan(workflow_run.root / "config" / "plan.yaml")
    records = estimate_added.records
    # the jobs that hold the survey's estimates in their params, and whatever reads their files
    using = params_holding(records, plan[SURVEY]["estimates"])
    assert of_rules(using, ["estimate_survey"]), "no estimate_survey job records the estimates"
    expected = plannable(without_run_wide(downstream(records, using)))
    assert estimate_added.planned == expected, (
        f"planned but not downstream of the estimates: {sorted(estimate_added.planned - expected)}"
        f"\nnot planned: {sorted(expected - estimate_added.planned)}"
    )
    others = {k for k in estimate_added.planned if dict(k[1]).get("dataset", SURVEY) != SURVEY}
    assert not others, f"jobs of other datasets planned: {sorted(others)}"
    for rule in ("prepare_wave", "fit_model"):
        assert not of_rules(estimate_added.planned, [rule]), f"{rule} planned"


def test_added_estimate_renders_only_the_briefs_that_print_it(estimate_added: Edited) -> None:
    assert_rendered_what_changed(estimate_added)
    # the survey's default brief prints every estimate: it changes, in every wave
    changed = estimate_added.changed_findings
    waves = {p.split("/")[2] for p in changed if p.startswith(f"survey/{SURVEY}/")}
    assert waves == {"2023.yaml", "2025.yaml"}, sorted(changed)
    findings = estimate_added.root / "results" / "findings" / "survey" / SURVEY / "2025.yaml"
    assert "border_share_by_sex" in findings.read_text(encoding="utf-8")
    # the regional and country briefs cite other estimates: not rendered again
    assert not of_rules(estimate_added.rendered, ["render_brief"]), estimate_added.rendered
    assert of_rules(estimate_added.ran, ["build_findings"]), "the briefs' findings did not rerun"


def test_added_estimate_leaves_nothing_to_do(estimate_added: Edited) -> None:
    assert_settled(estimate_added)


# ---- (b) a brief's words ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def words_edited(workflow_run: WorkflowRun, tmp_path_factory) -> Edited:
    return edit_and_rerun(workflow_run, tmp_path_factory, "words", edit_regional_words)


def test_edited_words_rerender_only_that_brief(words_edited: Edited) -> None:
    briefs = words_edited.root / "results" / "briefs"
    waves = sorted(p.parent.name for p in briefs.glob("*/regional.html"))
    expected = {("render_brief", (("brief", "regional"), ("wave", wave))) for wave in waves}
    assert len(expected) == 2
    assert words_edited.planned == expected, sorted(words_edited.planned)
    assert words_edited.ran == expected, sorted(words_edited.ran)
    html = (words_edited.root / "results/briefs/2025/regional.html").read_text(encoding="utf-8")
    assert SENTENCE in re.sub(r"\s+", " ", html)
    assert not words_edited.changed_findings
    assert_settled(words_edited)


# ---- (c) a change that leaves the findings as they were ----------------------------------------


@pytest.fixture(scope="module")
def bound_widened(workflow_run: WorkflowRun, tmp_path_factory) -> Edited:
    return edit_and_rerun(workflow_run, tmp_path_factory, "bound", widen_plausibility_bound)


def test_unchanged_findings_render_nothing(bound_widened: Edited) -> None:
    checks = of_rules(bound_widened.planned, ["check_plausibility"])
    assert checks, "the plausibility checks were not planned after their bound changed"
    affected = without_run_wide(downstream(bound_widened.records, checks))
    assert bound_widened.planned == plannable(affected)
    assert of_rules(bound_widened.ran, FINDINGS), "no findings job ran"
    assert not bound_widened.changed_findings, sorted(bound_widened.changed_findings)
    assert not bound_widened.rendered, f"rendered again: {sorted(bound_widened.rendered)}"
    assert_settled(bound_widened)


# ---- an unrelated dataset removed from the config ----------------------------------------------


@pytest.fixture(scope="module")
def framework_dropped(workflow_run: WorkflowRun, tmp_path_factory) -> Edited:
    return edit_and_rerun(workflow_run, tmp_path_factory, "dropped", drop_results_framework)


def test_dropped_dataset_reruns_no_brief_of_the_others(framework_dropped: Edited) -> None:
    # only the regional brief reads the framework (its programme results section)
    readers = {
        record_key(r)
        for r in framework_dropped.records
        if any(i["path"].startswith("data/raw/results_framework/") for i in r["inputs"])
        and r["rule"] in FINDINGS
    }
    # each wave's findings job (it builds the regional brief's findings with the others')
    assert readers == {("build_findings", (("wave", w),)) for w in ("2023", "2025")}
    affected = downstream(framework_dropped.records, readers)
    assert framework_dropped.planned <= affected, sorted(framework_dropped.planned - affected)
    # of the briefs, only the regional ones changed, and only they were rendered again
    regional = {("render_brief", (("brief", "regional"), ("wave", w))) for w in ("2023", "2025")}
    assert framework_dropped.rendered == regional, sorted(framework_dropped.rendered)
    assert_rendered_what_changed(framework_dropped)
    assert not of_rules(framework_dropped.ran, ["render_dataset_brief"])
    assert not framework_dropped.planned_after, framework_dropped.planned_after


# ---- (d) provenance: every input each brief used ------------------------------------------------


def described_file(results: Path, findings: dict) -> Path:
    return results.parent / findings["provenance"]["manifest_path"]


def cited_ids(findings: dict) -> set[str]:
    """The estimate and model ids of every source row the findings cite."""
    found: set[str] = set()

    def walk(data: object) -> None:
        if isinstance(data, dict):
            row = data.get("row")
            if isinstance(row, dict):
                found.update(str(row[k]) for k in ("estimate_id", "model_id", "id") if k in row)
            for value in data.values():
                walk(value)
        elif isinstance(data, list):
            for value in data:
                walk(value)

    walk(findings.get("findings"))
    return found


def test_each_brief_describes_every_input_it_used(workflow_run: WorkflowRun) -> None:
    root, results = workflow_run.root, workflow_run.results
    manifest = json.loads((results / "provenance" / "manifest.json").read_text("utf-8"))
    plan = load_plan(root / "config" / "plan.yaml")
    paths = sorted(results.glob("findings/**/*.yaml"))
    assert len(paths) >= 6, paths
    for path in paths:
        findings = yaml.safe_load(path.read_text(encoding="utf-8"))
        described = described_file(results, findings)
        description = json.loads(described.read_text(encoding="utf-8"))
        provenance = findings["provenance"]
        assert provenance["run_id"] == description["run_id"], path
        assert provenance["manifest_hash"] == sha256_file(described), path
        files = {f["path"] for f in description["files"]}
        # every raw file the brief's lineage reaches, and the lock file
        html = brief_html(path.relative_to(results / "findings").as_posix())
        missing = set(manifest["lineage"][html]) - files
        assert not missing, f"{described} leaves out raw files {html} rests on: {missing}"
        assert "requirements.lock" in files
        # every plan entry it cites, with the design of its wave
        settings = description["settings"]
        if "plan" in settings:
            dataset, wave = settings["plan"]["dataset"], findings["wave"]
            entries = {e["id"] for e in settings["plan"]["estimates"] + settings["plan"]["models"]}
            ids = {e["id"] for e in plan[dataset]["estimates"] + plan[dataset].get("models", [])}
            assert cited_ids(findings) & ids <= entries, path
            assert settings["plan"]["design"] == design_of(plan[dataset], wave), path


def test_citing_an_edited_estimate_changes_the_run_id(
    workflow_run: WorkflowRun, tmp_path_factory
) -> None:
    """The run ID is not weakened: an edit to an estimate a brief cites gives it a new run ID
    (and so a new rendering), even when no number moves. (The run stops before the renders,
    which the next run would do: they are listed.)"""
    edited = edit_and_rerun(
        workflow_run, tmp_path_factory, "retitle", retitle_cited_estimate, "--omit-from", *RENDERS
    )
    country = {p for p in edited.findings_before if not p.startswith(("survey/", "results/"))} - {
        p for p in edited.findings_before if p.endswith("/regional.yaml")
    }
    assert country, "the run made no country brief"
    assert country <= edited.changed_findings, sorted(country - edited.changed_findings)
    for path in country:
        findings = yaml.safe_load((edited.root / "results/findings" / path).read_text("utf-8"))
        before = yaml.safe_load((workflow_run.results / "findings" / path).read_text("utf-8"))
        assert findings["provenance"]["run_id"] != before["provenance"]["run_id"], path
        values = {k: v["value"] for k, v in findings["findings"].items()}
        assert values == {k: v["value"] for k, v in before["findings"].items()}, path
    assert not edited.rendered
    to_render = {findings_render(p) for p in edited.changed_findings}
    assert planned_keys(edited.planned_after) == to_render, sorted(edited.planned_after)


def test_trace_of_a_brief_names_the_plan_entries_it_used(workflow_run: WorkflowRun) -> None:
    done = run_python(
        workflow_run.root, "-m", "analysis", "trace", "results/briefs/2025/regional.html"
    )
    assert done.returncode == 0, done.stderr
    steps = [s for s in done.stdout.split("  step ") if "job build_findings 2025 (" in s]
    assert len(steps) == 1, done.stdout[-3000:]
    assert "settings:" in steps[0] and "id: women_share" in steps[0], steps[0][-3000:]
