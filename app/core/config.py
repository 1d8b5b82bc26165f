"""Settings, read once from the environment; nothing else reads os.environ."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Used only when REHAB_ENV=development and no key is given: every process gets the same
# key, so tokens stay valid across workers, and production refuses to start with it.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REHAB_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/rehab.db",
        validation_alias=AliasChoices("DATABASE_URL", "REHAB_DATABASE_URL"),
    )
    env: Literal["development", "test", "production"] = "development"
    secret_key: str = ""
    token_lifetime_minutes: int = Field(default=60, ge=1, le=24 * 60)
    token_audience: str = "rehab-plans"
    cors_origins: list[str] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    db_pool_size: int = Field(default=5, ge=1, le=100)
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    idempotency_retention_hours: int = Field(default=24, ge=1, le=24 * 30)
    idempotency_lock_wait_ms: int = Field(default=200, ge=0, le=10_000)
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_max_failures_per_address: int = Field(default=20, ge=1, le=100_000)
    login_window_seconds: int = Field(default=900, ge=1, le=7 * 24 * 3600)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    @model_validator(mode="after")
    def _refuse_unsafe_values(self) -> Settings:
        if not self.secret_key:
            if self.env != "development":
                raise ValueError("REHAB_SECRET_KEY is required outside development")
            self.secret_key = DEVELOPMENT_SECRET_KEY
        if self.env == "production":
            if self.secret_key == DEVELOPMENT_SECRET_KEY or len(self.secret_key) < 32:
                raise ValueError("REHAB_SECRET_KEY must be at least 32 characters in production")
            if "*" in self.cors_origins:
                raise ValueError("REHAB_CORS_ORIGINS may not be '*' in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
