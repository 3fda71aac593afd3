"""All runtime settings, read once from the environment (or `.env`) and validated at start-up.

A wrong value stops the process with the variable's name in the message, instead of failing
later inside a handler. `config/example.env` documents every variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: Values of SECRET_KEY published with the code (the default and config/example.env).
DEV_SECRETS = frozenset({"", "dev-only-change-me"})
#: secrets.token_urlsafe() gives 43 characters; 32 is plenty against guessing.
MIN_SECRET_LENGTH = 32


class SettingsError(Exception):
    """Raised with a message that names the offending environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = "sqlite+aiosqlite:///data/bot.db"
    timezone: str = "Asia/Shanghai"
    media_dir: Path = Path("data/media")
    config_dir: Path = PROJECT_ROOT / "config"
    bot_host: str = "127.0.0.1"
    bot_port: int = Field(default=8080, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: `json`: one JSON object per log line (time, level, logger, message, update_id,
    #: request_id) for a log collector; `text`: one readable line (bot.app.logs).
    log_format: Literal["text", "json"] = "text"
    #: `production` (set by the Docker image) refuses weak secrets instead of warning, and
    #: `run` warns about rules.yaml values still awaiting the company's sign-off.
    environment: Literal["development", "production"] = "development"
    default_language: Literal["zh", "en"] = "zh"
    #: Public https base of this server, for links in template messages and survey pages.
    public_base_url: str = "http://127.0.0.1:8080"
    #: Signs links to our web pages and staff API tokens; must be changed in production.
    secret_key: str = "dev-only-change-me"
    redis_url: str | None = None
    #: How long after staff complete a repair its satisfaction survey is sent (unless the owner
    #: confirms the fix first). DEFAULT 1 day (domain §5).
    survey_delay: timedelta = timedelta(days=1)
    #: How often the delivery worker looks for due messages when nobody woke it (a new reply
    #: wakes it at once); also the period of the scheduled jobs.
    scheduler_tick_seconds: float = Field(default=2.0, gt=0, le=3600)
    #: Non-urgent pushes (surveys, campaigns, notices) wait until these end, in TIMEZONE;
    #: replies, staff replies and emergencies never wait. Empty: no quiet hours. Parsed (and
    #: refused when malformed) by bot.domain.delivery at start-up.
    quiet_hours: str = "21:00-08:00"

    telegram_token: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_bot_username: str = "OwnerServiceBot"
    #: `off` lifts our own rate limiting, for benchmarks against a fake Bot API only: never in
    #: production, where Telegram answers excess with 429 (logged loudly at start).
    telegram_pacing: Literal["on", "off"] = "on"
    #: The staff group: a Telegram forum supergroup (id like -100…) the bot is an admin of, with
    #: one topic per escalation. Unset: no staff group (the console and the API still work).
    staff_telegram_chat_id: int | None = None

    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_token: str | None = None
    wechat_aes_key: str | None = None
    wechat_api_base_url: str = "https://api.weixin.qq.com/"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("survey_delay")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must not be negative")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @property
    def weak_secret(self) -> str | None:
        """Why SECRET_KEY would let strangers sign page links, or None when it is fine."""
        if self.secret_key in DEV_SECRETS:
            return "is missing or the published development value"
        if len(self.secret_key) < MIN_SECRET_LENGTH:
            return f"is shorter than {MIN_SECRET_LENGTH} characters"
        return None

    def check_secrets(self) -> str | None:
        """Raise in production when SECRET_KEY is weak; in development return a one-line
        notice for the log (or None)."""
        problem = self.weak_secret
        if problem is None:
            return None
        if self.environment == "production":
            raise SettingsError(
                f"SECRET_KEY {problem}; set a random value of at least {MIN_SECRET_LENGTH} "
                'characters (python -c "import secrets; print(secrets.token_urlsafe())")'
            )
        return f"running in development with a development SECRET_KEY ({problem})"

    @property
    def secret_values(self) -> tuple[str | None, ...]:
        """What must never be logged (see bot.app.redaction)."""
        return (
            self.secret_key,
            self.telegram_token,
            self.telegram_webhook_secret,
            self.wechat_app_secret,
            self.wechat_token,
            self.wechat_aes_key,
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def wechat_enabled(self) -> bool:
        return bool(self.wechat_app_id and self.wechat_token and self.wechat_app_secret)


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning pydantic's error into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [
            f"{'_'.join(str(p) for p in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        ]
        raise SettingsError("invalid setting " + "; ".join(problems)) from exc
