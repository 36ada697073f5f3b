"""Keyed pseudonyms for indirect identifiers (respondent, officer and interview IDs).

A pseudonym is HMAC-SHA256(key, "<dataset>\\x1f<value>") as hex, cut to 16 characters, behind a
prefix per dataset: `OS-3f9a0c...`. The same key gives the same pseudonym on every run, so waves
and reruns link; without the key nobody can go back from a pseudonym to the ID. The key itself is
never written anywhere: not to outputs, logs, provenance or error messages.

IDs such as `OS2025-00017` are few and guessable, so anyone holding the key reverses every
pseudonym by trying them all. Hence: the key comes from a file only its owner can read
(`pseudonymisation.key_file`; a file group or others can read or write is refused), or second
best from an environment variable; the public example key works only for the bundled synthetic
files, recognised by SHA-256, and its use is announced on the console.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from analysis.errors import ConfigError
from analysis.hashing import sha256_file

if TYPE_CHECKING:  # pandas loads in pseudonymise() only: the workflow's parse imports this module
    import pandas as pd

KEY_ENV_VAR = "WPS_PSEUDONYM_KEY"
EXAMPLE_KEY = b"wps-evidence-EXAMPLE-key-not-secret"
HEX_CHARS = 16
MIN_KEY_BYTES = 16
DATASET_PREFIXES = {"officer_survey": "OS", "training": "TR", "interviews": "IV"}
# Group and others may neither read nor write (nor anything else) a key file.
KEY_FILE_FORBIDDEN_BITS = 0o077

# SHA-256 of the bundled SYNTHETIC wave files (`python -m analysis.synth`, byte-identical on every
# run; also listed in data/raw/SHA256SUMS). The public example key is accepted for these files
# only. The list lives in the code, not in data/raw/SHA256SUMS, because users add their own
# waves to that file: real data must never be able to make itself "example data".
EXAMPLE_DATA_SHA256 = frozenset(
    {
        "4e13b99e030c789b8498efbbe5fb1268fbcb71ed6f6dfc3b443f3ee4dd4056ea",  # interviews/2024.xlsx
        "340563dc745f30ca0ce480555e1f0c5a982cb0ec8a801c99ba2cbcc13751cfe5",  # officer_survey/2023
        "9a0e5067164e063ef53c2a4cd9af84e03552436905d1e5c235af7630bcebd6fb",  # officer_survey/2025
        "3490065991bb70ad41af180b0a3da885dee340c24cae51aedc4bd0f1e873fbfb",  # training/2024.dta
    }
)

# One line, so the console's one-line summary of a failed job carries the whole remedy.
HOW_TO_SET_KEY = (
    "make a secret key of at least {min} bytes in a file only you can read, outside the "
    "repository: "
    'python -c "import secrets; print(secrets.token_hex(32))" > ~/.wps-key; '
    "chmod 600 ~/.wps-key; then name it in config/config.yaml as pseudonymisation: key_file: "
    "~/.wps-key (the environment variable {env} also works, but a file is safer: environment "
    "variables are copied into cluster job scripts and process listings). Keep the same key for "
    "every wave so pseudonyms link across waves, keep a backup, and never commit it."
)

EXAMPLE_KEY_WARNING = (
    "WARNING: pseudonymising with the PUBLIC example key (pseudonymisation.allow_example_key). "
    "Anyone can recompute these pseudonyms and reverse them by trying every ID; it is accepted "
    "only for the bundled synthetic example data (recognised by checksum) and refused for any "
    "other file. For real data: {how}"
)


def dataset_prefix(dataset: str) -> str:
    """Short upper-case prefix for a dataset's pseudonyms (`officer_survey` -> `OS`)."""
    if dataset in DATASET_PREFIXES:
        return DATASET_PREFIXES[dataset]
    words = [w for w in re.split(r"[^A-Za-z0-9]+", dataset) if w]
    if not words:
        raise ValueError("a dataset name is needed to pseudonymise")
    prefix = "".join(w[0] for w in words) if len(words) > 1 else words[0][:2]
    return prefix.upper()


