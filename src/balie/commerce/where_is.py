"""Does a customer ask where their order is? "Waar blijft mijn bestelling?", "is mijn pakket al
verzonden?", "where is my order", "has my order shipped", "I still haven't received my parcel".

Phrases, not a model: the automatic acknowledgement tells the order's status only on a clear
question, and a list of phrasings says exactly when that is. A return, a cancellation or a
question about a product is not asking where the order is."""

from __future__ import annotations

import re

MAX_CHARS = 2000  # the question is at the start; quoted history comes later

_THING_NL = r"(?:bestelling|bestellingen|pakket(?:je)?|pakketten|order|levering|zending|spullen|artikel(?:en)?)"
_THING_EN = r"(?:order|orders|package|parcel|delivery|shipment|items?|stuff|purchase)"
_MY_NL = r"(?:mijn|m'n|onze|de|het|ons)"
_MY_EN = r"(?:my|our|the)"

_PHRASES = [
    # Dutch
    rf"\bwaar\s+(?:blijft|blijven|is|zijn|zit|zitten)\s+(?:{_MY_NL}\s+)?(?:\w+\s+){{0,2}}{_THING_NL}\b",
    rf"\bwanneer\s+(?:komt|komen|krijg\s+ik|ontvang\s+ik|wordt|worden|word)\s+(?:ik\s+)?{_MY_NL}\s+"
    rf"(?:\w+\s+)?{_THING_NL}",
    rf"\b(?:is|zijn|wordt)\s+{_MY_NL}\s+(?:\w+\s+)?{_THING_NL}\s+(?:al\s+|nou\s+|nu\s+)?"
    r"(?:verzonden|verstuurd|onderweg|opgestuurd|vertrokken)",
    rf"\b{_MY_NL}\s+(?:\w+\s+)?{_THING_NL}\s+(?:is|zijn)\s+(?:\w+\s+){{0,2}}(?:nog\s+)?(?:steeds\s+)?"
    r"(?:niet|nooit)\s+(?:\w+\s+)?(?:aangekomen|ontvangen|bezorgd|geleverd|binnen|gekomen|verzonden)",
    r"\b(?:nog\s+)?(?:steeds\s+)?(?:niet|niets|geen\s+pakket)\s+(?:\w+\s+)?(?:ontvangen|binnen|bezorgd|geleverd)"
    rf".{{0,40}}\b{_THING_NL}|\b{_THING_NL}\b.{{0,40}}\b(?:nog\s+)?(?:steeds\s+)?(?:niet|nooit)\s+"
    r"(?:\w+\s+)?(?:ontvangen|binnen|aangekomen|bezorgd|geleverd)",
    rf"\b(?:status|stand\s+van\s+zaken)\s+van\s+{_MY_NL}\s+{_THING_NL}",
    r"\btrack\s*(?:&|en|and)\s*trace\b",
    # English
    rf"\bwhere(?:'s|\s+is|\s+are)\s+(?:{_MY_EN}\s+)?(?:\w+\s+){{0,2}}{_THING_EN}\b",
    rf"\bwhen\s+(?:will|does|do|is|can\s+i\s+expect)\s+{_MY_EN}\s+(?:\w+\s+)?{_THING_EN}\s*"
    r"(?:arrive|come|be\s+delivered|ship|be\s+shipped|get\s+here|going\s+to)?",
    rf"\b(?:has|have|did|is)\s+{_MY_EN}\s+(?:\w+\s+)?{_THING_EN}\s+(?:already\s+|been\s+|yet\s+)*"
    r"(?:shipped|sent|dispatched|left|on\s+its\s+way)",
    rf"\b(?:haven't|have\s+not|hasn't|has\s+not|didn't|did\s+not|not\s+yet|still\s+not|never)\s+"
    rf"(?:\w+\s+)?(?:received|arrived|got|gotten|been\s+delivered|come)\b.{{0,30}}"
    rf"|\b{_MY_EN}\s+(?:\w+\s+)?{_THING_EN}\s+(?:still\s+)?(?:hasn't|has\s+not|didn't|did\s+not|never)\s+"
    r"(?:\w+\s+)?(?:arrived|come|been\s+delivered|shown\s+up)",
    rf"\b(?:status\s+of\s+{_MY_EN}\s+{_THING_EN}|{_THING_EN}\s+status|track\s+{_MY_EN}\s+{_THING_EN})\b",
]
_ASKS = re.compile("|".join(f"(?:{phrase})" for phrase in _PHRASES), re.IGNORECASE | re.DOTALL)
# The "not received" phrasing needs an order word nearby in English too.
_ORDER_WORD = re.compile(rf"\b(?:{_THING_NL}|{_THING_EN}|track\s*(?:&|en|and)\s*trace)\b", re.IGNORECASE)


def asks_where(text: str) -> bool:
    """True when the text asks where an order or parcel is, or when it comes."""
    sample = " ".join(text[:MAX_CHARS].replace("’", "'").split())
    match = _ASKS.search(sample)
    return match is not None and _ORDER_WORD.search(sample) is not None
