"""Priority from impact x urgency (ITIL's matrix)."""

from __future__ import annotations

from helpdesk.models import Level, Priority

MATRIX: dict[tuple[int, int], int] = {
    (Level.LOW, Level.LOW): Priority.LOW,
    (Level.LOW, Level.MEDIUM): Priority.LOW,
    (Level.LOW, Level.HIGH): Priority.MEDIUM,
    (Level.MEDIUM, Level.LOW): Priority.LOW,
    (Level.MEDIUM, Level.MEDIUM): Priority.MEDIUM,
    (Level.MEDIUM, Level.HIGH): Priority.HIGH,
    (Level.HIGH, Level.LOW): Priority.MEDIUM,
    (Level.HIGH, Level.MEDIUM): Priority.HIGH,
    (Level.HIGH, Level.HIGH): Priority.CRITICAL,
}


def priority_for(*, impact: int, urgency: int) -> int:
    return MATRIX[(Level(impact), Level(urgency))]