def _as_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def pseudonym(value: object, key: bytes, dataset: str) -> str:
    """Pseudonym of one value."""
    message = f"{dataset}\x1f{_as_text(value)}".encode()
    digest = hmac.new(key, message, hashlib.sha256).hexdigest()[:HEX_CHARS]
    return f"{dataset_prefix(dataset)}-{digest}"


def keyed_sha256_all(key: bytes, messages: Iterable[bytes]) -> list[str]:
    """HMAC-SHA256 (RFC 2104) of each message under one key, as hex: ``hmac.new(key, message,
    sha256).hexdigest()`` (a test checks). The two padded key blocks are hashed once, and each
    message costs two C-level hash copies and no Python call (millions of IDs: seconds)."""
    block = hashlib.sha256().block_size
    padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
    new_inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded)).copy
    new_outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded)).copy
    out: list[str] = []
    append = out.append
    for message in messages:
        digest = new_inner()
        digest.update(message)
        result = new_outer()
        result.update(digest.digest())
        append(result.hexdigest())
    return out


def pseudonymise(values: pd.Series, key: bytes, dataset: str) -> pd.Series:
    """Replace each value by its keyed pseudonym; missing values stay missing.

    Returns a `string` Series with the same index and name. Raises ValueError if two different
    values would share a pseudonym (never expected with 64 bits, but checked).
    """
    import numpy as np
    import pandas as pd

    if not isinstance(key, bytes | bytearray) or not key:
        raise ValueError("the pseudonymisation key must be non-empty bytes")
    from analysis.validate.wave import is_plain_text, per_value, text_series

    # one HMAC per distinct ID text: the texts are computed per distinct value (a text column
    # with no edge whitespace is its own text), then factorised
    present = values.notna().to_numpy()
    texts = values if is_plain_text(values) else per_value(values, _as_text)
    codes, distinct = pd.factorize(texts.to_numpy(dtype=object)[present])
    head = f"{dataset}\x1f"
    digests = keyed_sha256_all(bytes(key), ((head + v).encode() for v in distinct))
    prefix = dataset_prefix(dataset)
    pseudonyms = [f"{prefix}-{d[:HEX_CHARS]}" for d in digests]
    if len(set(pseudonyms)) != len(pseudonyms):
        raise ValueError(f"pseudonym collision in dataset {dataset!r}; use a longer HEX_CHARS")
    row_codes = np.zeros(len(values), dtype=np.int64)
    row_codes[present] = codes
    return text_series(pseudonyms, row_codes, present, values).rename(values.name)


def _how(env_var: str) -> str:
    return HOW_TO_SET_KEY.format(min=MIN_KEY_BYTES, env=env_var)


def check_key_file_private(key_file: Path, env_var: str = KEY_ENV_VAR) -> None:
    """Raise ConfigError unless `key_file` is a regular file that group and others cannot use.

    A key others can read lets them reverse every pseudonym (IDs are short and guessable); a key
    others can write lets them swap it. Skipped on Windows, which has no POSIX modes.
    """
    if not key_file.is_file():
        raise ConfigError(
            f"pseudonymisation key file {key_file} does not exist",
            file=str(key_file),
            hint=_how(env_var),
        )
    if os.name == "nt":
        return
    mode = stat.S_IMODE(key_file.stat().st_mode)
    if mode & KEY_FILE_FORBIDDEN_BITS:
        raise ConfigError(
            f"pseudonymisation key file {key_file} is readable or writable by others "
            f"(mode {mode:04o}); the key is refused",
            file=str(key_file),
            hint=f"chmod 600 {key_file}  (only you may read it), then rerun. If others could "
            "read it already, make a new key: they can reverse every pseudonym made with it.",
        )


def _key_from_file(key_file: Path, env_var: str) -> str:
    check_key_file_private(key_file, env_var)
    return key_file.read_text(encoding="utf-8").strip()


