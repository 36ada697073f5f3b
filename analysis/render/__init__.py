"""Render policy briefs (.qmd + findings YAML) to HTML, PDF and DOCX (Quarto or pandoc + Typst).

The names below load on first use (PEP 562), so the workflow's parse, which needs only
``analysis.render.projects``, does not import pandoc, pandas and the findings code.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analysis.render.brief import render_brief
    from analysis.render.errors import RenderInputError
    from analysis.render.versions import engine_versions

_HOMES = {
    "RenderInputError": "analysis.render.errors",
    "engine_versions": "analysis.render.versions",
    "render_brief": "analysis.render.brief",
}

__all__ = ["RenderInputError", "engine_versions", "render_brief"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
