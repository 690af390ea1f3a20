"""`python -m saas.start`: the whole product on one machine, on its embedded defaults.

Migrates (public, template, pool), makes sure the demo tenant exists, then serves HTTP
and websockets with daphne and runs one background worker beside it. With
DATABASE_URL unset the database is an embedded PostgreSQL under DATA_DIR; with
REDIS_URL unset the channel layer is in-process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

# A deploy or a network blip reconnects every agent's browser at once; daphne's default
# 5 s for a websocket handshake dropped sockets still queued behind the others' (see
# bench/realtime.py's connect burst). They retry, but each retry is another storm.
DAPHNE_ARGS = ["--websocket_connect_timeout", "30"]
# ... and the connections of such a storm arrive faster than one process accepts them:
# with Twisted's default listen backlog of 50 the kernel dropped the rest's handshakes
# (TcpExtListenOverflows), and each retried after 1, 3, 7, 15, 31 s: bench/realtime.py's
# 1,000 sockets took up to 109 s to connect, some timing out. Linux caps the backlog at
# net.core.somaxconn (4096 by default since 5.4).
LISTEN_BACKLOG = 2048


def daphne_arguments(host: str, port: int | str) -> list[str]:
    """Daphne's command-line arguments to serve on ``host``:``port``: an endpoint with a
    listen backlog for a reconnect storm (``-b``/``-p`` have none), then DAPHNE_ARGS."""
    interface = host.replace(":", "\\:")  # an IPv6 address, escaped for Twisted
    endpoint = f"tcp:port={int(port)}:interface={interface}:backlog={LISTEN_BACKLOG}"
    return ["-e", endpoint, *DAPHNE_ARGS]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings")
    os.environ.setdefault("DEBUG", "1")
    port = os.environ.setdefault("PORT", "8000")
    os.environ.setdefault("PUBLIC_PORT", port)
    host = os.environ.get("HOST", "0.0.0.0")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from tenants.demo import demo_tenant_ensure

    print("Migrating the public schema, the tenant template and the warm pool...", flush=True)
    call_command("migrate_schemas", interactive=False, verbosity=0)
    _tenant, logins = demo_tenant_ensure(base_domain=settings.BASE_DOMAIN)

    worker = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--backend",
            "durable",
            "--queue-name",
            "*",
            "--no-reload",
        ],
        cwd=settings.BASE_DIR,
    )

    def stop_worker(*_args: object) -> None:
        if worker.poll() is None:
            worker.terminate()

    signal.signal(signal.SIGTERM, lambda *a: (stop_worker(), sys.exit(0)))

    base = settings.BASE_DOMAIN
    print(
        "\n".join(
            [
                "",
                f"  Public site:  http://{base}:{port}  (sign up an organisation)",
                f"  Demo tenant:  http://demo.{base}:{port}  (admin: http://demo.{base}:{port}/admin/)",
                f"  Health:       http://{base}:{port}/healthz",
                "  Demo sign-ins:",
                *[f"    {login.role:<9} {login.email}  /  {login.password}" for login in logins],
                "",
            ]
        ),
        flush=True,
    )
    from daphne.cli import CommandLineInterface

    try:
        CommandLineInterface().run([*daphne_arguments(host, port), "saas.asgi:application"])
    finally:
        stop_worker()


if __name__ == "__main__":
    main()
