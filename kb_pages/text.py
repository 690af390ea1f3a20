"""Persian/Arabic-aware search text for the knowledge base.

The folding both searches use (the helpdesk's ticket search imports it from here, as
imports point helpdesk -> kb_pages and never back): Persian and Arabic keyboards
type different code points for the same letters (ی/ي, ک/ك), people join or split words
with ZWNJ or a space, and digits come in three scripts. Both the indexed copy of an
article and the query go through ``tokenize``, so an article is found whichever
keyboard wrote it and whichever keyboard searches for it.
"""

from __future__ import annotations

import re
import unicodedata

ZWNJ = "\u200c"
_FOLD = str.maketrans(
    {
        "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
        "\u0649": "\u06cc",  # alef maksura -> Persian yeh
        "\u0643": "\u06a9",  # Arabic kaf -> Persian keheh
        "\u0629": "\u0647",  # teh marbuta -> heh
        "\u06c0": "\u0647",  # heh with yeh above -> heh
        "\u0623": "\u0627",  # alef with hamza above -> alef
        "\u0625": "\u0627",  # alef with hamza below -> alef
        "\u0622": "\u0627",  # alef with madda -> alef
        "\u0671": "\u0627",  # alef wasla -> alef
        "\u0624": "\u0648",  # waw with hamza -> waw
        "\u0626": "\u06cc",  # yeh with hamza -> yeh
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Persian digits
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic digits
        "\u0640": None,  # tatweel
        "\u200d": None,  # zero-width joiner
        "\u200f": None,  # right-to-left mark
        "\u200e": None,  # left-to-right mark
    }
)
# Arabic diacritics (harakat, tanwin, shadda, sukun, superscript alef, Quranic marks).
_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
# Words; PostgreSQL's parser would split "a.b" and "x@y" differently on each side, so
# such tokens are also emitted in pieces below.
_TOKEN = re.compile(r"[\w@.+\-\u2060]+", re.UNICODE)
_TRIM = ".-+@"
MAX_TOKENS = 20_000
MAX_TOKEN_LENGTH = 60
MAX_QUERY_TOKENS = 12


def normalise(text: str) -> str:
    """Fold Persian/Arabic variants, digits, diacritics and case; keep ZWNJ for tokenize()."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _DIACRITICS.sub("", text.translate(_FOLD))
    return text.casefold()


def tokenize(text: str) -> list[str]:
    """Search tokens of ``text``. A ZWNJ-joined word yields the joined form and its parts,
    so "می‌شود", "میشود" and "می شود" all meet."""
    tokens: list[str] = []
    for raw in _TOKEN.findall(normalise(text).replace(ZWNJ, "\u2060")):
        raw = raw.strip(_TRIM)
        if not raw:
            continue
        if "\u2060" in raw:
            parts = [part for part in raw.split("\u2060") if part]
            tokens.append("".join(parts))
            tokens.extend(parts)
        else:
            tokens.append(raw)
            if any(ch in raw for ch in "@.-+"):  # emails, codes: the whole and the pieces
                tokens.extend(part for part in re.split(r"[@.+-]+", raw) if part)
    return [token[:MAX_TOKEN_LENGTH] for token in tokens[:MAX_TOKENS]]


def search_document(*texts: str) -> str:
    """The normalised copy of ``texts`` that goes into the search index."""
    return " ".join(tokenize(" \n".join(text for text in texts if text)))


def query_terms(text: str) -> list[str]:
    """Terms of a search box: ZWNJ joins (typed with or without it, it means one word);
    codes and emails become their pieces, which the indexed copy also holds."""
    terms: list[str] = []
    for token in tokenize(normalise(text).replace(ZWNJ, "")):
        terms.extend(piece for piece in re.split(r"[@.+-]+", token) if piece)
    return list(dict.fromkeys(terms))[:MAX_QUERY_TOKENS]


# Letters Persian writes and Arabic does not (پ چ ژ گ, Persian keheh and yeh).
_PERSIAN_ONLY = re.compile("[\u067e\u0686\u0698\u06af\u06a9\u06cc]")
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")


def script_language(text: str) -> str | None:
    """A guess for text that comes without a language: Persian ("fa") when it has letters
    only Persian uses, Arabic ("ar") for other Arabic-script text, None for the rest."""
    if _PERSIAN_ONLY.search(text or ""):
        return "fa"
    if _ARABIC_SCRIPT.search(text or ""):
        return "ar"
    return None
