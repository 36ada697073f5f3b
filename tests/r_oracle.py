"""R as the statistical oracle: run an R script and read the JSON it prints.

Tests that compare with R `survey` import ``requires_r`` (a skip marker with the reason when
``Rscript`` or the survey package is absent) and ``run_r``. The script must print one JSON
document to stdout (use ``cat(jsonlite::toJSON(x, digits = NA, auto_unbox = TRUE))``); anything
R prints before it (package start-up messages) goes to stderr or is skipped.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess

import pytest

JSON_START = "@@JSON@@"


@functools.cache
def r_problem() -> str | None:
    """Why the R oracle cannot run here, or None when Rscript, survey and jsonlite load."""
    if shutil.which("Rscript") is None:
        return "Rscript is not installed (apt-get install r-base-core r-cran-survey)"
    probe = subprocess.run(
        ["Rscript", "-e", "suppressMessages({library(survey); library(jsonlite)})"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.returncode != 0:
        return f"R packages survey/jsonlite do not load: {probe.stderr.strip()[-300:]}"
    return None


requires_r = pytest.mark.skipif(r_problem() is not None, reason=str(r_problem()))


def run_r(script: str, timeout: float = 120) -> dict:
    """Run ``script`` with Rscript (survey and jsonlite loaded) and parse the JSON it prints."""
    problem = r_problem()
    if problem is not None:
        pytest.skip(problem)
    wrapped = (
        "suppressMessages({library(survey); library(jsonlite)})\n"
        "emit <- function(x) cat('" + JSON_START + "', "
        "jsonlite::toJSON(x, digits = NA, auto_unbox = TRUE), sep = '')\n" + script
    )
    done = subprocess.run(
        ["Rscript", "--vanilla", "-"],
        input=wrapped,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise AssertionError(f"R script failed:\n{done.stderr[-2000:]}\n--- script ---\n{script}")
    if JSON_START not in done.stdout:
        raise AssertionError(f"R script printed no JSON via emit(): {done.stdout[-1000:]}")
    return json.loads(done.stdout.split(JSON_START, 1)[1])


@functools.cache
def survey_version() -> tuple[int, int]:
    """(major, minor) of the R survey package the oracle runs."""
    version = run_r('emit(as.character(packageVersion("survey")))')
    major, minor = str(version).replace("-", ".").split(".")[:2]
    return int(major), int(minor)
