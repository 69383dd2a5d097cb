"""Is this message praise or thanks? Dutch and English, by rule.

Why rules and not a model: the texts are short, the two languages are known, and a shop must
be able to see why a message was counted (an agent can always correct the tag). What counts
is a message whose point is thanks or praise ("Super snel geleverd, dank jullie wel!"), not
politeness around a request or a complaint ("Alvast bedankt", "Thanks, but it still hasn't
arrived"): such a message gets the SLA of the complaint it is.

The rule: at least one praise or thanks phrase, and no sign that something is wanted: no
complaint or problem word, no request, no question mark after the thanks.
"""

from __future__ import annotations

import re
import unicodedata

# Thanks and praise. Whole words; a phrase may stand anywhere.
_PRAISE = [
    # Dutch
    r"bedankt", r"dank (?:je|u|jullie)(?: wel)?", r"dankjewel", r"dankuwel", r"hartelijk dank", r"veel dank",
    r"top", r"super", r"geweldig", r"fantastisch", r"prima service", r"goede service", r"uitstekend",
    r"heel blij", r"erg blij", r"zo blij", r"tevreden", r"complimenten?", r"(?:echt |heel |erg )?fijn",
    r"snel geleverd", r"snelle levering", r"keurig", r"perfect", r"chapeau", r"klasse", r"toppers?",
    r"aanrader", r"een pluim", r"petje af", r"mooi(?:e)? product",
    # English
    r"thanks?", r"thank you(?: so much| very much)?", r"many thanks", r"cheers", r"great", r"awesome",
    r"excellent", r"amazing", r"fantastic", r"wonderful", r"love (?:it|them|the)", r"happy with",
    r"pleased", r"well done", r"kudos", r"appreciate(?:d)?", r"fast delivery", r"quick delivery",
    r"perfect", r"brilliant", r"compliments?", r"great service", r"highly recommend",
]

# Politeness that goes with a request: thanks that do not make a message praise.
_POLITE_REQUEST = [
    r"alvast bedankt", r"bij voorbaat dank", r"alvast dank", r"dank (?:je|u) (?:alvast|bij voorbaat)",
    r"thanks? in advance", r"thank you in advance", r"thanks for (?:your|the) (?:help|reply) in advance",
]

# Something is wrong or wanted.
_PROBLEM = [
    # Dutch
    r"niet (?:ontvangen|aangekomen|geleverd|gekregen|werkt|goed|blij|tevreden|correct)", r"nog (?:steeds|altijd) niet",
    r"waar blijft", r"wanneer (?:komt|krijg|wordt)", r"kapot", r"beschadigd", r"defect", r"klacht", r"probleem",
    r"retour", r"terugbetaling", r"geld terug", r"annuleren", r"annulering", r"verkeerde?", r"ontbreekt",
    r"mist", r"teleurgesteld", r"slecht", r"helaas", r"jammer", r"maar", r"kunnen jullie", r"kun je", r"kunt u",
    r"graag (?:zou|wil)", r"ik wil", r"zou ik", r"help", r"vraag",
    # English
    r"not (?:received|arrived|delivered|working|happy|pleased|what)", r"still (?:not|hasn't|haven't|waiting)",
    r"hasn't", r"haven't", r"didn't", r"doesn't", r"won't", r"where is", r"when will", r"broken", r"damaged",
    r"defective", r"complaint", r"problem", r"issue", r"return", r"refund", r"cancel", r"wrong", r"missing",
    r"disappointed", r"terrible", r"awful", r"bad", r"unfortunately", r"but", r"however", r"could you",
    r"can you", r"please", r"i want", r"i would like", r"question",
]


def _words(phrases: list[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])(?:" + "|".join(phrases) + r")(?![\w])")


_PRAISE_RE = _words(_PRAISE)
_POLITE_RE = _words(_POLITE_REQUEST)
_PROBLEM_RE = _words(_PROBLEM)
MAX_CHARS = 2000  # praise is short; a long message is about something else


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.replace("’", "'")


def is_compliment(text: str) -> bool:
    """True when the message's point is praise or thanks."""
    text = _normal(text[:MAX_CHARS + 1]).strip()
    if not text or len(text) > MAX_CHARS:
        return False
    if "?" in text or _POLITE_RE.search(text) or _PROBLEM_RE.search(text):
        return False
    return _PRAISE_RE.search(text) is not None


def why(text: str) -> str | None:
    """The phrase that made it praise (what the agent sees beside the tag), or None."""
    if not is_compliment(text):
        return None
    found = _PRAISE_RE.search(_normal(text))
    return found.group(0) if found else None
