"""HTML mail as readable text, optionally without the quoted history and signature.

`balie.text.html_to_text` keeps the source's line breaks and glues table cells together;
mail HTML needs HTML whitespace rules (a newline in the source is a space), cells kept
apart, Outlook's one-line paragraphs and, for the reply text, the quote containers of
the common clients left out. It works on the raw HTML (before sanitising), because
the class and id attributes that mark quotes do not survive the sanitiser.

The tokenizer is our own, and linear: the stdlib's HTMLParser (3.11) takes minutes on
hostile input such as a megabyte of "<!--" or "</", and mail is hostile input.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator

_HIDDEN = {"head", "style", "script", "template", "title", "xml"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
         "track", "wbr"}
_BREAK = {"div", "tr", "table", "ul", "ol", "dl", "dt", "dd", "center", "section", "article", "header",
          "footer", "address", "form", "fieldset", "figure", "main", "nav", "aside", "details", "summary",
          "caption", "tbody", "thead", "tfoot"}
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}
# Containers that hold the quoted history or a signature, by class (Outlook prefixes "x_").
_QUOTE_CLASSES = re.compile(
    r"(?:^|\s)(?:x_)?(gmail_quote|gmail_quote_container|gmail_attr|gmail_signature|yahoo_quoted|"
    r"moz-cite-prefix|moz-signature|protonmail_quote|zmail_extra|ms-outlook-mobile-reference-message|"
    r"domino-section)(?:\s|$)"
)
# Markers after which everything is history (Outlook desktop and web).
_CUT_IDS = re.compile(r"^(?:x_)?(divRplyFwdMsg|appendonsend|stopSpelling|OLK_SRC_BODY_SECTION)$", re.I)
_CUT_CLASSES = re.compile(r"(?:^|\s)(?:x_)?OutlookMessageHeader(?:\s|$)", re.I)
_SPACES = re.compile(r"[ \t\r\n\f\v\u200b]+")
_TAG_START = re.compile(r"<(/?)([a-zA-Z][^\s/>]{0,63})")
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_RAW_TEXT = {"script": re.compile(r"</script", re.I), "style": re.compile(r"</style", re.I)}
MAX_TAG = 16 * 1024

Token = tuple[str, str, dict[str, str]]  # ("start" | "end" | "data", tag name or text, attributes)


def tokens(html: str) -> Iterator[Token]:
    """Start tags, end tags and text, in one pass. Comments, doctypes and processing
    instructions are dropped; a stray "<" is text; an unclosed comment ends the document."""
    position, size = 0, len(html)
    next_close = -1  # the first ">" at or after the current "<" (cached: see below)
    while position < size:
        opening = html.find("<", position)
        if opening < 0:
            yield "data", html[position:], {}
            return
        if opening > position:
            yield "data", html[position:opening], {}
        if html.startswith("<!--", opening):
            end = html.find("-->", opening + 4)
            if end < 0:
                return
            position = end + 3
            continue
        # Every "<" before the cached ">" shares it; without the cache a megabyte of "<"
        # followed by one ">" would be searched a million times.
        if next_close < opening:
            next_close = html.find(">", opening)
            if next_close < 0:
                yield "data", html[opening:], {}
                return
        close = next_close
        if html[opening + 1:opening + 2] in ("!", "?"):
            position = close + 1
            continue
        # As in browsers, a tag runs from "<" and a letter to the next ">" (a ">" inside a
        # quoted attribute value ends it early here: rare in mail, and it keeps this linear).
        match = _TAG_START.match(html, opening, close)
        if match is None:
            yield "data", "<", {}
            position = opening + 1
            continue
        name = match.group(2).lower()
        rest = html[match.end():min(close, match.end() + MAX_TAG)]
        position = close + 1
        if match.group(1):
            yield "end", name, {}
            continue
        yield "start", name, _attributes(rest)
        if name in _RAW_TEXT and not rest.rstrip().endswith("/"):
            end_match = _RAW_TEXT[name].search(html, position)
            if end_match is None:
                return
            position = end_match.start()


def _attributes(raw: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(raw):
        name = match.group(1).lower()
        value = next((group for group in match.group(2, 3, 4) if group is not None), "")
        found.setdefault(name, html_lib.unescape(value))
    return found


class _Converter:
    def __init__(self, drop_quotes: bool) -> None:
        self.drop_quotes = drop_quotes
        self.lines: list[str] = []
        # The current line as pieces (appending to one str attribute copies it each time),
        # and what is known about it, so nothing is recomputed per piece.
        self.pieces: list[str] = []
        self.line_has_text = False
        self.line_ends_space = False
        self.pre = 0
        self.skip_tag: str | None = None
        self.skip_level = 0
        self.cut = False
        self.lists: list[int | None] = []  # None for <ul>, the next number for <ol>
        # Outlook writes each line as <p class=MsoNormal> without margins: one line break.
        self.tight_paragraph = False

    # -- structure

    def _break(self) -> None:
        if self.line_has_text:
            self.lines.append("".join(self.pieces))
        self._new_line("")

    def _new_line(self, start: str) -> None:
        self.pieces = [start] if start else []
        self.line_has_text = bool(start.strip())
        self.line_ends_space = start.endswith(" ")

    def _add(self, text: str) -> None:
        self.pieces.append(text)
        # A line of only &nbsp; is how Outlook and Apple Mail write an empty line: keep it.
        self.line_has_text = self.line_has_text or bool(text.strip(" "))
        self.line_ends_space = text.endswith(" ")

    def _paragraph(self) -> None:
        self._break()
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def _starts_skip(self, tag: str, attrs: dict[str, str]) -> bool:
        if tag in _HIDDEN:
            return True
        if "display:none" in attrs.get("style", "").replace(" ", "").lower():
            return True
        if not self.drop_quotes:
            return False
        if tag == "blockquote" and attrs.get("type", "").lower() == "cite":
            return True
        if attrs.get("data-smartmail") == "gmail_signature":
            return True
        return bool(_QUOTE_CLASSES.search(attrs.get("class", "")))

    def _cuts(self, attrs: dict[str, str]) -> bool:
        return self.drop_quotes and (
            bool(_CUT_IDS.match(attrs.get("id", ""))) or bool(_CUT_CLASSES.search(attrs.get("class", "")))
        )

    def handle_starttag(self, tag: str, attrs: dict[str, str]) -> None:
        if self.cut:
            return
        if self.skip_tag is not None:
            if tag == "body" and self.skip_tag == "head":  # an unclosed <head>
                self.skip_tag, self.skip_level = None, 0
            elif tag == self.skip_tag and tag not in _VOID:
                self.skip_level += 1
            return
        if self._cuts(attrs):
            self.cut = True
            return
        if tag not in _VOID and self._starts_skip(tag, attrs):
            self.skip_tag, self.skip_level = tag, 1
            return
        self._open(tag, attrs)

    def _open(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "br":
            self.lines.append("".join(self.pieces))
            self._new_line("")
        elif tag == "p" and "msonormal" in attrs.get("class", "").lower():
            self.tight_paragraph = True  # a <p> never holds another, so one flag does
            self._break()
        elif tag in _PARAGRAPH:
            self.tight_paragraph = self.tight_paragraph and tag != "p"
            self._paragraph()
            if tag == "pre":
                self.pre += 1
        elif tag in ("ul", "ol"):
            self._break()
            self.lists.append(None if tag == "ul" else 1)
        elif tag == "li":
            self._break()
            number = self.lists[-1] if self.lists else None
            if number is None:
                self._new_line("- ")
            else:
                self._new_line(f"{number}. ")
                self.lists[-1] = number + 1
        elif tag in ("td", "th"):
            if self.line_has_text and not self.line_ends_space:
                self._add(" ")
        elif tag == "hr" or tag in _BREAK:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if self.cut:
            return
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_level -= 1
                if self.skip_level <= 0:
                    self.skip_tag = None
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
            self._paragraph()
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._break()
        elif tag == "p" and self.tight_paragraph:
            self.tight_paragraph = False
            self._break()
        elif tag in _PARAGRAPH:
            self._paragraph()
        elif tag == "li" or tag in _BREAK:
            self._break()

    def handle_data(self, data: str) -> None:
        if self.cut or self.skip_tag is not None:
            return
        data = html_lib.unescape(data)
        if self.pre:
            pieces = data.replace("\r\n", "\n").split("\n")
            self._add(pieces[0])
            for piece in pieces[1:]:
                self.lines.append("".join(self.pieces))
                self._new_line(piece)
            return
        text = _SPACES.sub(" ", data)
        if not self.line_has_text:
            text = text.lstrip(" ")
        elif self.line_ends_space and text.startswith(" "):
            text = text[1:]
        if text:
            self._add(text)

    def result(self) -> str:
        self._break()
        lines = [line.replace("\xa0", " ").rstrip() for line in self.lines]
        text = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def html_to_text(html: str, *, drop_quotes: bool = False) -> str:
    """Readable text of an HTML body; with `drop_quotes`, without the quote containers and
    signatures the common mail clients mark in their HTML."""
    converter = _Converter(drop_quotes)
    for kind, value, attrs in tokens(html):
        if converter.cut:
            break
        if kind == "data":
            converter.handle_data(value)
        elif kind == "start":
            converter.handle_starttag(value, attrs)
        else:
            converter.handle_endtag(value)
    return converter.result().strip()
