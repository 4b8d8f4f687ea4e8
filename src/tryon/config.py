"""Settings: flags and ``TRYON_*`` environment variables, with embedded defaults.

Everything that differs between one laptop and many machines is a URL here (database, blob store,
queue); the defaults put all of it in one data folder.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tryon.engines.registry import engine_names


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRYON_", extra="ignore")

    data_dir: Path = Field(default=Path(".tryon"), description="Folder for all embedded state")
    database_url: str | None = Field(default=None, description="Default: SQLite in data_dir")
    storage_url: str | None = Field(default=None, description="Default: folder data_dir/blobs")
    queue_url: str | None = Field(default=None, description="Default: SqliteHuey in data_dir")
    engine: str = Field(default="local", description="Engine for live keys: local | placeholder")
    public_base_url: str | None = Field(
        default=None, description="Base of signed URLs; default: the URL the request came in on"
    )
    signed_url_ttl_seconds: int = 3600
    sync_timeout_seconds: float = 90.0
    max_request_bytes: int = 32 * 1024 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024
    default_rate_limit: int = 100
    failed_auth_limit_per_minute: int = 30
    default_retention_days: int = 7
    fetch_timeout_seconds: float = 15.0
    fetch_allow: str = Field(
        default="",
        description="Comma-separated CIDRs or host:port pairs that URL fetching may reach even "
        "though they are not public addresses (tests, private deployments)",
    )
    # A generation PROCESSING longer than this is considered lost (worker crash) and retried.
    job_stale_seconds: int = 600
    # A generation PENDING longer than this without being picked up is enqueued again.
    pending_requeue_seconds: int = 120
    max_job_attempts: int = 3
    sweep_interval_minutes: int = 5
    # A stored object that no row references (left by a process killed between storing bytes
    # and recording them) is deleted by the sweeper once it is this old.
    orphan_grace_seconds: int = 3600
    worker_threads: int = 1

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, name: str) -> str:
        # Checked here, at start-up, rather than by every job failing with ENGINE_ERROR later.
        if name not in engine_names():
            raise ValueError(f"unknown engine; choose one of {', '.join(engine_names())}")
        return name

    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir() / 'tryon.db'}"

    def resolved_storage_url(self) -> str:
        if self.storage_url:
            return self.storage_url
        return f"file://{self.resolved_data_dir() / 'blobs'}"

    def resolved_queue_path(self) -> Path:
        return self.resolved_data_dir() / "queue.db"
