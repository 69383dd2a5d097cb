"""Conformance: every real mail of the shared corpus parses, and Zammad's expectations hold.

Zammad's .yml files give the From address, Subject and body its parser produces. Zammad
keeps quoted history in the body, so the body is compared with our `full_text`; an HTML
body is compared by its text (whitespace normalised on both sides). Print the figures:

    .venv/bin/pytest tests/channels/email/test_email_corpus.py -q -s
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from email_samples import CORPUS

from balie import htmltext
from balie.channels.email import classify
from balie.channels.email.parse import ParsedMail, parse

MAILS = sorted(
    path for path in CORPUS.glob("*/*") if path.suffix in (".box", ".eml")
) if CORPUS.is_dir() else []
FIELDS = ("from", "subject", "body")

# Where we differ from Zammad's expectation on purpose, and why.
KNOWN_DIFFERENCES = {
    ("mail026", "body"): "the HTML part's only text is its <title>, which Zammad shows and we do not",
    ("mail071", "from"): "'power quadrant system@example.com' is quoted as the RFC requires; Zammad keeps it bare",
    ("mail072", "body"): "Zammad reads windows-1258 as ISO-8859-2 ('ŕ', 'aoűt'); we read 'à', 'août'",
    ("mail076", "from"): "Zammad keeps the stray '>' of the malformed From in the address",
}


class _RubyTolerantLoader(yaml.SafeLoader):
    """Zammad's files are Ruby YAML (!ruby/hash:..., !binary): read the tagged nodes as plain ones."""


def _plain_node(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_RubyTolerantLoader.add_multi_constructor("!", _plain_node)


def _normalise(value: str) -> str:
    return " ".join(value.split())


def _expected_body(expectation: dict[str, Any]) -> str:
    body = str(expectation["body"])
    if body == "no visible content":
        return ""
    html = expectation.get("content_type") == "text/html" or (
        not expectation.get("content_type") and re.search(r"<(p|div|br|span|table)\b", body)
    )
    return htmltext.html_to_text(body) if html else body


def compare(parsed: ParsedMail, expectation: dict[str, Any]) -> dict[str, tuple[bool, str, str]]:
    """field -> (matched, ours, expected), for the fields the expectation asserts."""
    results: dict[str, tuple[bool, str, str]] = {}
    if "from_email" in expectation or "from" in expectation:
        expected = str(expectation.get("from_email") or expectation.get("from")).lower()
        results["from"] = (parsed.from_address == expected, parsed.from_address, expected)
    if "subject" in expectation:
        expected = _normalise(str(expectation["subject"]))
        results["subject"] = (parsed.subject == expected, parsed.subject, expected)
    if "body" in expectation:
        ours, expected = _normalise(parsed.full_text), _normalise(_expected_body(expectation))
        results["body"] = (ours == expected, ours, expected)
    return results


def _expectations() -> list[tuple[str, ParsedMail, dict[str, Any]]]:
    found = []
    for path in MAILS:
        yml = path.with_suffix(".yml")
        if path.suffix == ".box" and yml.exists():
            expectation = yaml.load(yml.read_text(encoding="utf-8"), Loader=_RubyTolerantLoader)
            found.append((path.stem, parse(path.read_bytes()), expectation))
    return found


needs_corpus = pytest.mark.skipif(not MAILS, reason=f"mail corpus not found at {CORPUS} (set BALIE_MAIL_CORPUS)")


@needs_corpus
@pytest.mark.parametrize("path", MAILS, ids=[f"{path.parent.name}/{path.name}" for path in MAILS])
def test_corpus_mail_parses_and_is_not_silently_empty(path: Path) -> None:
    parsed = parse(path.read_bytes())
    assert not parsed.unparsable, parsed.reason
    assert parsed.message_id.startswith("<") and parsed.message_id.endswith(">")
    if not (parsed.full_text.strip() or parsed.html or parsed.attachments):
        # Only a mail that really has nothing to show may be empty, and it says so.
        assert "no body content" in parsed.defects
        yml = path.with_suffix(".yml")
        assert yml.exists() and "no visible content" in yml.read_text(encoding="utf-8")
    if parsed.full_text.strip():
        assert parsed.text.strip(), "quote stripping may never leave an empty text"
    classify.bounce(parsed)
    classify.is_auto_reply(parsed)


@needs_corpus
def test_zammad_expectations_are_met() -> None:
    matched: Counter[str] = Counter()
    asserted: Counter[str] = Counter()
    unexpected = []
    for name, parsed, expectation in _expectations():
        for field, (ok, ours, expected) in compare(parsed, expectation).items():
            asserted[field] += 1
            matched[field] += ok
            if not ok:
                known = KNOWN_DIFFERENCES.get((name, field))
                print(f"  {name} {field}: {'known: ' + known if known else 'UNEXPECTED'}")
                if not known:
                    unexpected.append(f"{name} {field}: ours {ours[:120]!r} expected {expected[:120]!r}")
    total_matched, total = sum(matched.values()), sum(asserted.values())
    mails = len(MAILS)
    print(f"\n{mails} corpus mails parsed without error ({len(_expectations())} with Zammad expectations)")
    for field in FIELDS:
        print(f"  {field:8} {matched[field]:3}/{asserted[field]:3} matched")
    print(f"  {'all':8} {total_matched:3}/{total:3} matched ({100 * total_matched / total:.1f} %)")
    # Every difference is one we chose and explained above; anything else is a regression.
    assert not unexpected, "\n".join(unexpected)
    assert total_matched >= total - len(KNOWN_DIFFERENCES)


def test_comparison_reads_html_and_empty_bodies() -> None:
    parsed = parse(b"From: a@example.com\nSubject: x\nContent-Type: text/html\n\n<p>Hallo <b>daar</b></p>")
    results = compare(parsed, {"from": "A@example.com", "subject": " x ", "body": "<div>Hallo daar</div>",
                               "content_type": "text/html"})
    assert all(ok for ok, _, _ in results.values())
    assert not compare(parsed, {"body": "no visible content"})["body"][0]
