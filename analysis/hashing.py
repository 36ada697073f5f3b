"""SHA-256 of files and folders, read in chunks so large files never sit in memory."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 1 << 20
#: A findings job's inputs that its inputs description hashes (raw files, codebooks, the lock
#: file) carry this prefix before their role: the workflow's rules name them so, and
#: analysis.provenance.runinfo.described_files reads them back.
DESCRIBED_INPUT = "described__"


def sha256_file(path: Path | str) -> str:
    """Hex SHA-256 of one file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of bytes in memory."""
    return hashlib.sha256(data).hexdigest()


def sha256_path(path: Path | str) -> str:
    """SHA-256 of a file, or of a folder as the sorted lines "<relative path>  <sha256>"."""
    path = Path(path)
    if not path.is_dir():
        return sha256_file(path)
    lines = [
        f"{child.relative_to(path).as_posix()}  {sha256_file(child)}\n"
        for child in sorted(path.rglob("*"))
        if child.is_file()
    ]
    return sha256_bytes("".join(lines).encode("utf-8"))


def path_size(path: Path | str) -> int:
    """Size in bytes of a file, or the summed size of the files in a folder."""
    path = Path(path)
    if not path.is_dir():
        return path.stat().st_size
    return sum(child.stat().st_size for child in path.rglob("*") if child.is_file())


def file_fact(path: Path | str, shown_as: str | None = None) -> dict[str, object]:
    """{"path", "sha256", "size"} of a file or folder; `shown_as` is the path to record."""
    return {
        "path": shown_as if shown_as is not None else Path(path).as_posix(),
        "sha256": sha256_path(path),
        "size": path_size(path),
    }
