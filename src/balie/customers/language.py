"""Is a customer writing Dutch or English? Counted from the little words of each language.

Why not a library: Balie only has to tell Dutch from English, and mostly in short texts
("Waar blijft mijn pakket?"). The general detectors on PyPI (langdetect, langid, lingua)
carry models for a hundred languages, are unsure exactly on such short texts, and answer
with a third language (Afrikaans, Frisian, German) that Balie then has to map back. Two
lists of function words are enough for two languages, cost nothing, and say why.
"""

from __future__ import annotations

import re

LANGUAGES = ("nl", "en")
MAX_CHARS = 4000  # the start of a long mail says enough (and quoted history comes later)
# Fewer hits than this, or a lead smaller than this, is too little to go on: the caller
# keeps what it knew before.
MIN_HITS = 2
MIN_LEAD = 2



def _listed(words: str) -> frozenset[str]:
    return frozenset(words.split())


_WORDS = {
    "nl": _listed("""
        de het een en van ik je jij u uw jullie we wij mijn ons onze is zijn was waren ben bent heb hebt heeft
        hebben had niet wel geen nog al ook maar dan dat die dit deze daar hier er wat wie waar waarom wanneer
        hoe met voor naar bij uit over om op aan tot door zo graag alstublieft alsjeblieft bedankt dank hallo
        hoi goedemorgen goedemiddag groet groeten vriendelijke mvg kan kunt kunnen wil wilt willen zou zouden
        moet moeten mag krijg krijgen gekregen ontvangen besteld bestelling pakket levering geleverd nog steeds
        nu even al alvast heel erg veel weer toch mee zelf iets niets alles
    """),
    "en": _listed("""
        the a an and of i you your we our us my is are was were be been am have has had not no yet also but
        then that this these those there here what who where why when how with for to at from about on by
        so please thanks thank hello hi dear regards kind best can could would should will want need must may
        get got received ordered order package parcel delivery delivered still now just already very much
        again it its do does did don't didn't haven't hasn't
    """),
}
_TOKEN = re.compile(r"[a-z']+")


def detect(text: str) -> str | None:
    """"nl", "en", or None when the text is too short or too mixed to tell."""
    tokens = _TOKEN.findall(text[:MAX_CHARS].casefold().replace("’", "'"))
    scores = {language: sum(token in words for token in tokens) for language, words in _WORDS.items()}
    (best, top), (_, second) = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    if top < MIN_HITS or top - second < MIN_LEAD:
        return None
    return best


def of_customer(known: str, shop_language: str) -> str:
    """The language to write to a customer in: theirs when known, else the shop's, else Dutch."""
    for language in (known, shop_language):
        if language in LANGUAGES:
            return language
    return "nl"
