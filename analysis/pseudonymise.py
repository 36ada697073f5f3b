"""Keyed pseudonyms for indirect identifiers (respondent, officer and interview IDs).

A pseudonym is HMAC-SHA256(key, "<dataset>\\x1f<value>") as hex, cut to 16 characters, behind a
prefix per dataset: `OS-3f9a0c...`. The same key gives the same pseudonym on every run, so waves
and reruns link; without the key nobody can go back from a pseudonym to the ID. The key itself is
never written anywhere: not to outputs, logs, provenance or error messages.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sys
from pathlib import Path

import pandas as pd

from analysis.errors import ConfigError

KEY_ENV_VAR = "WPS_PSEUDONYM_KEY"
EXAMPLE_KEY = b"wps-evidence-EXAMPLE-key-not-secret"
HEX_CHARS = 16
MIN_KEY_BYTES = 16
DATASET_PREFIXES = {"officer_survey": "OS", "training": "TR", "interviews": "IV"}

HOW_TO_SET_KEY = (
    "set a secret pseudonymisation key of at least {min} bytes, either\n"
    "  export {env}=\"$(python -c 'import secrets; print(secrets.token_hex(32))')\"\n"
    "or write it to a file readable only by you and name it in config.yaml "
    "(pseudonym_key_file: /path/to/key; chmod 600 the file).\n"
    "Keep the same key for every wave so pseudonyms link across waves, and never commit it. "
    "For the bundled synthetic example data only, allow_example_key: true in config.yaml uses a "
    "public example key."
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


def pseudonymise(values: pd.Series, key: bytes, dataset: str) -> pd.Series:
    """Replace each value by its keyed pseudonym; missing values stay missing.

    Returns a `string` Series with the same index and name. Raises ValueError if two different
    values would share a pseudonym (never expected with 64 bits, but checked).
    """
    if not isinstance(key, bytes | bytearray) or not key:
        raise ValueError("the pseudonymisation key must be non-empty bytes")
    present = values.notna()
    originals = values[present].map(_as_text)
    keyed = hmac.new(bytes(key), digestmod=hashlib.sha256)  # copied per value: no re-keying
    prefix = dataset_prefix(dataset)

    def one(text: str) -> str:
        mac = keyed.copy()
        mac.update(f"{dataset}\x1f{text}".encode())
        return f"{prefix}-{mac.hexdigest()[:HEX_CHARS]}"

    mapping = {v: one(v) for v in sorted(set(originals))}
    if len(set(mapping.values())) != len(mapping):
        raise ValueError(f"pseudonym collision in dataset {dataset!r}; use a longer HEX_CHARS")
    out = pd.Series(pd.NA, index=values.index, name=values.name, dtype="string")
    out[present] = originals.map(mapping).astype("string")
    return out


def load_key(
    env_var: str = KEY_ENV_VAR,
    key_file: Path | None = None,
    allow_example_key: bool = False,
) -> bytes:
    """The pseudonymisation key: from `env_var`, else from `key_file`, else the example key.

    The example key is used only when `allow_example_key` is true (bundled synthetic data), with
    a warning on stderr. Raises ConfigError with instructions when no usable key is configured.
    """
    how = HOW_TO_SET_KEY.format(min=MIN_KEY_BYTES, env=env_var)
    value = os.environ.get(env_var, "").strip()
    source = f"environment variable {env_var}"
    if not value and key_file is not None:
        key_file = Path(key_file)
        if not key_file.is_file():
            raise ConfigError(
                f"pseudonymisation key file {key_file} does not exist",
                file=str(key_file),
                hint=how,
            )
        value = key_file.read_text(encoding="utf-8").strip()
        source = f"key file {key_file}"
    if value:
        key = value.encode("utf-8")
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(
                f"the pseudonymisation key in {source} is shorter than {MIN_KEY_BYTES} bytes",
                hint=how,
            )
        return key
    if allow_example_key:
        print(
            "WARNING: pseudonymising with the PUBLIC example key (allow_example_key is set). "
            "Anyone can recompute these pseudonyms; use it only for the synthetic example data.",
            file=sys.stderr,
        )
        return EXAMPLE_KEY
    raise ConfigError(f"no pseudonymisation key is configured ({env_var} is not set)", hint=how)
