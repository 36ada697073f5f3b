"""Resolve the Quarto shortcodes the briefs use ({{< var >}}, {{< meta >}}, {{< include >}},
{{< pagebreak >}}) so plain pandoc can read a .qmd; and write the markdown Quarto includes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from analysis.markdown import escape_md
from analysis.render.errors import RenderInputError

SHORTCODE = re.compile(r"\{\{<\s*([A-Za-z][\w-]*)\s*(.*?)\s*>\}\}")
FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*\n", re.DOTALL)

PAGEBREAK = (
    "\n```{=typst}\n#pagebreak()\n```\n\n"
    '```{=html}\n<div style="break-after: page;"></div>\n```\n\n'
    '```{=openxml}\n<w:p><w:r><w:br w:type="page"/></w:r></w:p>\n```\n'
)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(front matter mapping, body) of a .qmd or .md file."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta = yaml.safe_load(match.group(1)) or {}
    return meta, text[match.end() :]


def join_front_matter(meta: dict[str, Any], body: str) -> str:
    """A markdown file with `meta` as its YAML front matter."""
    head = yaml.safe_dump(meta, sort_keys=True, allow_unicode=True, width=1000)
    return f"---\n{head}---\n{body}"


def lookup(mapping: dict[str, Any], dotted: str) -> Any:
    """mapping['a']['b'] for 'a.b'; KeyError when absent."""
    value: Any = mapping
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(dotted)
        value = value[part]
    return value


def resolve_shortcodes(
    text: str,
    *,
    source: Path,
    project: Path,
    variables: dict[str, Any],
    meta: dict[str, Any],
    depth: int = 0,
) -> str:
    """Replace every shortcode in `text` (from file `source`) as Quarto would."""
    if depth > 10:
        raise RenderInputError(str(source), "includes nest more than 10 deep.", "remove the loop.")

    def replace(match: re.Match[str]) -> str:
        name, arg = match.group(1), match.group(2).strip()
        if name == "var":
            try:
                return escape_md(str(lookup(variables, arg)))
            except KeyError:
                raise RenderInputError(
                    str(source),
                    f"{{{{< var {arg} >}}}} has no value: the findings file has no finding "
                    f"'{arg}'.",
                    "add the finding (with its 'text') or fix the key in the .qmd.",
                ) from None
        if name == "meta":
            try:
                return escape_md(str(lookup(meta, arg)))
            except KeyError:
                raise RenderInputError(
                    str(source), f"{{{{< meta {arg} >}}}}: no such front-matter key.", "add it."
                ) from None
        if name == "include":
            target = _include_path(arg, source, project)
            _, body = split_front_matter(target.read_text(encoding="utf-8"))
            resolved = resolve_shortcodes(
                body,
                source=target,
                project=project,
                variables=variables,
                meta=meta,
                depth=depth + 1,
            )
            return "\n" + resolved.strip("\n") + "\n"
        if name == "pagebreak":
            return PAGEBREAK
        raise RenderInputError(
            str(source),
            f"shortcode '{name}' is not supported by the pandoc engine.",
            "use var, meta, include or pagebreak, or render with Quarto.",
        )

    return SHORTCODE.sub(replace, text)


def _include_path(arg: str, source: Path, project: Path) -> Path:
    rel = arg.strip("\"'")
    candidates = (
        [project / rel.lstrip("/")] if rel.startswith("/") else [source.parent / rel, project / rel]
    )
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise RenderInputError(
        str(source),
        f"{{{{< include {rel} >}}}}: file not found (looked in {', '.join(map(str, candidates))}).",
        "create the file or fix the path.",
    )


def table_markdown(name: str, table: dict[str, Any]) -> str:
    """A pipe table with caption (and note) for {{< include _tables/<name>.md >}}."""
    columns = [str(c) for c in table["columns"]]
    widths = table.get("widths")
    align = str(table.get("align") or ("l" + "r" * (len(columns) - 1)))

    def cell(value: Any) -> str:
        text = "" if value is None else str(value)
        text = text.replace("|", "\\|") if table.get("markdown") else escape_md(text)
        return text.replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in columns) + " |"]
    seps = []
    for i, _ in enumerate(columns):
        dashes = "-" * (int(widths[i]) if widths else 3)
        seps.append(f":{dashes}" if align[i] == "l" else f"{dashes}:")
    lines.append("|" + "|".join(seps) + "|")
    for row in table["rows"]:
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    out = "\n".join(lines) + "\n"
    if table.get("caption"):
        out += f"\n: {cell(table['caption'])} {{#tbl-{name}}}\n"
    if table.get("note"):
        out += f"\n::: {{.table-note .small}}\n{cell(table['note'])}\n:::\n"
    return out


def figure_markdown(name: str, src: str, caption: str, alt: str) -> str:
    """A captioned figure with alt text for {{< include _figures/<name>.md >}}."""
    alt_attr = alt.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'![{escape_md(caption)}]({src}){{#fig-{name} fig-alt="{alt_attr}"}}\n'
