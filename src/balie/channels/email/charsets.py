"""Bytes to text for mail: the declared charset when it works, sensible fallbacks when it does not.

Mail lies about its charset all the time (GBK labelled gb2312, UTF-8 labelled us-ascii,
cp1252 labelled iso-8859-1). The stdlib codecs are enough for every charset we meet;
what they lack is this list of mislabels and the order of fallbacks, so no detector
library is needed: UTF-8 is self-validating, and the single-byte charsets accept anything.
"""

from __future__ import annotations

import codecs
import re

# Labels mail clients use for a charset that a larger Python codec decodes correctly
# (the superset is what the sender's software really produced).
_SUPERSETS: dict[str, tuple[str, ...]] = {
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "x-gbk": ("gb18030",),
    "cp936": ("gb18030",),
    "euc-cn": ("gb18030",),
    "csgb2312": ("gb18030",),
    "chinese": ("gb18030",),
    "ks_c_5601-1987": ("cp949",),
    "ks_c_5601": ("cp949",),
    "ksc5601": ("cp949",),
    "ksc_5601": ("cp949",),
    "euc-kr": ("cp949",),
    "korean": ("cp949",),
    "shift_jis": ("cp932",),
    "shift-jis": ("cp932",),
    "sjis": ("cp932",),
    "x-sjis": ("cp932",),
    "windows-31j": ("cp932",),
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_2004"),
    "euc-jp": ("euc_jp", "euc_jis_2004"),
    "big5": ("big5hkscs", "cp950"),
    "x-big5": ("big5hkscs", "cp950"),
    "tis-620": ("cp874",),
    "windows-874": ("cp874",),
    "iso-8859-11": ("cp874",),
    "iso-8859-8-i": ("iso8859_8",),
    "iso-8859-6-i": ("iso8859_6",),
    "iso-8859-1": ("cp1252",),
    "latin1": ("cp1252",),
    "latin-1": ("cp1252",),
    "iso_8859-1": ("cp1252",),
    "iso-8859-9": ("cp1254",),
    "unicode-1-1-utf-7": ("utf-7",),
    "utf8": ("utf-8",),
    "cp-850": ("cp850",),
    "ansi_x3.4-1968": ("cp1252",),
}

# Labels that name no charset at all: decode with the fallbacks.
_MEANINGLESS = {
    "", "x-unknown", "unknown", "unknown-8bit", "x-user-defined", "default", "charset",
    "none", "8bit", "binary", "us-ascii-unknown",
}

# Text codecs Python knows but that are not charsets of mail text, or do odd things.
_REFUSED = {"undefined", "unicode_escape", "raw_unicode_escape", "idna", "punycode", "mbcs", "oem"}

