"""Keeping the UI's translation catalogs complete (a developer tool, not used at run time).

    python -m balie.ui.catalog          # add new messages to every .po file, report gaps
    python -m balie.ui.catalog --check  # only report; exits 1 when a message lacks a translation

Messages come from the UI templates and the ui package's Python (`_()`, `gettext()`,
`ngettext()` and the `N_()` marker); the English catalog translates to itself so it is
complete too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

import balie
from balie.ui.i18n import DOMAIN, LANGUAGES, catalog_path

UI_DIR = Path(__file__).resolve().parent
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true",
                                 "trim_blocks": "true", "lstrip_blocks": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extract() -> Catalog:
    """Every message the UI shows, with where it is used."""
    template = Catalog(domain=DOMAIN, project="Balie", msgid_bugs_address="", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        UI_DIR, METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        if filename.endswith("catalog.py"):
            continue
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read(language: str) -> Catalog:
    with catalog_path(language).open("rb") as po_file:
        catalog: Catalog = read_po(po_file, locale=language, domain=DOMAIN)
    return catalog


def _translated(strings: str | tuple[str, ...] | list[str] | None) -> bool:
    if isinstance(strings, tuple | list):
        return all(strings)
    return bool(strings)


def missing(language: str, template: Catalog | None = None) -> list[str]:
    """Messages the UI uses that this language's catalog does not translate."""
    template = template or extract()
    catalog = read(language)
    gaps: list[str] = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id)
        if found is None or not _translated(found.string):
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
    return gaps


def update(language: str, template: Catalog) -> None:
    catalog = read(language)
    template.creation_date = catalog.creation_date  # no churn in the header on every run
    catalog.update(template, no_fuzzy_matching=True)
    catalog.revision_date = catalog.creation_date
    catalog.msgid_bugs_address = ""
    catalog.last_translator = catalog.language_team = "Balie"
    catalog.project, catalog.version = "Balie", balie.__version__
    if language == "en":
        for message in catalog:
            if message.id and not _translated(message.string):
                message.string = tuple(message.id) if message.pluralizable else message.id
    with catalog_path(language).open("wb") as po_file:
        write_po(po_file, catalog, width=100, sort_output=False, ignore_obsolete=True, include_lineno=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--check", action="store_true", help="only report untranslated messages")
    args = parser.parse_args(argv)
    template = extract()
    status = 0
    for language in LANGUAGES:
        if not args.check:
            update(language, template)
        gaps = missing(language, template)
        for message_id in gaps:
            print(f"{language}: untranslated: {message_id!r}")
        status = status or (1 if gaps else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
