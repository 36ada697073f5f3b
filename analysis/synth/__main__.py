"""Command line: ``python -m analysis.synth [--out data/raw]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.synth import generate_all


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, write the synthetic data, print the files written."""
    parser = argparse.ArgumentParser(
        prog="python -m analysis.synth",
        description="Write the SYNTHETIC example data, codebooks and checksums from fixed seeds.",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("data/raw"), help="output folder (default: data/raw)"
    )
    args = parser.parse_args(argv)
    for path in generate_all(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
