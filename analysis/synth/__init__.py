"""Seeded generator of the bundled SYNTHETIC datasets and their codebooks (``make example-data``).

``python -m analysis.synth [--out data/raw]`` writes, from the fixed seeds in
:data:`analysis.synth.common.SEEDS`:

* ``officer_survey/2023.sav``, ``2025.sav`` + ``codebook.json`` (:mod:`.officer_survey`),
* ``training/2024.dta`` + ``codebook.json`` (:mod:`.training`),
* ``interviews/2024.xlsx`` + ``codebook.json`` (:mod:`.interviews`),
* ``SHA256SUMS`` and ``README.md``.

The true effects embedded in the data are module-level constants of the dataset modules
(``TRUE_EFFECTS`` in each), documented in their docstrings and in the written README.
"""

from __future__ import annotations

from pathlib import Path

from analysis.synth import interviews, officer_survey, readme, training
from analysis.synth.common import write_sha256sums

__all__ = ["generate_all"]


def generate_all(out: Path) -> list[Path]:
    """Write every dataset, codebook, ``SHA256SUMS`` and ``README.md`` under ``out``."""
    out = Path(out)
    paths = officer_survey.generate(out) + training.generate(out) + interviews.generate(out)
    paths.append(write_sha256sums(out))
    paths.append(readme.write(out / "README.md"))
    return paths
