"""Markdown escaping shared by the findings (which write markdown text) and the renderers (which
put values into a brief's markdown): one rule, and no pandas, so a render job loads none."""

from __future__ import annotations

import re

MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#$|~^@])")


def escape_md(text: str) -> str:
    """Backslash-escape markdown punctuation so a value prints exactly as written."""
    return MD_SPECIAL.sub(r"\\\1", text)
