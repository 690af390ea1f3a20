"""Channel-layer group names. Every name carries the schema, so a message for one
tenant's group can never be delivered to another tenant's sockets."""

from __future__ import annotations

import re

_SAFE = re.compile(r"[^a-zA-Z0-9_.-]")


def group_name(*, schema_name: str, audience: str) -> str:
    # Channels allows ASCII letters, digits, hyphens, underscores and periods, < 100 chars.
    name = f"t.{schema_name}.{_SAFE.sub('_', audience)}"
    if len(name) >= 100:
        raise ValueError(f"group name too long: {name!r}")
    return name


def schema_of(group: str) -> str:
    """The schema a group name carries (schema names hold no dots)."""
    return group.split(".", 2)[1]
