"""Settings read from the environment and an optional `.env` file."""

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_SECRET_FILE = "token-secret"  # noqa: S105 -- a file name, not a secret
MIN_SECRET_LENGTH = 32
URI_SCHEMES = ("mongodb://", "mongodb+srv://")

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


class Settings(BaseSettings):
    """Everything the service reads from its environment, with safe defaults."""

    model_config = SettingsConfigDict(
        env_prefix="PUMPPILOT_", env_file=".env", extra="ignore", frozen=True
    )

    mongodb_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("MONGODB_URI", "PUMPPILOT_MONGODB_URI")
    )
    database: str = "pumppilot"
    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    token_secret: str | None = Field(default=None, min_length=MIN_SECRET_LENGTH)
    # Secrets retired by a rotation: tokens they signed stay valid until they expire.
    token_previous_secrets: list[str] = Field(default_factory=list)
    access_ttl_seconds: int = Field(default=15 * 60, ge=30, le=24 * 3600)
    web_session_ttl_seconds: int = Field(default=12 * 3600, gt=0)
    mobile_session_ttl_seconds: int = Field(default=90 * 24 * 3600, gt=0)
    login_free_attempts: int = Field(default=5, ge=1)
    login_max_delay_seconds: int = Field(default=15 * 60, ge=1)
    production: bool = False
    poll_seconds: int = Field(default=5, ge=1, le=300)
    lease_seconds: int = Field(default=15, ge=2, le=900)
    # A board silent past its lease has switched its motor off; the run is held once the
    # server notices, back-dated to the lease's end. Noticing within a poll interval of
    # the lease keeps any charge for motor-off time under one poll interval.
    offline_after_seconds: int = Field(default=20, ge=2, le=7 * 24 * 3600)
    # How often each worker looks for runs to end, hold or resume; 0 turns it off.
    timer_seconds: float = Field(default=1.0, ge=0, le=60)
    # A websocket must send connection_init (with its token) within this many seconds.
    ws_init_seconds: float = Field(default=5.0, ge=0.1, le=60)
    # Reuse a read-only dashboard answer within its second until the tenant changes.
    reuse_answers: bool = True
    # Redis pub/sub carries events between workers; unset keeps them inside one process.
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "PUMPPILOT_REDIS_URL")
    )
    log_level: LogLevel = "INFO"

    @field_validator("mongodb_uri")
    @classmethod
    def _a_mongodb_uri(cls, value: str | None) -> str | None:
        if value and not value.startswith(URI_SCHEMES):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value or None

    @model_validator(mode="after")
    def _lease_outlives_a_poll(self) -> "Settings":
        # A lease shorter than the poll interval would switch the motor off between polls.
        if self.lease_seconds <= self.poll_seconds:
            raise ValueError("PUMPPILOT_LEASE_SECONDS must be longer than PUMPPILOT_POLL_SECONDS")
        # Calling a board offline before its lease ends would hold a run whose motor runs.
        if self.offline_after_seconds < self.lease_seconds:
            raise ValueError(
                "PUMPPILOT_OFFLINE_AFTER_SECONDS must be at least PUMPPILOT_LEASE_SECONDS"
            )
        return self

    @property
    def offline_after(self) -> timedelta:
        return timedelta(seconds=self.offline_after_seconds)

    @property
    def embedded(self) -> bool:
        return not self.mongodb_uri


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation failure into one line naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from exc


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    if not field:
        return f"invalid configuration: {first['msg'].removeprefix('Value error, ')}"

    name = field.upper() if field.upper() == "MONGODB_URI" else f"PUMPPILOT_{field.upper()}"
    return f"invalid setting {name}: {first['msg']}"


def resolve_token_secret(settings: Settings) -> str:
    """The signing secret: configured, or generated once and kept in the data directory.

    A generated secret is only allowed with the embedded store: a real deployment runs
    several workers, which must all sign with the same configured secret.
    """
    if settings.token_secret:
        return settings.token_secret

    if not settings.embedded:
        raise ConfigError(
            "missing setting PUMPPILOT_TOKEN_SECRET: required when MONGODB_URI is set"
        )

    path = settings.data_dir / TOKEN_SECRET_FILE
    if path.exists():
        secret = path.read_text().strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(f"token secret in {path} is shorter than {MIN_SECRET_LENGTH} chars")
        return secret

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(secret)
    return secret
