"""Find the Noto font folders Typst needs for Latin, Thai, Khmer, Lao and Myanmar text."""

from __future__ import annotations

import os
from pathlib import Path

# Files whose presence shows a folder holds the script's font (regular weight, sans first).
SCRIPT_FONT_FILES: dict[str, tuple[str, ...]] = {
    "Latin": ("NotoSans-Regular.ttf", "NotoSans-Regular.otf"),
    "Thai": ("NotoSansThai-Regular.ttf", "NotoSansThai-Regular.otf", "NotoSerifThai-Regular.ttf"),
    "Khmer": ("NotoSansKhmer-Regular.ttf", "NotoSansKhmer-Regular.otf"),
    "Lao": ("NotoSansLao-Regular.ttf", "NotoSansLao-Regular.otf"),
    "Myanmar": ("NotoSansMyanmar-Regular.ttf", "NotoSansMyanmar-Regular.otf"),
}

CANDIDATE_DIRS = (
    "/usr/share/fonts/truetype/noto",  # Debian, Ubuntu (fonts-noto-core)
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/noto",  # Arch, Alpine
    "/usr/share/fonts/google-noto",  # Fedora
    "/usr/share/fonts/google-noto-vf",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",  # macOS
    "C:/Windows/Fonts",
)
SEARCH_ROOTS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts")


def _has_noto(folder: Path) -> bool:
    return any((folder / name).is_file() for names in SCRIPT_FONT_FILES.values() for name in names)


def font_dirs() -> list[Path]:
    """Folders holding Noto fonts, in a fixed order: $WPS_FONT_DIRS first, then known places.

    Found at run time, so a distribution that keeps Noto elsewhere still works; an empty
    list means Typst falls back to its embedded fonts (no Thai, Khmer, Lao or Myanmar glyphs).
    """
    found: list[Path] = []
    env = os.environ.get("WPS_FONT_DIRS", "")
    candidates = [p for p in env.split(os.pathsep) if p] + list(CANDIDATE_DIRS)
    for raw in candidates:
        folder = Path(raw).expanduser()
        if folder.is_dir() and _has_noto(folder) and folder not in found:
            found.append(folder)
    if not found:
        for root in SEARCH_ROOTS:
            base = Path(root).expanduser()
            if not base.is_dir():
                continue
            for folder in sorted(p for p in base.rglob("*") if p.is_dir()):
                if _has_noto(folder) and folder not in found:
                    found.append(folder)
    return found


def missing_scripts(dirs: list[Path] | None = None) -> list[str]:
    """Scripts (of Latin, Thai, Khmer, Lao, Myanmar) with no Noto font in `dirs`."""
    dirs = font_dirs() if dirs is None else dirs
    return [
        script
        for script, names in SCRIPT_FONT_FILES.items()
        if not any((d / n).is_file() for d in dirs for n in names)
    ]
