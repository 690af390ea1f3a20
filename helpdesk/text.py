"""Text as people type it: normalised for search, sanitised for display.

Persian and Arabic keyboards produce different code points for the same letters
(ی/ي, ک/ك), people join or split words with ZWNJ or a space, and digits come in three
scripts. Search folds all of that on both sides -- the indexed document and the query --
so a ticket is found whichever keyboard typed it.
"""

from __future__ import annotations

import html
import re

import nh3

# One home for the Persian/Arabic folding, shared with the knowledge base's search
# (imports point helpdesk -> kb_pages): a ticket and an article are found the same way.
from kb_pages.text import ZWNJ, normalise, tokenize


def query_tokens(text: str) -> list[str]:
    """Tokens of a search box: ZWNJ joins (typed with or without it, it means one word)."""
    return list(dict.fromkeys(tokenize(normalise(text).replace(ZWNJ, ""))))


# --- names ---------------------------------------------------------------------------


def name_key(text: str) -> str:
    """``text`` folded for comparing names (an organisation's, typed into a filter) as
    search folds it -- Persian/Arabic letters, digits, diacritics, case -- with ZWNJ and
    spaces dropped: people join or split the words of a name with either, or neither."""
    return "".join(normalise(text).replace(ZWNJ, "").split())


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
