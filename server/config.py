"""The server's one configuration object.

Everything the server needs to know about its environment is read here, once, into :class:`Settings`;
the rest of the server receives a ``Settings`` and never reads the environment itself.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: environment variables the server reads
ENV_DATABASE_URL = "OPENSUPPORT_DATABASE_URL"
ENV_ADMIN_PASSWORD = "OPENSUPPORT_ADMIN_PASSWORD"
ENV_SECRET_KEY = "OPENSUPPORT_SECRET_KEY"
ENV_DATA_DIR = "OPENSUPPORT_DATA_DIR"
#: how a vanished viewer's session is found (seconds; README "When a side is killed"): an agent is online
#: while its last heartbeat is younger than the online window; the sweep runs every sweep interval and
#: closes an active session whose agent was silent for the silence period (default 3 online windows)
ENV_ONLINE_WINDOW = "OPENSUPPORT_ONLINE_WINDOW_S"
ENV_SWEEP_INTERVAL = "OPENSUPPORT_SWEEP_INTERVAL_S"
ENV_SILENT_AFTER = "OPENSUPPORT_SILENT_AFTER_S"

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
    #: how often the sweep closes sessions nobody is in any more
    sweep_interval_s: float = 30.0
    #: an active session whose agent was silent this long is closed as disconnected (None: 3 windows)
    silent_after_s: int | None = None

    @property
    def heartbeat_interval_s(self) -> int:
        """How often a viewer says it is still there: a third of the online window, at least 5 s."""
        return max(5, self.online_window_s // 3)

    @property
    def silent_after(self) -> int:
        """Seconds of an agent's silence after which the sweep closes its active sessions."""
        return self.silent_after_s if self.silent_after_s is not None else 3 * self.online_window_s

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
        window = _seconds(env, ENV_ONLINE_WINDOW, 5, 86400)
        settings = cls(
            data_dir=folder,
            database_url=url,
            secret_key=secret,
            admin_password=env.get(ENV_ADMIN_PASSWORD) or None,
            online_window_s=int(window) if window is not None else cls.online_window_s,
            sweep_interval_s=_seconds(env, ENV_SWEEP_INTERVAL, 0.1, 3600) or cls.sweep_interval_s,
        )
        silent = _seconds(env, ENV_SILENT_AFTER, 1, 7 * 86400)
        if silent is not None:
            # Shorter than two heartbeats, the sweep would close the sessions of agents still there.
            floor = 2 * settings.heartbeat_interval_s
            if silent < floor:
                raise ValueError(
                    f"{ENV_SILENT_AFTER}={silent:g} is shorter than two heartbeats of the agents ({floor} s)"
                )
            settings = dataclasses.replace(settings, silent_after_s=int(silent))
        return settings


def _seconds(env: Mapping[str, str], name: str, low: float, high: float) -> float | None:
    """A number of seconds from the environment (None when unset). Raises ValueError naming the variable."""
    text = env.get(name)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number of seconds") from None
    if not low <= value <= high:
        raise ValueError(f"{name}={text!r} is out of range ({low:g} to {high:g} s)")
    return value
