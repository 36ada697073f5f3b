"""Pseudonymisation keys that cannot be reversed by outsiders (issue 14, item 6).

The public example key works only for the bundled synthetic files (by checksum, not by name);
a key file others can read or write is refused; the example key's warning reaches the console.
"""

from __future__ import annotations

import io
import json
import shutil
import stat
from pathlib import Path

import pytest

from analysis.clean.pseudonymise import (
    EXAMPLE_DATA_SHA256,
    EXAMPLE_KEY,
    load_key,
    pseudonymise,
    warn_if_example_key,
)
from analysis.errors import ConfigError
from analysis.hashing import sha256_file

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "data" / "raw"
BUNDLED_WAVE = RAW / "officer_survey" / "2025.sav"
SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WPS_PSEUDONYM_KEY", raising=False)


def real_wave(tmp_path: Path) -> Path:
    """A wave that is not the bundled data: the bundled file with one byte changed."""
    data = bytearray(BUNDLED_WAVE.read_bytes())
    data[-1] ^= 0xFF
    path = tmp_path / "officer_survey" / "2025.sav"  # same name as the bundled wave
    path.parent.mkdir()
    path.write_bytes(bytes(data))
    return path


def key_file(tmp_path: Path, mode: int, text: str = SECRET) -> Path:
    path = tmp_path / "wps-key"
    path.write_text(text + "\n", encoding="utf-8")
    path.chmod(mode)
    return path


