"""Personal data out of ticket text before it becomes a draft article.

What a customer writes and what an agent answers carry addresses, phone numbers, names,
tracking codes, card and order numbers; none of it belongs in the knowledge base. The
rules err on the side of removing too much: the result is a draft that an agent reviews
before anyone publishes it. Digits count in all three scripts the portal is written in
(0-9, Persian ۰-۹, Arabic-Indic ٠-٩), and names match whichever keyboard typed them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL = "[email]"
PHONE = "[phone]"
NAME = "[name]"
CODE = "[code]"
NUMBER = "[number]"

_DIGIT = "[0-9\u06f0-\u06f9\u0660-\u0669]"
_TO_ASCII = str.maketrans(
    {
        **{chr(0x06F0 + i): str(i) for i in range(10)},
        **{chr(0x0660 + i): str(i) for i in range(10)},
    }
)

_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Signed links and API keys: long runs mixing upper case, lower case and digits. Slugs
# (lower case) and words never have all three.
_TOKEN = re.compile(r"(?<![\w:-])[A-Za-z0-9_:-]{20,}(?![\w:-])")
# The helpdesk's tracking codes (K7M-4QX9) and look-alikes: 4+4 letters and digits.
_TRACKING = re.compile(r"(?<![\w-])[0-9A-Za-z]{4}-[0-9A-Za-z]{4}(?![\w-])")
# A run of digits in any script, with the separators people put in phone and card
# numbers. Classified in _digits(): phone, card/order number, or left alone.
_DIGITS = re.compile(rf"(?<![\w+])(?:\+|00)?\(?{_DIGIT}(?:[ \-()]{{0,2}}{_DIGIT})*")
_LONG_RUN = re.compile(rf"{_DIGIT}{{6,}}")
_GROUPS = re.compile(rf"{_DIGIT}+")
_DATE = re.compile(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{2,4}|\d{4} \d{1,2} \d{1,2})$")
# The same letter from a Persian or an Arabic keyboard.
_LETTER_VARIANTS = {
    "ی": "یيى",
    "ي": "یيى",
    "ى": "یيى",
    "ک": "کك",
    "ك": "کك",
    "ه": "هة",
    "ة": "هة",
    "ا": "اأإآ",
    "أ": "اأإآ",
    "إ": "اأإآ",
    "آ": "اأإآ",
}
NAME_PART_MIN_LENGTH = 3


def _digits(match: re.Match) -> str:
    text = match.group(0)
    plain = text.translate(_TO_ASCII)
    groups = _GROUPS.findall(plain)
    count = sum(len(group) for group in groups)
    if plain.startswith(("+", "00")) and 7 <= count <= 15:
        return PHONE
    if _DATE.match(plain):
        return text
    if count > 15:  # card numbers: 16 to 19 digits
        return NUMBER
    if len(groups) == 1:
        if plain.lstrip("(").startswith("0") and 9 <= count <= 12:  # 09123456789
            return PHONE
        return NUMBER if count >= 6 else text
    national = plain.lstrip("(").startswith("0")
    if any(len(group) >= 6 for group in groups) and not national:  # INV-2024-778899
        return NUMBER
    if 7 <= count <= 15 and all(len(group) >= 2 for group in groups):
        return PHONE
    return text


def _token(match: re.Match) -> str:
    token = match.group(0)
    mixed = (
        any(ch.islower() for ch in token)
        and any(ch.isupper() for ch in token)
        and any(ch.isdigit() for ch in token)
    )
    return CODE if mixed else token


def _tracking(match: re.Match) -> str:
    code = match.group(0)
    if any(ch.isdigit() for ch in code) and any(ch.isalpha() for ch in code):
        return CODE
    return code


def _letters(word: str) -> str:
    return "".join(
        f"[{re.escape(_LETTER_VARIANTS[ch])}]" if ch in _LETTER_VARIANTS else re.escape(ch)
        for ch in word
    )


def _name_pattern(names: Iterable[str]) -> re.Pattern | None:
    phrases: set[str] = set()
    for name in names:
        words = (name or "").split()
        if not words:
            continue
        phrases.add(" ".join(words))
        phrases.update(word for word in words if len(word) >= NAME_PART_MIN_LENGTH)
    if not phrases:
        return None
    # Longest first, so "Sara Ahmadi" goes as one [name], not two.
    alternatives = [
        r"\s+".join(_letters(word) for word in phrase.split())
        for phrase in sorted(phrases, key=len, reverse=True)
    ]
    return re.compile(
        r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE | re.UNICODE
    )


def _exact_codes(codes: Iterable[str]) -> re.Pattern | None:
    """A known code as a customer may type it: any case, with or without its dash."""
    alternatives = []
    for code in codes:
        characters = [ch for ch in (code or "") if ch.isalnum()]
        if len(characters) >= 4:
            alternatives.append(r"[-\s]?".join(re.escape(ch) for ch in characters))
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def scrub_personal_data(text: str, *, names: Iterable[str] = (), codes: Iterable[str] = ()) -> str:
    """``text`` with email addresses, phone numbers, the given ``names``, tracking and
    other ``codes``, signed tokens, and card/order numbers replaced by placeholders."""
    text = _EMAIL.sub(EMAIL, text or "")
    text = _TOKEN.sub(_token, text)
    exact = _exact_codes(codes)
    if exact is not None:
        text = exact.sub(CODE, text)
    text = _TRACKING.sub(_tracking, text)
    text = _DIGITS.sub(_digits, text)
    text = _LONG_RUN.sub(NUMBER, text)  # digits inside words: ORD123456
    pattern = _name_pattern(names)
    if pattern is not None:
        text = pattern.sub(NAME, text)
    return text
