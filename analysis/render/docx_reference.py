"""Build the house-style reference.docx (fonts, colours, callout styles) from pandoc's default,
and make any .docx byte-stable (fixed zip timestamps, sorted entries, fixed document dates)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import zipfile
from pathlib import Path

import pypandoc

BRAND = "114B73"
FONT = "Noto Sans"

CALLOUT_STYLES = f"""
  <w:style w:type="paragraph" w:customStyle="1" w:styleId="CalloutTitle">
    <w:name w:val="Callout Title" />
    <w:basedOn w:val="Normal" />
    <w:next w:val="CalloutText" />
    <w:qFormat />
    <w:pPr>
      <w:keepNext />
      <w:pBdr><w:left w:val="single" w:sz="24" w:space="8" w:color="{BRAND}" /></w:pBdr>
      <w:shd w:val="clear" w:color="auto" w:fill="E8F0F6" />
      <w:spacing w:before="240" w:after="0" />
      <w:ind w:left="227" w:right="113" />
    </w:pPr>
    <w:rPr><w:b /><w:color w:val="{BRAND}" /></w:rPr>
  </w:style>
  <w:style w:type="paragraph" w:customStyle="1" w:styleId="CalloutText">
    <w:name w:val="Callout Text" />
    <w:basedOn w:val="Normal" />
    <w:qFormat />
    <w:pPr>
      <w:pBdr><w:left w:val="single" w:sz="24" w:space="8" w:color="{BRAND}" /></w:pBdr>
      <w:shd w:val="clear" w:color="auto" w:fill="E8F0F6" />
      <w:spacing w:before="60" w:after="60" />
      <w:ind w:left="227" w:right="113" />
    </w:pPr>
  </w:style>
"""


def _style_block(styles: str, style_id: str) -> re.Match[str] | None:
    return re.search(rf'<w:style [^>]*w:styleId="{style_id}">.*?</w:style>', styles, re.DOTALL)


def _edit_style(styles: str, style_id: str, edit) -> str:
    match = _style_block(styles, style_id)
    if match is None:
        return styles
    return styles[: match.start()] + edit(match.group(0)) + styles[match.end() :]


def _colour(block: str) -> str:
    block = re.sub(r"<w:color [^>]*/>", "", block, flags=re.DOTALL)
    return block.replace("<w:rPr>", f'<w:rPr>\n      <w:color w:val="{BRAND}" />', 1)


def house_styles(styles: str) -> str:
    """pandoc's default styles.xml with the wps-evidence fonts, colours and callout styles."""
    styles = re.sub(
        r"<w:rFonts [^>]*/>",
        f'<w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}" w:cs="{FONT}" />',
        styles,
        flags=re.DOTALL,
    )
    styles = styles.replace(
        '<w:sz w:val="24" />\n        <w:szCs w:val="24" />',
        '<w:sz w:val="21" />\n        <w:szCs w:val="21" />',
        1,
    )
    for sid in (
        "Title",
        "Heading1",
        "Heading2",
        "Heading3",
        "Heading1Char",
        "Heading2Char",
        "Heading3Char",
        "TitleChar",
    ):
        styles = _edit_style(styles, sid, _colour)
    for sid in ("Title", "Subtitle", "Author", "Date", "AbstractTitle"):
        styles = _edit_style(styles, sid, lambda b: b.replace('<w:jc w:val="center" />', ""))
    return styles.replace("</w:styles>", CALLOUT_STYLES + "</w:styles>")


def fixed_core_properties(core: str, when: dt.datetime) -> str:
    """docProps/core.xml with created/modified dates set to `when`."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    for tag in ("dcterms:created", "dcterms:modified"):
        core = re.sub(rf"(<{tag}[^>]*>)[^<]*(</{tag}>)", rf"\g<1>{stamp}\g<2>", core)
    return core


def normalise_docx(path: Path, epoch: int) -> None:
    """Rewrite a .docx in place: sorted entries, fixed timestamps, fixed document dates."""
    when = dt.datetime.fromtimestamp(max(epoch, 315532800), tz=dt.UTC)
    with zipfile.ZipFile(path) as zin:
        entries = {name: zin.read(name) for name in zin.namelist()}
    if "docProps/core.xml" in entries:
        core = entries["docProps/core.xml"].decode("utf-8")
        entries["docProps/core.xml"] = fixed_core_properties(core, when).encode("utf-8")
    tmp = path.with_suffix(".docx.tmp")
    with zipfile.ZipFile(tmp, "w") as zout:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zout.writestr(info, entries[name], compresslevel=9)
    tmp.replace(path)


def build_reference_docx(out: Path, epoch: int) -> Path:
    """Write the house reference.docx to `out` (pandoc's default, restyled), byte-stable."""
    pandoc = pypandoc.get_pandoc_path()
    subprocess.run(
        [pandoc, "-o", str(out), "--print-default-data-file", "reference.docx"], check=True
    )
    with zipfile.ZipFile(out) as zin:
        entries = {name: zin.read(name) for name in zin.namelist()}
    entries["word/styles.xml"] = house_styles(entries["word/styles.xml"].decode("utf-8")).encode()
    with zipfile.ZipFile(out, "w") as zout:
        for name in sorted(entries):
            zout.writestr(name, entries[name])
    normalise_docx(out, epoch)
    return out
