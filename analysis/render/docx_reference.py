"""Build the house-style reference.docx (fonts, colours, callout styles) from pandoc's default,
make any .docx byte-stable (fixed zip timestamps, sorted entries, fixed document dates), and give
it the provenance footer the PDF has (run ID, inputs manifest SHA-256, "Page x of y")."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import pypandoc

BRAND = "114B73"
FONT = "Noto Sans"
MONO_FONT = "DejaVu Sans Mono"
MUTED = "4D4D4D"
SMALL = f'<w:color w:val="{MUTED}" /><w:sz w:val="14" /><w:szCs w:val="14" />'  # 7 pt, muted

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
FOOTER_REL_TYPE = f"{R_NS}/footer"
FOOTER_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"
FOOTER_REL_ID = "rIdWpsFooter"

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


@dataclass(frozen=True)
class DocxFooter:
    """What the footer of every page prints: the run and the inputs it was made from."""

    run_id: str
    manifest_hash: str


def _run(text: str, mono: bool = False) -> str:
    """One small, muted text run; monospaced for identifiers (as in the PDF footer)."""
    fonts = f'<w:rFonts w:ascii="{MONO_FONT}" w:hAnsi="{MONO_FONT}" w:cs="{MONO_FONT}" />'
    props = f"<w:rPr>{fonts if mono else ''}{SMALL}</w:rPr>"
    return f'<w:r>{props}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def _field(instr: str, shown: str) -> str:
    """A complex field (PAGE, NUMPAGES); `shown` is the cached value until Word updates it."""
    props = f"<w:rPr>{SMALL}</w:rPr>"
    return (
        f'<w:r>{props}<w:fldChar w:fldCharType="begin" /></w:r>'
        f'<w:r>{props}<w:instrText xml:space="preserve"> {instr} </w:instrText></w:r>'
        f'<w:r>{props}<w:fldChar w:fldCharType="separate" /></w:r>'
        f"{_run(shown)}"
        f'<w:r>{props}<w:fldChar w:fldCharType="end" /></w:r>'
    )


def footer_xml(footer: DocxFooter) -> str:
    """word/footerN.xml: "Run ID: … · Page x of y" over "Inputs manifest SHA-256: …"."""
    para = '<w:p><w:pPr><w:spacing w:before="0" w:after="0" /></w:pPr>{}</w:p>'
    top = '<w:pBdr><w:top w:val="single" w:sz="4" w:space="4" w:color="B8C4CE" /></w:pBdr>'
    first = (
        f'<w:p><w:pPr>{top}<w:spacing w:before="0" w:after="0" /></w:pPr>'
        f"{_run('Run ID: ')}{_run(footer.run_id, mono=True)}{_run('    ·    Page ')}"
        f"{_field('PAGE', '1')}{_run(' of ')}{_field('NUMPAGES', '1')}</w:p>"
    )
    second = para.format(_run("Inputs manifest SHA-256: ") + _run(footer.manifest_hash, mono=True))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<w:ftr xmlns:w="{W_NS}" xmlns:r="{R_NS}">{first}{second}</w:ftr>'
    )


def _free_footer_part(entries: dict[str, bytes], rels: str) -> str:
    """The part our footer goes in: the one our relationship already names, else a new name."""
    ours = re.search(rf'<Relationship [^>]*Id="{FOOTER_REL_ID}"[^>]*/>', rels)
    if ours:
        target = re.search(r'Target="([^"]+)"', ours.group(0))
        if target:
            return f"word/{target.group(1)}"
    n = 1
    while f"word/footer{n}.xml" in entries:
        n += 1
    return f"word/footer{n}.xml"


def _reference_footer(sect_pr: str) -> str:
    """One <w:sectPr>, its default footer replaced by a reference to ours (first, as the schema
    orders header/footer references before the rest)."""
    sect_pr = re.sub(r'<w:footerReference [^>]*w:type="default"[^>]*/>\s*', "", sect_pr)
    sect_pr = re.sub(r"<w:sectPr(\s[^>]*)?/>", r"<w:sectPr\1></w:sectPr>", sect_pr)
    ref = f'<w:footerReference w:type="default" r:id="{FOOTER_REL_ID}" />'
    return re.sub(r"^<w:sectPr(\s[^>]*)?>", lambda m: m.group(0) + ref, sect_pr)


def add_footer(entries: dict[str, bytes], footer: DocxFooter) -> dict[str, bytes]:
    """The .docx parts with the provenance footer added: the footer part, its relationship, its
    content type, and a default footerReference in every section of word/document.xml."""
    out = dict(entries)
    rels_name = "word/_rels/document.xml.rels"
    rels = out[rels_name].decode("utf-8")
    part = _free_footer_part(out, rels)
    out[part] = footer_xml(footer).encode("utf-8")

    rels = re.sub(rf'<Relationship [^>]*Id="{FOOTER_REL_ID}"[^>]*/>', "", rels)
    rel = (
        f'<Relationship Id="{FOOTER_REL_ID}" Type="{FOOTER_REL_TYPE}" '
        f'Target="{part.removeprefix("word/")}" />'
    )
    out[rels_name] = rels.replace("</Relationships>", rel + "</Relationships>").encode("utf-8")

    types = out["[Content_Types].xml"].decode("utf-8")
    if f'PartName="/{part}"' not in types:
        override = f'<Override PartName="/{part}" ContentType="{FOOTER_CONTENT_TYPE}" />'
        types = types.replace("</Types>", override + "</Types>")
    out["[Content_Types].xml"] = types.encode("utf-8")

    doc = out["word/document.xml"].decode("utf-8")
    sect = r"<w:sectPr(?:\s[^>]*)?/>|<w:sectPr(?:\s[^>]*)?>.*?</w:sectPr>"
    doc, found = re.subn(sect, lambda m: _reference_footer(m.group(0)), doc, flags=re.DOTALL)
    if not found:
        doc = doc.replace("</w:body>", _reference_footer("<w:sectPr/>") + "</w:body>")
    if f'xmlns:r="{R_NS}"' not in doc:
        doc = re.sub(r"<w:document\b", f'<w:document xmlns:r="{R_NS}"', doc, count=1)
    out["word/document.xml"] = doc.encode("utf-8")
    return out


# A drawing's description, title or name that is a file path of the machine that made the
# document (Quarto writes its install path as the description of callout icons).
PATH_ATTRIBUTE = re.compile(r'\b(descr|title|name)="((?:/|[A-Za-z]:[\\/]|file:)[^"]*)"')


PATH_SEPARATOR = re.compile(r"[\\/]")


def scrub_machine_paths(xml: str) -> str:
    """Drop absolute paths from drawing attributes: a description or title that is a path
    becomes empty (a decorative image, which screen readers skip), a name its file name."""

    def clean(match: re.Match[str]) -> str:
        attribute, value = match.group(1), match.group(2)
        if attribute == "name":
            return 'name="' + PATH_SEPARATOR.split(value)[-1] + '"'
        return f'{attribute}=""'

    return PATH_ATTRIBUTE.sub(clean, xml)


ZIP_EARLIEST = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)  # a zip entry's time is 1980..2107
ZIP_LATEST = dt.datetime(2107, 12, 31, 23, 59, 58, tzinfo=dt.UTC)
LATEST_TIME = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


def document_time(epoch: int) -> dt.datetime:
    """The document's date from SOURCE_DATE_EPOCH, held within what Python's datetime takes."""
    earliest, latest = ZIP_EARLIEST.timestamp(), LATEST_TIME.timestamp()
    return dt.datetime.fromtimestamp(min(max(epoch, earliest), latest), tz=dt.UTC)


def zip_time(when: dt.datetime) -> tuple[int, int, int, int, int, int]:
    """A zip entry's timestamp: `when`, held within the years zip can store (1980 to 2107)."""
    held = min(max(when, ZIP_EARLIEST), ZIP_LATEST)
    return held.timetuple()[:6]  # type: ignore[return-value]


def normalise_docx(path: Path, epoch: int, footer: DocxFooter | None = None) -> None:
    """Rewrite a .docx in place: sorted entries, fixed timestamps, fixed document dates, no
    file paths of the rendering machine in drawing attributes, and (when `footer` is given) the
    provenance footer on every page."""
    when = document_time(epoch)
    with zipfile.ZipFile(path) as zin:
        entries = {name: zin.read(name) for name in zin.namelist()}
    for name in sorted(entries):
        if name.startswith("word/") and name.endswith(".xml"):
            entries[name] = scrub_machine_paths(entries[name].decode("utf-8")).encode("utf-8")
    if footer is not None:
        entries = add_footer(entries, footer)
    if "docProps/core.xml" in entries:
        core = entries["docProps/core.xml"].decode("utf-8")
        entries["docProps/core.xml"] = fixed_core_properties(core, when).encode("utf-8")
    tmp = path.with_suffix(".docx.tmp")
    with zipfile.ZipFile(tmp, "w") as zout:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=zip_time(when))
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
