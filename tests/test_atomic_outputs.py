"""Figures are written whole or not at all, and every file a rule makes is one it declares.

A `kill -9` while a figure was being saved left a 0-byte SVG under its final name, which the
resume and the audit both accepted (issue 14). Here a child process really is killed (SIGKILL)
half-way through writing a figure, and what is left on disk is checked.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from analysis.atomic import is_partial, remove_partial_files  # noqa: E402
from analysis.figures.draw import save_figure  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIGURE_SUFFIXES = (".svg", ".png", ".alt.txt")

# A child that saves a figure with save_figure but is killed (SIGKILL, as by `kill -9`) after
# writing half of the bytes of the file of one format, wherever save_figure asked for them.
DYING_SAVE = textwrap.dedent(
    """
    import io, os, signal, sys
    from pathlib import Path
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    from analysis.figures.draw import save_figure

    base, dying_format = Path(sys.argv[1]), sys.argv[2]
    real_savefig = Figure.savefig

    def savefig_killed_half_way(self, fname, *args, **kwargs):
        if kwargs.get("format") != dying_format:
            return real_savefig(self, fname, *args, **kwargs)
        buffer = io.BytesIO()
        real_savefig(self, buffer, *args, **kwargs)
        data = buffer.getvalue()
        with open(fname, "wb") as handle:
            handle.write(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)

    Figure.savefig = savefig_killed_half_way
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    save_figure(fig, base, "A falling line.")
    """
)


def save_and_get_killed(base: Path, dying_format: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", DYING_SAVE, str(base), dying_format],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr


def draw(base: Path) -> dict[str, bytes]:
    """Save a complete figure at `base`; its files' bytes by suffix."""
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    paths = save_figure(fig, base, "A rising line.")
    plt.close(fig)
    return {path.name.removeprefix(base.name): path.read_bytes() for path in paths.values()}


@pytest.mark.parametrize("dying_format", ["svg", "png"])
def test_killed_while_saving_leaves_no_partial_file_under_the_final_name(
    tmp_path: Path, dying_format: str
) -> None:
    base = tmp_path / "figures" / "stay_logit"
    save_and_get_killed(base, dying_format)
    final = base.with_name(f"{base.name}.{dying_format}")
    assert not final.exists(), f"a killed save left {final.name} of {final.stat().st_size} bytes"
    # what is left is a hidden temporary file, which the audit reports (tests/test_audit.py)
    leftovers = [p.name for p in base.parent.iterdir() if not p.name.startswith(base.name)]
    assert all(re.fullmatch(rf"\.{base.name}\.{dying_format}\..+\.tmp", n) for n in leftovers)


def test_the_next_run_deletes_only_what_a_killed_save_left(tmp_path: Path) -> None:
    """The workflow's onstart calls remove_partial_files on results/: after a kill, the resumed
    run must not leave the half-written file for the audit to fail on."""
    base = tmp_path / "figures" / "stay_logit"
    save_and_get_killed(base, "svg")
    left = [p for p in base.parent.iterdir() if is_partial(p)]
    assert len(left) == 1, left
    others = [base.parent / "notes.tmp", base.parent / ".hidden", tmp_path / ".svg.tmp.keep"]
    for path in others:
        path.write_text("not a half-written file\n", encoding="utf-8")
    assert remove_partial_files(tmp_path) == left
    kept = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    assert kept == {"stay_logit.alt.txt", "stay_logit.png", *(p.name for p in others)}


@pytest.mark.parametrize("dying_format", ["svg", "png"])
def test_killed_while_replacing_keeps_the_previous_complete_file(
    tmp_path: Path, dying_format: str
) -> None:
    base = tmp_path / "stay_logit"
    before = draw(base)
    save_and_get_killed(base, dying_format)
    final = base.with_name(f"{base.name}.{dying_format}")
    assert final.read_bytes() == before[f".{dying_format}"]


def test_a_failed_save_leaves_nothing_behind(tmp_path: Path, monkeypatch) -> None:
    """An exception (not a kill) removes the temporary file too."""
    from matplotlib.figure import Figure

    def broken(self, fname, *args, **kwargs):
        Path(fname).write_bytes(b"<svg")
        raise OSError("No space left on device")

    monkeypatch.setattr(Figure, "savefig", broken)
    fig, _ = plt.subplots()
    with pytest.raises(OSError, match="No space"):
        save_figure(fig, tmp_path / "women", "A chart.")
    plt.close(fig)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["women.alt.txt"]


def test_save_figure_writes_the_three_files_the_rules_declare(tmp_path: Path) -> None:
    made = draw(tmp_path / "women")
    assert set(made) == set(FIGURE_SUFFIXES)
    assert all(made.values()), "a figure file is empty"


@pytest.fixture(scope="module")
def workflow_rules() -> dict[str, list[str]]:
    """{rule: declared output patterns} of the real workflow, read by Snakemake itself."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import OutputSettings, ResourceSettings

    cwd = os.getcwd()
    try:
        with SnakemakeApi(OutputSettings()) as api:
            workflow = api.workflow(
                resource_settings=ResourceSettings(cores=1),
                snakefile=REPO / "Snakefile",
                workdir=REPO,
            )
            return {rule.name: [str(o) for o in rule.output] for rule in workflow._workflow.rules}
    finally:
        os.chdir(cwd)


def test_every_figure_a_rule_makes_is_declared_with_its_png_and_alt_text(workflow_rules) -> None:
    figures = {
        rule: [o.removesuffix(".svg") for o in outputs if o.endswith(".svg")]
        for rule, outputs in workflow_rules.items()
    }
    assert {"fit_model", "draw_figures"} <= {rule for rule, bases in figures.items() if bases}
    for rule, bases in figures.items():
        for base in bases:
            for suffix in FIGURE_SUFFIXES:
                assert base + suffix in workflow_rules[rule], f"{rule} does not declare {suffix}"
