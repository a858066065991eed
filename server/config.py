"""The server's one configuration object.

Everything the server needs to know about its environment is read here, once, into :class:`Settings`;
the rest of the server receives a ``Settings`` and never reads the environment itself.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

#: environment variables the server reads
ENV_DATABASE_URL = "OPENSUPPORT_DATABASE_URL"
ENV_ADMIN_PASSWORD = "OPENSUPPORT_ADMIN_PASSWORD"
ENV_SECRET_KEY = "OPENSUPPORT_SECRET_KEY"
ENV_DATA_DIR = "OPENSUPPORT_DATA_DIR"

SECRET_KEY_FILE = "secret_key"
SQLITE_FILE = "opensupport.sqlite3"


def default_data_dir() -> Path:
    """The user's data directory for OpenSupport (``$XDG_DATA_HOME/opensupport``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "opensupport"


def _load_or_create_secret(data_dir: Path) -> str:
    """The key that signs session cookies and CSRF tokens, kept in the data folder (mode 0600)."""
    path = data_dir / SECRET_KEY_FILE
    try:
        text = path.read_text().strip()
        if len(text) >= 32:
            return text
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


@dataclass(frozen=True)
class Settings:
    """Configuration of one server process.

    ``database_url`` is a SQLAlchemy URL: ``OPENSUPPORT_DATABASE_URL`` when set (PostgreSQL through
    psycopg 3, ``postgresql+psycopg://...``), else an SQLite file in ``data_dir`` (WAL mode).
    ``admin_password`` is used only on the very first start, for the administrator ``admin``.
    ``cookie_secure`` forces the Secure flag on cookies; otherwise it is set whenever the request came
    over https (directly or, with ``--proxy-headers``, through a TLS-terminating proxy).
    """

    data_dir: Path
    database_url: str
    secret_key: str
    admin_password: str | None = None
    cookie_secure: bool = False
    #: an agent is online while its last heartbeat is younger than this
    online_window_s: int = 60
    #: lifetime of an administrator's login
    admin_session_s: int = 12 * 3600

    @classmethod
    def from_env(
        cls,
        data_dir: Path | str | None = None,
        *,
        database_url: str | None = None,
        environ: dict[str, str] | None = None,
    ) -> Settings:
        """Build the settings from arguments, then the environment, then defaults.

        Creates the data folder (mode 0700) and the secret key file if needed. Raises ``OSError`` if the
        folder cannot be created.
        """
        env = os.environ if environ is None else environ
        folder = Path(data_dir or env.get(ENV_DATA_DIR) or default_data_dir()).expanduser()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        url = database_url or env.get(ENV_DATABASE_URL) or f"sqlite:///{folder / SQLITE_FILE}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # psycopg 3 is the driver the server ships with; plain URLs would pick psycopg2
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        secret = env.get(ENV_SECRET_KEY) or _load_or_create_secret(folder)
        return cls(
            data_dir=folder,
            database_url=url,
            secret_key=secret,
            admin_password=env.get(ENV_ADMIN_PASSWORD) or None,
        )
