"""Settings: defaults, one clear line for a bad value, and the kept token secret."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pumppilot.config import ConfigError, load_settings, resolve_token_secret


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("PUMPPILOT_") or name == "MONGODB_URI":
            monkeypatch.delenv(name)
    # A developer's .env must not leak into these tests.
    monkeypatch.chdir(tmp_path)


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PUMPPILOT_PORT", "9100")
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example:27017")

    settings = load_settings()

    assert (settings.port, settings.embedded) == (9100, False)


def test_dotenv_file_is_read(tmp_path: Path):
    (tmp_path / ".env").write_text("PUMPPILOT_POLL_SECONDS=3\n")

    assert load_settings().poll_seconds == 3


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PUMPPILOT_PORT", "eighty"),
        ("PUMPPILOT_PORT", "70000"),
        ("PUMPPILOT_LOG_LEVEL", "LOUD"),
        ("PUMPPILOT_POLL_SECONDS", "0"),
        ("MONGODB_URI", "localhost:27017"),
    ],
)
def test_a_malformed_setting_is_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str):
    monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError, match=name):
        load_settings()


def test_a_lease_shorter_than_the_poll_interval_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PUMPPILOT_POLL_SECONDS", "10")
    monkeypatch.setenv("PUMPPILOT_LEASE_SECONDS", "10")

    with pytest.raises(ConfigError, match="PUMPPILOT_LEASE_SECONDS"):
        load_settings()


def test_offline_detection_may_not_come_before_the_lease_ends(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PUMPPILOT_LEASE_SECONDS", "15")
    monkeypatch.setenv("PUMPPILOT_OFFLINE_AFTER_SECONDS", "10")

    with pytest.raises(ConfigError, match="PUMPPILOT_OFFLINE_AFTER_SECONDS"):
        load_settings()


def test_embedded_token_secret_is_generated_once_and_kept(tmp_path: Path):
    settings = load_settings(data_dir=tmp_path / "data")

    first = resolve_token_secret(settings)
    second = resolve_token_secret(settings)

    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "data" / "token-secret").stat().st_mode & 0o077 == 0


def test_a_real_mongodb_needs_a_configured_secret():
    settings = load_settings(mongodb_uri="mongodb://db.example:27017")

    with pytest.raises(ConfigError, match="PUMPPILOT_TOKEN_SECRET"):
        resolve_token_secret(settings)


def test_cli_reports_a_bad_setting_in_one_line_without_a_traceback(tmp_path: Path):
    environment = {**os.environ, "PUMPPILOT_PORT": "eighty"}

    result = subprocess.run(
        [sys.executable, "-m", "pumppilot", "serve"],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "pumppilot: invalid setting PUMPPILOT_PORT: "
        "Input should be a valid integer, unable to parse string as an integer"
    ]