# Charsets whose bytes are often really UTF-8 (a misconfigured server or client); UTF-8 is
# checked first for these, since real Latin-1 text almost never happens to be valid UTF-8.
_WEAK = re.compile(r"^(us-ascii|ascii|iso-8859-\d+|iso8859_\d+|latin-?\d|cp125\d|windows-125\d)$")

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]{1,40})""", re.I)
_SURROGATES = re.compile("[\udc80-\udcff]+")
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
_LONE_HIGH_BYTE = re.compile(rb"(?<![\x80-\xff])[\x80-\xff](?![\x80-\xff])")

FALLBACK = "cp1252"


def normalise_label(label: str | None) -> str:
    """A charset label as declared, lower-cased and stripped of quotes and junk."""
    if not label:
        return ""
    cleaned = label.strip().strip("\"'").strip().lower()
    # Seen in the wild: "charset=2Dutf-8" (a QP-encoded hyphen) and "utf-8;".
    cleaned = re.sub(r"^(3d|2d)+(?=[a-z])", "", cleaned).rstrip(";,")
    return cleaned


def codecs_for(label: str | None) -> tuple[str, ...]:
    """The Python codecs to try, strictly, for a declared label (empty when it names none)."""
    cleaned = normalise_label(label)
    if cleaned in _MEANINGLESS:
        return ()
    if cleaned in _SUPERSETS:
        return _SUPERSETS[cleaned]
    try:
        info = codecs.lookup(cleaned)
    except (LookupError, ValueError):
        return ()
    if info.name in _REFUSED or not getattr(info, "_is_text_encoding", True):
        return ()
    if info.name in ("gb2312", "gbk"):
        return ("gb18030",)
    if info.name in ("latin_1", "ascii"):
        # ASCII is a subset of cp1252, and 8-bit bytes under an ASCII label are cp1252 far
        # more often than anything else (after UTF-8, which is tried first for weak labels).
        return ("cp1252",)
    return (info.name,)


def python_codec(label: str | None) -> str | None:
    """The one codec a label maps to, for encoded words in headers; None when unknown."""
    found = codecs_for(label)
    return found[0] if found else None


_SEVEN_BIT_CODECS = ("iso2022", "utf_7", "utf-7", "utf_16", "utf-16", "utf_32", "utf-32")


def decode(data: bytes, declared: str | None, *, fallback: str = FALLBACK) -> tuple[str, bool]:
    """Text from bytes, never raising. The flag says the declared charset did not fit
    (unknown, or wrong for these bytes) and a fallback was used.

    Order: UTF-8 first when the label is a weak one (ASCII, Latin-*, cp125x); then the
    declared charset (or its superset); then UTF-8; then the declared charset with
    replacement characters for the few bytes it cannot read; then cp1252, then Latin-1.
    A good detector (chardet) would guess more mislabels right but also guess wrong on
    short texts; the order above is predictable, and the stdlib has every codec.
    """
    candidates = codecs_for(declared)
    if not data:
        return "", False
    # ASCII reads the same in every charset we accept, except the 7-bit escape encodings.
    if data.isascii() and not any(name.startswith(_SEVEN_BIT_CODECS) for name in candidates):
        return data.decode("ascii"), False
    weak = bool(candidates) and bool(_WEAK.match(normalise_label(declared)))
    for name in ("utf-8", *candidates) if weak else candidates:
        try:
            return data.decode(name), name not in candidates
        except (UnicodeError, LookupError, ValueError):
            continue
    try:
        return data.decode("utf-8"), bool(candidates) or normalise_label(declared) not in _MEANINGLESS
    except UnicodeError:
        pass
    # Labelled UTF-8 but not valid: a stray bad byte in UTF-8 text (replace it), or text in
    # a legacy charset with the wrong label (no UTF-8 sequence in it: use the fallback).
    if candidates and (candidates[0] != "utf-8" or _UTF8_SEQUENCE.search(data)):
        try:
            return data.decode(candidates[0], errors="replace"), True
        except (LookupError, ValueError):
            pass
    try:
        return data.decode(fallback), True
    except (UnicodeError, LookupError):
        return data.decode("latin-1"), True


def sniff_html(data: bytes) -> str | None:
    """The charset an HTML document names in a <meta> tag (only looked at when MIME names none)."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def repair(value: str, hint: str | None = None) -> str:
    """Undo the stdlib's surrogate escapes (raw 8-bit bytes it could not decode) in a string."""
    if not _SURROGATES.search(value):
        return value

    def fix(match: re.Match[str]) -> str:
        raw = match.group(0).encode("utf-8", "surrogateescape")
        return decode(raw, hint)[0]

    # Decode the whole value at once when it round-trips, so multi-byte sequences split
    # between ASCII runs (GBK's second byte can be ASCII) stay together.
    try:
        whole = value.encode("utf-8", "surrogateescape")
    except UnicodeError:
        return _SURROGATES.sub(fix, value)
    if not codecs_for(hint) or _WEAK.match(normalise_label(hint)):
        chinese = _as_double_byte(whole)
        if chinese is not None:
            return chinese
    return decode(whole, hint)[0]


def _as_double_byte(data: bytes) -> str | None:
    """Raw 8-bit header text that is GBK (the usual case in the wild) rather than Latin-1:
    not UTF-8, every high byte paired with another, and words with high bytes made mostly
    of them. Latin text has lone accented letters among ASCII ones, so it does not pass."""
    try:
        data.decode("utf-8")
        return None
    except UnicodeError:
        pass
    words = [word for word in data.split() if not word.isascii()]
    high = sum(1 for word in words for byte in word if byte >= 0x80)
    if high < 4 or high < 0.5 * sum(len(word) for word in words) or _LONE_HIGH_BYTE.search(data):
        return None
    try:
        return data.decode("gb18030")
    except UnicodeError:
        return None
