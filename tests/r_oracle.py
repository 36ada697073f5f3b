"""R as the statistical oracle: run an R script with ``survey`` and read back what it emits.

A script calls ``emit(x)`` (once or more) to hand an R object back as JSON (``jsonlite``);
:func:`run_r` returns the parsed value of a single ``emit`` or the list of several. Data frames
come back as a list of rows (``pd.DataFrame(run_r(...))`` rebuilds them); ``NA`` becomes
``None``. Tests that need R use the :data:`requires_r` marker, which skips with the reason when
``Rscript``, ``survey`` or ``jsonlite`` is absent (``make test`` installs them:
``r-base-core r-cran-survey r-cran-jsonlite``).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

BEGIN, END = "<<<R-ORACLE-JSON", "R-ORACLE-JSON>>>"
PRELUDE = f"""
suppressPackageStartupMessages({{library(survey); library(jsonlite)}})
emit <- function(x) {{
  cat("\\n{BEGIN}\\n")
  cat(toJSON(x, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
             dataframe = "rows", force = TRUE))
  cat("\\n{END}\\n")
}}
"""


class ROracleError(RuntimeError):
    """The R script failed or emitted nothing."""


@functools.cache
def r_missing() -> str:
    """Why R cannot serve as the oracle here, or "" when it can."""
    if shutil.which("Rscript") is None:
        return "Rscript is not installed (apt-get install r-base-core r-cran-survey)"
    probe = subprocess.run(
        ["Rscript", "--vanilla", "-e", "library(survey); library(jsonlite)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.returncode != 0:
        return (
            "R packages survey/jsonlite are missing (apt-get install r-cran-survey "
            f"r-cran-jsonlite): {probe.stderr.strip().splitlines()[-1:]}"
        )
    return ""


requires_r = pytest.mark.skipif(bool(r_missing()), reason=r_missing() or "R is available")


def r_version(package: str = "survey") -> tuple[int, ...]:
    """Installed version of an R package, e.g. ``(4, 1, 1)``."""
    text = run_r(f'emit(as.character(packageVersion("{package}")))')
    return tuple(int(part) for part in str(text).replace("-", ".").split("."))


def run_r(script: str, timeout: float = 300) -> Any:
    """Run ``script`` with ``survey`` and ``jsonlite`` loaded; return what it ``emit``-s."""
    with tempfile.TemporaryDirectory(prefix="r-oracle-") as tmp:
        path = Path(tmp) / "oracle.R"
        path.write_text(PRELUDE + script + "\n", encoding="utf-8")
        done = subprocess.run(
            ["Rscript", "--vanilla", str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tmp,
        )
    if done.returncode != 0:
        raise ROracleError(f"R failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    values = [
        json.loads(chunk.split(END, 1)[0]) for chunk in done.stdout.split(BEGIN)[1:] if END in chunk
    ]
    if not values:
        raise ROracleError(f"R emitted nothing; stdout:\n{done.stdout[-2000:]}")
    return values[0] if len(values) == 1 else values
