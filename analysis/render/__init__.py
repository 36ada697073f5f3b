"""Render policy briefs (.qmd + findings YAML) to HTML, PDF and DOCX (Quarto or pandoc + Typst)."""

from analysis.render.brief import render_brief
from analysis.render.errors import RenderInputError
from analysis.render.versions import engine_versions

__all__ = ["RenderInputError", "engine_versions", "render_brief"]
