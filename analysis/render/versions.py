"""Versions of the rendering engines, for the provenance appendix and the manifest."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache

import pypandoc
import typst


@cache
def typst_compiler_version() -> str:
    """Version of the Typst compiler inside the typst Python package (not the wrapper's)."""
    return str(typst.eval(b"", "str(sys.version)", ignore_system_fonts=True)).strip('"')


@cache
def quarto_version() -> str | None:
    """`quarto --version`, or None when Quarto is not on PATH."""
    exe = shutil.which("quarto")
    if exe is None:
        return None
    done = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


def engine_versions() -> dict[str, str]:
    """pandoc, typst (compiler), typst-py and, when installed, quarto versions."""
    versions = {
        "pandoc": str(pypandoc.get_pandoc_version()),
        "typst": typst_compiler_version(),
        "typst-py": str(typst.__version__),
    }
    quarto = quarto_version()
    if quarto:
        versions["quarto"] = quarto
    return versions


def engine_label(engine: str) -> str:
    """One line naming the engine that rendered a brief, e.g. 'pandoc 3.9 + typst 0.15.1'."""
    v = engine_versions()
    if engine == "quarto":
        return f"Quarto {v.get('quarto', '?')}"
    return f"pandoc {v['pandoc']} + typst {v['typst']}"
