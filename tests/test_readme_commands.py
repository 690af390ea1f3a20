"""The README's two commands are the product's front door: keep them working.

The start command runs for real here, on the embedded PostgreSQL (DATABASE_URL and
REDIS_URL removed), in a throw-away DATA_DIR, until /healthz answers on the public host
and on the demo tenant's host.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures.smtp import free_port

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    """The indented command lines right under the README's title."""
    lines = (ROOT / "README.md").read_text().splitlines()
    commands = []
    for line in lines[1:]:
        if line.startswith("    "):
            commands.append(line.strip())
        elif commands:
            break
    return commands


def test_readme_opens_with_exactly_two_commands_and_ci_runs_the_second():
    start, test = readme_commands()

    assert "saas.start" in start
    assert "pytest" in test
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci_lines


def _get(url: str, host: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _kill_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def _stop_embedded_postgres(data_dir: Path) -> None:
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGINT)  # fast shutdown
        except (ProcessLookupError, ValueError):
            pass


@pytest.mark.slow
def test_start_command_serves_healthz_on_the_embedded_database(tmp_path):
    start, _test = readme_commands()
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "TESTING",
            "TEST_DATABASE_NAME",
            "TENANT_POOL_SIZE",
            "PUBLIC_PORT",
            "PUBLIC_SCHEME",
            "EMAIL_URL",
        }
    }
    env.update(PORT=str(port), DATA_DIR=str(tmp_path / "data"), TENANT_POOL_SIZE="1")
    # A person types the command in a plain shell, not inside this test run's virtualenv.
    venv = env.pop("VIRTUAL_ENV", None) or str(ROOT / ".venv")
    env["PATH"] = os.pathsep.join(
        entry for entry in env.get("PATH", "").split(os.pathsep) if not entry.startswith(venv)
    )
    log = (tmp_path / "start.log").open("wb")
    process = subprocess.Popen(
        ["bash", "-c", start],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 420
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz", f"localhost:{port}")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(1)
        output = (tmp_path / "start.log").read_text(errors="replace")
        assert status == 200, output[-3000:]
        assert b'"status": "ok"' in body

        demo_status, demo_body = _get(f"http://127.0.0.1:{port}/healthz", f"demo.localhost:{port}")
        assert demo_status == 200, demo_body
        home_status, home = _get(f"http://127.0.0.1:{port}/", f"demo.localhost:{port}")
        assert home_status == 200 and b"Demo Support" in home
        assert f"http://demo.localhost:{port}" in output
        assert "admin@demo.localhost" in output
    finally:
        _kill_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            _kill_group(process, signal.SIGKILL)
        log.close()
        _stop_embedded_postgres(tmp_path / "data")
