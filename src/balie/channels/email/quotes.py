"""What the customer wrote this time: the quoted history, signature and mobile footer removed.

Works on plain text (the text/plain part, or HTML already turned into text without its
quote containers, see `htmltext`). Recognises the quote headers of the common clients
in Dutch, English, German and French: Gmail and Thunderbird attributions ("Op … schreef
…:", "On … wrote:", "Am … schrieb …:"), Apple Mail ("Op … heeft … het volgende
geschreven:"), Outlook header blocks ("Van: … Verzonden: …"), "-----Original Message-----"
separators and their translations, forwarded-message markers and '>'-quoted lines.
Signatures go only at a standard delimiter ("-- ") or a mobile footer ("Sent from my
iPhone"); a closing like "Met vriendelijke groet" stays, it is part of the message.
"""

from __future__ import annotations

import re

# Lines longer than this are prose, not a quote header (and keep the patterns cheap).
_MAX_HEADER_LINE = 400

_ATTRIBUTIONS = [
    re.compile(r"^On\b.{3,300}\bwrote\s*:$", re.I),
    re.compile(r"^Op\b.{3,300}\b(?:schreef|geschreven)\b.{0,200}:$", re.I),
    re.compile(r"^Am\b.{3,300}\bschrieb\b.{0,200}:$", re.I),
    re.compile(r"^Le\b.{3,300}\ba\s+écrit\s*:$", re.I),
    re.compile(r"^\d{4}-\d{2}-\d{2} \d{1,2}:\d{2} GMT[+-]\d{2}:\d{2} .{1,200}:$"),  # old Gmail
    re.compile(r"^.{1,250}\bschreef\s+op\b.{3,100}:$", re.I),  # "Jan Jansen schreef op 3-1-2026 10:12:"
]
# "X wrote:" with no date: only a quote header when a '>' block follows.
_LOOSE_ATTRIBUTION = re.compile(r"^.{1,250}\b(?:wrote|schreef|schrieb|a\s+écrit)\s*:$", re.I)

_SEPARATOR = re.compile(
    r"^[\s>]*-{2,}\s*(?:original message|oorspronkelijk bericht|origineel bericht|ursprüngliche nachricht|"
    r"originalnachricht|message d'origine|forwarded message|doorgestuurd bericht|"
    r"weitergeleitete nachricht|message transféré|reply message)\s*-{2,}\s*$",
    re.I,
)
_FORWARD = re.compile(
    r"^(?:begin forwarded message|begin doorgestuurd bericht|anfang der weitergeleiteten nachricht|"
    r"début du message réexpédié)\s*:\s*$",
    re.I,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FROM = re.compile(r"^\s*\*?(?:from|van|von|de)\s*:\*?\s*\S", re.I)
_HEADER_DATE = re.compile(r"^\s*\*?(?:sent|date|verzonden|datum|gesendet|envoyé|verstuurd)\s*:", re.I)
_HEADER_OTHER = re.compile(r"^\s*\*?(?:to|cc|subject|aan|onderwerp|an|betreff|à|objet)\s*:", re.I)

_SIGNATURE_DELIMITER = re.compile(r"^-- ?$")
_MOBILE_FOOTER = re.compile(
    r"^(?:"
    r"(?:verstuurd|verzonden|gestuurd)\s+(?:vanaf|vanuit|met|via|van)\s+(?:mijn|de|een)\s+.{1,60}"
    r"|sent\s+(?:from|via|with|using)\s+.{1,60}"
    r"|von\s+meinem\s+.{1,60}\s+gesendet"
    r"|gesendet\s+(?:von|vom|mit|via)\s+.{1,60}"
    r"|envoyé\s+(?:de|depuis)\s+(?:mon|ma)\s+.{1,60}"
    r"|get\s+outlook\s+for\s+\w+"
    r"|outlook\s+voor\s+\w+\s+downloaden"
    r"|download\s+outlook\s+for\s+\w+"
    r")\s*[.!]?$",
    re.I,
)


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _attribution(lines: list[str], index: int) -> tuple[int, bool]:
    """(lines the attribution spans, whether it is certain without a '>' block); (0, _) if none.
    Clients wrap a long attribution over two or three lines."""
    parts: list[str] = []
    for span in range(1, 4):
        if index + span > len(lines):
            break
        piece = lines[index + span - 1].strip()
        if not piece or len(piece) > _MAX_HEADER_LINE:
            break
        parts.append(piece)
        candidate = " ".join(parts)
        if not candidate.endswith(":"):
            continue
        if re.search(r"\d", candidate) and any(pattern.match(candidate) for pattern in _ATTRIBUTIONS):
            return span, True
        if _LOOSE_ATTRIBUTION.match(candidate):
            return span, False
    return 0, False


def _outlook_header(lines: list[str], index: int) -> bool:
    """A "From:/Van:/Von:" line followed by the Sent/Date/To/Subject fields of a header block."""
    if index >= len(lines) or not _HEADER_FROM.match(lines[index]) or len(lines[index]) > _MAX_HEADER_LINE:
        return False
    dates = others = 0
    for line in lines[index + 1:index + 8]:
        if _HEADER_DATE.match(line):
            dates += 1
        elif _HEADER_OTHER.match(line):
            others += 1
    return dates >= 1 or others >= 2


def _next_content(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def strip_quotes(text: str) -> str:
    """The text without quoted history, signature and mobile footer (may be empty)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        span, certain = _attribution(lines, index)
        if span:
            following = _next_content(lines, index + span)
            if following < len(lines) and _quoted(lines[following]):
                index = _skip_quote_block(lines, following)
                continue
            if certain:
                break
        if _SEPARATOR.match(line) or _FORWARD.match(line) or _outlook_header(lines, index):
            break
        if _UNDERSCORES.match(line) and _outlook_header(lines, _next_content(lines, index + 1)):
            break
        if _SIGNATURE_DELIMITER.match(line):
            break
        if not _quoted(line):
            kept.append(line)
        index += 1
    return _tidy(_drop_footer(kept))


def _skip_quote_block(lines: list[str], index: int) -> int:
    """The index after a '>' block (blank lines inside it belong to it)."""
    while index < len(lines):
        if _quoted(lines[index]):
            index += 1
            continue
        following = _next_content(lines, index)
        if following < len(lines) and _quoted(lines[following]):
            index = following
            continue
        break
    return index


def _drop_footer(lines: list[str]) -> list[str]:
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    while end and len(lines[end - 1]) <= 100 and _MOBILE_FOOTER.match(lines[end - 1].strip()):
        end -= 1
        while end and not lines[end - 1].strip():
            end -= 1
    return lines[:end]


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def reply_text(source: str, full_text: str) -> str:
    """The new part of the message; the full text when stripping would leave nothing."""
    stripped = strip_quotes(source)
    return stripped if stripped else full_text.strip()
