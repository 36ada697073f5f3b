"""The package's folders show the data flow: a stage never imports from a stage after it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "analysis"

# Stages in the order data flow through them; stages of one rank are side by side.
STAGE_RANK = {
    "config": 0,
    "io": 0,
    "ingest": 1,
    "validate": 2,
    "clean": 3,
    "survey": 4,
    "training": 4,
    "interviews": 4,
    "results_framework": 4,
    "context": 4,
    "figures": 5,
    "findings": 6,
    "render": 7,
}


def imported_stages(path: Path) -> set[tuple[str, str]]:
    """(module, stage) for every `analysis.<stage>...` import in one file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "analysis" and len(parts) > 1:
                found.add((name, parts[1]))
    return found


def backward_imports(package: Path = PACKAGE) -> list[str]:
    """Every import of a stage by an earlier stage (or by a stage of the same rank)."""
    wrong = []
    for path in sorted(package.rglob("*.py")):
        stage = path.relative_to(package).parts[0]
        if stage not in STAGE_RANK:
            continue
        for module, target in imported_stages(path):
            if target in STAGE_RANK and target != stage and STAGE_RANK[target] >= STAGE_RANK[stage]:
                wrong.append(f"{path.relative_to(package.parent)} imports {module}")
    return wrong


def test_every_stage_folder_is_a_package_that_says_what_it_does() -> None:
    for stage in STAGE_RANK:
        init = PACKAGE / stage / "__init__.py"
        assert init.is_file(), f"{stage}/ has no __init__.py"
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), init


def test_no_stage_imports_from_a_later_stage() -> None:
    assert backward_imports() == []


def test_the_check_sees_a_backward_import(tmp_path: Path) -> None:
    package = tmp_path / "analysis"
    (package / "clean").mkdir(parents=True)
    (package / "survey").mkdir()
    (package / "clean" / "wave.py").write_text("from analysis.findings.book import escape_md\n")
    (package / "survey" / "models.py").write_text("from analysis.clean.wave import clean\n")
    assert backward_imports(package) == ["analysis/clean/wave.py imports analysis.findings.book"]


def test_only_shared_modules_stay_at_the_top() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert top == [
        "__init__",
        "__main__",
        "atomic",
        "cli",
        "disclosure",
        "errors",
        "hashing",
        "markdown",
        "tables",
    ]


def test_a_render_job_loads_no_pandas() -> None:
    """Each brief is rendered in its own process, and pandas alone takes about 0.4 s of CPU to
    import: what workflow/scripts/render_brief.py imports must not pull it in (issue 18)."""
    import subprocess
    import sys

    script = PACKAGE.parent / "workflow" / "scripts" / "render_brief.py"
    imports = [
        line
        for line in script.read_text(encoding="utf-8").splitlines()
        if line.startswith(("import ", "from "))
    ]
    assert any("analysis.render" in line for line in imports), imports
    check = "\n".join(
        [*imports, "import sys", "print(sorted({'pandas', 'numpy'} & set(sys.modules)))"]
    )
    done = subprocess.run(
        [sys.executable, "-c", check],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"render_brief.py's imports load {done.stdout.strip()}"


def test_every_workflow_script_ends_with_its_job_block() -> None:
    """A successful job's process ends when its `with job(...)` block does (os._exit, issue 18,
    analysis/provenance/record.py): a statement after the block would silently never run."""
    scripts = sorted((PACKAGE.parent / "workflow" / "scripts").glob("*.py"))
    assert scripts
    for script in scripts:
        tree = ast.parse(script.read_text(encoding="utf-8"))
        last = tree.body[-1]
        calls = [
            item.context_expr.func.id
            for item in getattr(last, "items", [])
            if isinstance(item.context_expr, ast.Call)
            and isinstance(item.context_expr.func, ast.Name)
        ]
        assert isinstance(last, ast.With) and "job" in calls, (
            f"{script.name}: its last statement must be its `with job(...)` block"
        )
