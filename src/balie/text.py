"""Customer-supplied text and HTML: sanitised before it is stored, readable as plain text."""

from __future__ import annotations

import html as html_lib
import re

import nh3

from balie import htmltext

# Links open in a new tab without telling the target where they came from.
_LINK_REL = "noopener noreferrer nofollow"


def sanitise_html(raw: str) -> str | None:
    """Only harmless markup survives: no script, no event handlers, no javascript: URLs.
    None when the HTML is too costly to clean (see html_too_costly): keep its text instead."""
    if html_too_costly(raw):
        return None
    return nh3.clean(raw, link_rel=_LINK_REL, url_schemes={"http", "https", "mailto", "tel", "cid"})


MAX_HTML = 1024 * 1024
MAX_HTML_REFERENCES = 20_000
MAX_HTML_DEPTH = 500
_BLOCK_TAG = re.compile(
    r"<(/?)(?:div|blockquote|section|ul|ol|center|article|dl|aside|nav|main|header|footer|fieldset|"
    r"details|figure|figcaption|pre|address|summary|menu|dir|hgroup)\b",
    re.I,
)


def html_too_costly(html: str) -> str | None:
    """Why cleaning this HTML would take far too long (nh3 slows down sharply on deep nesting
    and masses of entities), or None."""
    if len(html) > MAX_HTML:
        return f"larger than {MAX_HTML // 1024} KiB"
    if html.count("&") + html.count("\xa0") > MAX_HTML_REFERENCES:
        return f"more than {MAX_HTML_REFERENCES} character references"
    depth = deepest = 0
    for match in _BLOCK_TAG.finditer(html):
        depth = max(0, depth - 1) if match.group(1) else depth + 1
        deepest = max(deepest, depth)
        if deepest > MAX_HTML_DEPTH:
            return f"block elements nested more than {MAX_HTML_DEPTH} deep"
    return None



def html_to_text(raw: str) -> str:
    """Readable text from HTML, in linear time (see balie.htmltext for why not HTMLParser)."""
    return htmltext.html_to_text(raw)


def text_to_html(text: str) -> str:
    return "<p>" + html_lib.escape(text).replace("\n", "<br>") + "</p>"


def preview(text: str, length: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"