def test_the_example_key_is_refused_for_data_that_is_not_the_bundled_data(
    tmp_path: Path,
) -> None:
    wave = real_wave(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_key(allow_example_key=True, data_files=[wave])
    message = str(info.value)
    assert str(wave) in message and "not the bundled synthetic" in message
    # says how to make and set a real key
    assert "secrets.token_hex(32)" in message and "chmod 600 ~/.wps-key" in message
    assert "key_file: ~/.wps-key" in message


def test_the_example_key_is_refused_however_it_is_supplied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written into a key file or the environment variable, it is still the public key."""
    wave = real_wave(tmp_path)
    with pytest.raises(ConfigError, match="not the bundled synthetic"):
        load_key(key_file=key_file(tmp_path, 0o600, EXAMPLE_KEY.decode()), data_files=[wave])
    monkeypatch.setenv("WPS_PSEUDONYM_KEY", EXAMPLE_KEY.decode())
    with pytest.raises(ConfigError, match="not the bundled synthetic"):
        load_key(data_files=[wave])


def test_the_example_key_is_refused_with_no_data_file_to_check() -> None:
    with pytest.raises(ConfigError, match="no data file"):
        load_key(allow_example_key=True)


def test_the_bundled_data_is_recognised_by_checksum_not_by_name(tmp_path: Path) -> None:
    renamed = tmp_path / "anything.sav"
    shutil.copyfile(BUNDLED_WAVE, renamed)
    assert load_key(allow_example_key=True, data_files=[renamed]) == EXAMPLE_KEY


def _synthetic(dataset_dir: Path) -> bool:
    """Whether a bundled dataset is synthetic (its codebook says so): published aggregate figures
    (results_framework/) have no ID to pseudonymise and are not example microdata."""
    codebook = json.loads((dataset_dir / "codebook.json").read_text(encoding="utf-8"))
    return bool(codebook.get("x-synthetic"))


def test_the_recognised_checksums_are_those_of_the_bundled_waves() -> None:
    """The list in the code follows the generator's files (data/raw/SHA256SUMS): a regenerated
    example must update both, deliberately."""
    listed = {}
    for line in (RAW / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, rel = line.split(maxsplit=1)
        listed[rel] = digest
    waves = {
        rel: d
        for rel, d in listed.items()
        if not rel.endswith("codebook.json") and _synthetic(RAW / rel.split("/")[0])
    }
    assert set(waves.values()) == set(EXAMPLE_DATA_SHA256)
    for rel, digest in waves.items():
        assert sha256_file(RAW / rel) == digest, rel


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602, 0o660])
def test_a_key_file_others_can_read_or_write_is_refused(tmp_path: Path, mode: int) -> None:
    path = key_file(tmp_path, mode)
    with pytest.raises(ConfigError) as info:
        load_key(key_file=path)
    message = str(info.value)
    assert f"chmod 600 {path}" in message and f"{mode:04o}" in message
    assert SECRET not in message


def test_a_private_key_file_is_used_and_preferred_to_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = key_file(tmp_path, 0o600)
    monkeypatch.setenv("WPS_PSEUDONYM_KEY", "environment-secret-0123456789")
    assert load_key(key_file=path) == SECRET.encode()
    assert load_key(key_file=str(path)) == SECRET.encode()  # as config gives it: a string


def test_a_key_file_path_with_a_tilde_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    key_file(tmp_path, 0o600)
    assert load_key(key_file="~/wps-key") == SECRET.encode()


def test_with_a_real_key_no_pseudonym_is_the_example_keys(tmp_path: Path) -> None:
    """The reviewer's attack: with the public key, every pseudonym is recomputed from the IDs."""
    import pandas as pd

    ids = pd.Series([f"OS2025-{i:05d}" for i in range(1, 201)])
    real = pseudonymise(ids, load_key(key_file=key_file(tmp_path, 0o600)), "officer_survey")
    guessed = set(pseudonymise(ids, EXAMPLE_KEY, "officer_survey"))
    assert not guessed & set(real)


def test_the_example_key_warning_reaches_the_console_once() -> None:
    """`warn_if_example_key` is what the workflow's onstart prints, once per run, to stderr."""
    settings = {"key_env": "WPS_PSEUDONYM_KEY", "key_file": None, "allow_example_key": True}
    console = io.StringIO()
    assert warn_if_example_key(settings, console)
    text = console.getvalue()
    assert text.count("PUBLIC example key") == 1 and "secrets.token_hex(32)" in text


def test_no_console_warning_when_a_key_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_file = {"key_env": "WPS_PSEUDONYM_KEY", "key_file": "/some/key", "allow_example_key": True}
    console = io.StringIO()
    assert not warn_if_example_key(with_file, console)
    monkeypatch.setenv("WPS_PSEUDONYM_KEY", "environment-secret-0123456789")
    assert not warn_if_example_key({**with_file, "key_file": None}, console)
    assert console.getvalue() == ""


def test_the_workflow_prints_the_warning_when_a_run_starts() -> None:
    """The clean jobs' stderr goes to their logs; the run's onstart is what the user sees."""
    text = (REPO / "workflow" / "rules" / "ingest.smk").read_text(encoding="utf-8")
    start = text.index("onstart:")
    block = text[start : text.index("\n\n\n", start)]
    assert 'warn_if_example_key(config["pseudonymisation"])' in block


@pytest.mark.workflow
def test_a_run_warns_once_on_the_console_and_keeps_its_tables_owner_only(
    tmp_path: Path,
) -> None:
    """Snakemake on the bundled training wave: the warning on the run's console exactly once
    (the clean job's copy goes to its log), and the row-level outputs owner-only."""
    from analysis.provenance.tiers import check_tiers
    from tests.workflow_run import copy_project, run_snakemake

    root = copy_project(tmp_path / "project")
    done = run_snakemake(root, "results/clean/training/2024.parquet", cores=1)
    assert done.stderr.count("PUBLIC example key") == 1, done.stderr[-3000:]
    log = root / "results" / "logs" / "prepare_wave" / "training" / "2024.log"
    assert "PUBLIC example key" in log.read_text(encoding="utf-8")
    results = root / "results"
    for rel in ("clean/training/2024.parquet", "clean/training/2024.csv", "quarantine/training"):
        path = results / rel
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), rel
    assert check_tiers(results, root / "data" / "raw") == []