def is_example_data(path: Path) -> bool:
    """True when `path` is one of the bundled synthetic wave files (by SHA-256, not by name)."""
    return Path(path).is_file() and sha256_file(Path(path)) in EXAMPLE_DATA_SHA256


def _check_example_data(data_files: Sequence[Path], env_var: str) -> None:
    """Raise ConfigError unless every file in `data_files` is bundled synthetic data."""
    if not data_files:
        raise ConfigError(
            "the public example pseudonymisation key is used only with the bundled synthetic "
            "data, and no data file was given to check",
            hint=_how(env_var),
        )
    for path in data_files:
        if not is_example_data(Path(path)):
            raise ConfigError(
                "the public example pseudonymisation key is refused: this is not the bundled "
                "synthetic example data (its SHA-256 is not one of the example files'), and "
                "pseudonyms made with a public key can be reversed by anyone",
                file=str(path),
                hint=_how(env_var),
            )


def expand_key_file(key_file: str | Path | None) -> Path | None:
    """The configured key file as a Path (`~` expanded), or None when none is configured."""
    if key_file is None or str(key_file).strip() == "":
        return None
    return Path(str(key_file)).expanduser()


def load_key(
    env_var: str = KEY_ENV_VAR,
    key_file: Path | None = None,
    allow_example_key: bool = False,
    data_files: Sequence[Path] = (),
) -> bytes:
    """The pseudonymisation key: from `key_file`, else from `env_var`, else the example key.

    A key file is preferred to the environment variable: environment variables leak into cluster
    job scripts (Snakemake's SLURM/Kubernetes executors pass them on), `ps e` and core dumps,
    whereas a file with mode 0600 stays readable by its owner only. A key file that group or
    others can read or write is refused (`chmod 600` it).

    The public example key (`EXAMPLE_KEY`, also when a key file or variable holds it) is used
    only when `allow_example_key` is true AND every file in `data_files` (the raw wave files
    being pseudonymised) is bundled synthetic data, recognised by SHA-256; anything else is
    refused, since anyone can reverse pseudonyms made with a public key by trying every ID.
    Raises ConfigError with instructions when no usable key is configured.
    """
    key_file = expand_key_file(key_file)
    if key_file is not None:
        value, source = _key_from_file(key_file, env_var), f"key file {key_file}"
    else:
        value, source = os.environ.get(env_var, "").strip(), f"environment variable {env_var}"
    if value and value.encode("utf-8") != EXAMPLE_KEY:
        key = value.encode("utf-8")
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(
                f"the pseudonymisation key in {source} is shorter than {MIN_KEY_BYTES} bytes",
                hint=_how(env_var),
            )
        return key
    if not value and not allow_example_key:
        raise ConfigError(
            f"no pseudonymisation key is configured (no key_file, and {env_var} is not set)",
            hint=_how(env_var),
        )
    _check_example_data(data_files, env_var)
    print(EXAMPLE_KEY_WARNING.format(how=_how(env_var)), file=sys.stderr)
    return EXAMPLE_KEY


def example_key_in_use(settings: Mapping[str, object]) -> bool:
    """True when the `pseudonymisation` config section will fall back on the example key."""
    env_var = str(settings.get("key_env") or KEY_ENV_VAR)
    if expand_key_file(settings.get("key_file")) is not None:  # type: ignore[arg-type]
        return False
    if os.environ.get(env_var, "").strip():
        return os.environ[env_var].strip().encode("utf-8") == EXAMPLE_KEY
    return bool(settings.get("allow_example_key"))


def warn_if_example_key(settings: Mapping[str, object], stream: TextIO | None = None) -> bool:
    """Print the example-key warning once to the console (`stream`, default stderr) when the
    config falls back on the example key; the clean jobs' own warnings only reach their logs.
    Called once per run from the workflow's `onstart`. Returns whether it warned."""
    if not example_key_in_use(settings):
        return False
    env_var = str(settings.get("key_env") or KEY_ENV_VAR)
    print(EXAMPLE_KEY_WARNING.format(how=_how(env_var)), file=stream or sys.stderr, flush=True)
    return True
