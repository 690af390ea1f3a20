"""Tracking codes a person can read out on the phone: ``K7M-4QX9``.

Eight characters of Crockford's base32 (no I, L, O, U), random rather than sequential so
a code reveals nothing about volume and cannot be guessed from a neighbour's.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


def new_reference() -> str:
    code = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


def clean_reference(value: str) -> str:
    """What a customer typed (any case, spaces, look-alike letters) as a stored code."""
    raw = "".join(ch for ch in (value or "").upper() if ch.isalnum())
    raw = raw.translate(_LOOKALIKES)
    if len(raw) != 8 or any(ch not in ALPHABET for ch in raw):
        return ""
    return f"{raw[:4]}-{raw[4:]}"
