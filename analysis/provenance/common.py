"""Small helpers shared by job records, the manifest, the crate and the audit."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from analysis.atomic import atomic_write

RECORD_SCHEMA = "wps-job-record/1"
MANIFEST_SCHEMA = "wps-manifest/2"  # 2: content_hash covers every section
SECRET_WORDS = ("key", "secret")


def display_path(path: Path | str, root: Path | None = None) -> str:
    """A path as recorded: relative to `root` (default: the working folder) when inside it.

    Relative paths are taken from the working folder, as Snakemake gives them.
    """
    root = (Path.cwd() if root is None else Path(root)).resolve()
    absolute = Path(os.path.abspath(path))
    for candidate in (absolute, absolute.resolve()):
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    return absolute.as_posix()


def job_id(rule: str, wildcards: Mapping[str, Any]) -> str:
    """A job as people name it: "clean_wave officer_survey/2025" (the rule if no wildcards)."""
    values = [str(v) for v in wildcards.values()]
    return f"{rule} {'/'.join(values)}" if values else rule


def is_secret_key(key: object) -> bool:
    """True for parameter names that may hold keys or secrets (never recorded)."""
    lowered = str(key).lower()
    return any(word in lowered for word in SECRET_WORDS)


def to_jsonable(value: Any) -> Any:
    """A JSON-safe, deterministic copy of `value`; keys naming keys or secrets are dropped."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, Mapping):
        return {
            str(k): to_jsonable(v)
            for k, v in sorted(value.items(), key=lambda item: str(item[0]))
            if not is_secret_key(k)
        }
    if isinstance(value, set | frozenset):
        return sorted((to_jsonable(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return to_jsonable(item())
        except (TypeError, ValueError):
            pass
    if callable(value):
        return f"<function {getattr(value, '__qualname__', type(value).__name__)}>"
    return str(value)


def dumps(data: Any) -> str:
    """The one JSON form of provenance files: sorted keys, indent 2, UTF-8, final newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_json_atomic(data: Any, path: Path | str) -> Path:
    """Write JSON to a temporary file beside `path`, then rename it into place."""
    text = dumps(data)
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_json(path: Path | str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
