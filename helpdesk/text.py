"""Text as people type it: normalised for search, sanitised for display.

Persian and Arabic keyboards produce different code points for the same letters
(ی/ي, ک/ك), people join or split words with ZWNJ or a space, and digits come in three
scripts. Search folds all of that on both sides -- the indexed document and the query --
so a ticket is found whichever keyboard typed it.
"""

from __future__ import annotations

import html
import re
import unicodedata

import nh3

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
_TOKEN = re.compile(r"[\w@.+\-\u2060]+", re.UNICODE)
_TRIM = ".-+@"
MAX_TOKENS = 20_000
MAX_TOKEN_LENGTH = 60


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
            parts = [p for p in raw.split("\u2060") if p]
            tokens.append("".join(parts))
            tokens.extend(parts)
        else:
            tokens.append(raw)
            if any(ch in raw for ch in "@.-+"):  # emails, codes: the whole and the pieces
                tokens.extend(p for p in re.split(r"[@.+-]+", raw) if p)
    return [t[:MAX_TOKEN_LENGTH] for t in tokens[:MAX_TOKENS]]


def query_tokens(text: str) -> list[str]:
    """Tokens of a search box: ZWNJ joins (typed with or without it, it means one word)."""
    return list(dict.fromkeys(tokenize(normalise(text).replace(ZWNJ, ""))))


# --- display -------------------------------------------------------------------------

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "s", "ul", "ol", "li", "blockquote",
    "code", "pre", "a", "h3", "h4", "hr",
}  # fmt: skip


def sanitise_html(value: str) -> str:
    """Keep formatting, drop scripts, styles, event handlers and javascript: links."""
    return nh3.clean(
        value or "",
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def text_to_html(value: str) -> str:
    """Plain text (what most people type) as safe HTML paragraphs."""
    paragraphs = [p for p in re.split(r"\n\s*\n", (value or "").strip()) if p]
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def html_to_text(value: str) -> str:
    text = re.sub(r"<br\s*/?>|</p>|</li>|</h[34]>", "\n", value or "")
    text = nh3.clean(text, tags=set())
    return html.unescape(text).strip()
