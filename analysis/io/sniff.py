"""Tell a file's real type from its first bytes, and refuse files whose extension lies."""

from __future__ import annotations

from pathlib import Path

from analysis.errors import IngestError

FORMAT_BY_EXTENSION = {
    ".sav": "sav",
    ".zsav": "zsav",
    ".por": "por",
    ".dta": "dta",
    ".sas7bdat": "sas7bdat",
    ".xpt": "xpt",
    ".csv": "csv",
    ".xlsx": "xlsx",
}

DESCRIPTION = {
    "sav": "an SPSS .sav file",
    "zsav": "a compressed SPSS .zsav file",
    "por": "an SPSS portable .por file",
    "dta": "a Stata .dta file",
    "sas7bdat": "a SAS .sas7bdat data file",
    "sas7bcat": "a SAS .sas7bcat format catalog (value labels only, no data)",
    "xpt": "a SAS transport .xpt file",
    "zip": "a zip archive (for example an Excel .xlsx workbook)",
    "ole": "an old Microsoft Office file (for example Excel .xls)",
    "pdf": "a PDF document",
    "gzip": "a gzip archive",
    "parquet": "a Parquet file",
    "html": "an HTML web page",
    "xml": "an XML document",
    "utf16": "UTF-16 text",
    "text": "plain text (for example CSV)",
    "binary": "binary data of unknown type",
    "csv": "a CSV text file",
    "xlsx": "an Excel .xlsx workbook",
}

# the kinds of content each extension may hold
ACCEPTED = {
    "sav": {"sav", "zsav"},
    "zsav": {"sav", "zsav"},
    "por": {"por"},
    "dta": {"dta"},
    "sas7bdat": {"sas7bdat"},
    "xpt": {"xpt"},
    "csv": {"text", "utf16"},
    "xlsx": {"zip"},
}

_SAS_MAGIC = bytes(12) + b"\xc2\xea\x81"
_SAS_MAGIC_TAIL = b"\xb3\x14\x11\xcf\xbd\x92\x08\x00\x09\xc7\x31\x8c\x18\x1f\x10\x11"
_OLD_STATA_VERSIONS = set(range(102, 116))


def sniff(head: bytes) -> str:
    """Name the kind of content (a key of ``DESCRIPTION``) that ``head`` (first KiB) starts."""
    if head.startswith(b"$FL2"):
        return "sav"
    if head.startswith(b"$FL3"):
        return "zsav"
    if head.startswith(b"<stata_dta>"):
        return "dta"
    if head[:15] == _SAS_MAGIC and head[16:32] == _SAS_MAGIC_TAIL:
        return "sas7bcat" if head[15] == 0x63 else "sas7bdat"
    if head.startswith(b"HEADER RECORD*******LIB"):
        return "xpt"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf16"
    if b"SPSSPORT" in head[:1024]:
        return "por"
    if len(head) >= 4 and head[0] in _OLD_STATA_VERSIONS and head[1] in (1, 2) and head[2] == 1:
        return "dta"
    if b"\x00" in head:
        return "binary"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return "html"
    if start.startswith(b"<?xml"):
        return "xml"
    return "text"


def check_file(path: Path, dataset: str = "") -> str:
    """Return the format family of ``path``; raise ``IngestError`` if it cannot be one."""
    fmt = FORMAT_BY_EXTENSION.get(path.suffix.lower())
    if fmt is None:
        supported = " ".join(sorted(FORMAT_BY_EXTENSION))
        hint = f"export the data to one of: {supported}"
        if path.suffix.lower() == ".sas7bcat":
            problem = (
                "this is a SAS format catalog (.sas7bcat): it holds value labels, not data rows"
            )
            hint = "keep catalogs out of the wave folders; only data files are waves"
        else:
            problem = f"unsupported file type {path.suffix or '(no extension)'!r}"
        raise IngestError(problem, dataset=dataset, file=path, hint=hint)
    if not path.is_file():
        raise IngestError(
            "file not found",
            dataset=dataset,
            file=path,
            hint="check the path; raw files live in data/raw/<dataset>/",
        )
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head:
        raise IngestError(
            "the file is empty (0 bytes)",
            dataset=dataset,
            file=path,
            hint="export the data again from the source software and replace the file",
        )
    kind = sniff(head)
    if kind not in ACCEPTED[fmt]:
        raise IngestError(
            f"the extension says {DESCRIPTION[fmt]} but the content looks like {DESCRIPTION[kind]}",
            dataset=dataset,
            file=path,
            hint="give the file the extension that matches its content, or export it again "
            "in the intended format",
        )
    return fmt
