"""Configuration from ``GOVDATA_*`` environment variables (NF-6).

Every setting has a safe default so that ``make run`` works on a fresh machine; production sets
``GOVDATA_DATABASE_URL`` and ``GOVDATA_STORE_URL`` to PostgreSQL.
"""

from __future__ import annotations

import ipaddress
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVDATA_", extra="ignore")

    data_dir: Path = Path("./var")
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the metadata database; default: SQLite in data_dir"
    )
    store_url: str | None = Field(
        default=None, description="URL of the data store: duckdb:///path or postgresql://…; default: DuckDB"
    )
    admin_password: str | None = None
    secret_key: str | None = Field(default=None, description="signs web sessions; default: kept in data_dir")
    token_ttl_minutes: int = 8 * 60
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    max_upload_mb: int = 2048
    # days an applied batch's uploaded source is kept under the data directory before the daily sweep
    # removes it (a failed or rejected batch's source is removed when it finishes)
    upload_retention_days: int = Field(default=30, ge=0)
    # spreadsheets read (core.files): rows of a sheet, its header included (Excel's own maximum), and
    # the size of a workbook inflated
    max_sheet_rows: int = 1_048_576
    max_xlsx_inflated_mb: int = 4096
    rate_limit_per_minute: int = 600
    login_rate_limit_per_minute: int = 30
    # addresses or networks (comma-separated) of the reverse proxies whose X-Forwarded-For and
    # X-Forwarded-Proto ``govdata serve`` honours; none by default, so a client cannot name its own
    # address (the login limit and the audited source address)
    trusted_proxies: str = ""
    policy_file: Path | None = None
    # the node's Ed25519 private key (PEM, created on first use when missing); default:
    # data_dir/keys/node_ed25519.pem. Kept outside the database (core.signing)
    node_key_file: Path | None = None
    # jobs (core.jobs): "off" keeps a server process from running jobs (a PostgreSQL deployment whose
    # web processes leave them to ``govdata worker``); a claim lapses this many seconds after its
    # worker stopped renewing it
    job_worker: bool = True
    job_lease_seconds: float = 30.0
    # sharing's calls to a provider's interface service refuse loopback, link-local and private
    # addresses unless this is true: services on the government's own network
    interface_allow_private: bool = False
    # the same for a consumer's webhook (订阅推送), separately: any consumer's staff registers one
    webhook_allow_private: bool = False
    # an internet-facing portal instance (opening.feed, docs/opening-feed.md): only the public routes,
    # its own store, fed one way by the government node's signed open-data feed; the feed's public
    # key it trusts: the PEM text, or the path of a file holding it
    portal_only: bool = False
    feed_trusted_key: str | None = None
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for entry in _entries(value):
            ipaddress.ip_network(entry, strict=False)  # a ValueError names the entry
        return value

    def trusted_proxy_list(self) -> list[str]:
        return _entries(self.trusted_proxies)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'govdata.sqlite3').resolve()}"

    def resolved_store_url(self) -> str:
        if self.store_url:
            return self.store_url
        return f"duckdb:///{(self.data_dir / 'data.duckdb').resolve()}"

    def resolved_secret_key(self) -> str:
        """The secret for signing; generated once and kept (mode 0600) in the data directory."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key


def _entries(text: str) -> list[str]:
    return [entry.strip() for entry in text.split(",") if entry.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
