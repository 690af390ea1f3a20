"""The ASGI entry point daphne serves."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_served_application_leaves_what_it_loaded_out_of_garbage_collection():
    """As daphne loads it (not under the test runner, where it changes nothing)."""
    env = {k: v for k, v in os.environ.items() if k != "TESTING"}
    env.setdefault("DEBUG", "1")
    probe = "import gc; import saas.asgi; print(gc.get_freeze_count(), *gc.get_threshold())"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    ).stdout.split()  # fmt: skip

    frozen, *thresholds = (int(value) for value in out[-4:])
    assert frozen > 10_000
    assert thresholds == [10_000, 20, 100]


def test_under_the_test_runner_garbage_collection_is_left_alone():
    import gc

    import saas.asgi  # noqa: F401

    assert gc.get_threshold()[0] != 10_000
