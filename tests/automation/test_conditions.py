"""Automation rule conditions: checked when saved with the bad part named, evaluated against
an event's facts with the reason kept, hostile patterns stopped, loops cut off."""

from __future__ import annotations

from typing import Any

import pytest

from balie.automation.conditions import (
    MAX_CHAIN,
    Facts,
    check_trigger,
    matches,
    may_fire,
    parse_conditions,
)
from balie.errors import Invalid

MAIL = Facts(channel="email", priority="normal", status="open", language="nl", tags=frozenset({"Retour"}),
             customer_tags=frozenset({"vip"}), text="Waar blijft mijn bestelling 12345?", open_now=False,
             minutes_since_reply=90.0)


def check(*conditions: dict[str, Any], facts: Facts = MAIL) -> bool:
    return matches(parse_conditions(list(conditions)), facts)[0]


def test_each_field_decides() -> None:
    assert check({"field": "channel", "op": "in", "value": ["email", "chat"]})
    assert not check({"field": "channel", "op": "not_in", "value": ["email"]})
    assert check({"field": "priority", "op": "in", "value": ["Normal"]})  # case does not matter
    assert check({"field": "tags", "op": "any", "value": ["retour", "klacht"]})
    assert check({"field": "customer_tags", "op": "none", "value": ["blocked"]})
    assert check({"field": "text", "op": "contains", "value": "WAAR BLIJFT"})
    assert check({"field": "text", "op": "matches", "value": r"bestelling\s+\d{5}"})
    assert check({"field": "open_now", "op": "is", "value": False})
    assert check({"field": "minutes_since_reply", "op": "at_least", "value": 60})
    assert not check({"field": "minutes_since_reply", "op": "at_most", "value": 60})
    assert not check({"field": "minutes_since_reply", "op": "at_least", "value": 1},
                     facts=Facts(channel="chat", priority="normal", status="open"))  # no reply yet
    assert check({"field": "compliment", "op": "is", "value": False})


def test_all_conditions_must_hold_and_the_log_says_which_did_not() -> None:
    conditions = parse_conditions([{"field": "channel", "op": "in", "value": ["email"]},
                                   {"field": "language", "op": "in", "value": ["en"]}])
    assert matches(conditions, MAIL) == (False, "language in en: no")
    assert matches((), MAIL) == (True, "no conditions")


@pytest.mark.parametrize(("raw", "named"), [
    ([{"field": "colour", "op": "in", "value": ["red"]}], "unknown field 'colour'"),
    ([{"field": "channel", "op": "contains", "value": "mail"}], "channel takes in or not_in"),
    ([{"field": "channel", "op": "in", "value": []}], "needs a list"),
    ([{"field": "channel", "op": "in", "value": "email"}], "needs a list"),
    ([{"field": "text", "op": "matches", "value": "(unclosed"}], "pattern cannot be read"),
    ([{"field": "text", "op": "matches", "value": "a" * 201}], "1 to 200"),
    ([{"field": "open_now", "op": "is", "value": "yes"}], "true or false"),
    ([{"field": "minutes_since_reply", "op": "at_least", "value": -1}], "number of minutes"),
    ([{"field": "minutes_since_reply", "op": "at_least", "value": True}], "number of minutes"),
    ([{"field": "channel", "op": "in", "value": ["email"], "extra": 1}], "condition 1"),
    ([{"field": "channel", "op": "in", "value": ["email"]}, "nonsense"], "condition 2"),
    ("not a list", "a list of at most"),
    ([{"field": "channel", "op": "in", "value": ["email"]}] * 21, "a list of at most 20"),
    ([{"field": "customer_tags", "op": "any", "value": ["vip\x07"]}], "condition 1: tag contains a control"),
])
def test_a_bad_rule_is_refused_naming_the_part(raw: Any, named: str) -> None:
    with pytest.raises(Invalid) as problem:
        parse_conditions(raw)
    assert named in problem.value.detail and problem.value.code == "invalid_conditions"


def test_tags_in_a_condition_are_spelled_as_tags_are_stored() -> None:
    """An agent's "Grote Klant" is stored as grote-klant: the admin's "Grote Klant" must find it."""
    tagged = Facts(channel="email", priority="normal", status="open", tags=frozenset({"grote-klant"}),
                   customer_tags=frozenset({"wederverkoper"}))
    assert check({"field": "tags", "op": "any", "value": [" Grote  Klant "]}, facts=tagged)
    assert check({"field": "customer_tags", "op": "any", "value": ["WederVerkoper"]}, facts=tagged)
    assert not check({"field": "customer_tags", "op": "none", "value": ["wederverkoper"]}, facts=tagged)


def test_a_pattern_that_would_run_for_ever_counts_as_no_match() -> None:
    hostile = parse_conditions([{"field": "text", "op": "matches", "value": "(x+x+)+y"}])
    facts = Facts(channel="email", priority="normal", status="open", text="x" * 5000)
    assert matches(hostile, facts)[0] is False


def test_unknown_triggers_are_refused() -> None:
    assert check_trigger("sla_breached") == "sla_breached"
    with pytest.raises(Invalid) as problem:
        check_trigger("moon_phase")
    assert problem.value.code == "invalid_trigger"


def test_a_rule_never_fires_on_an_event_its_own_action_caused() -> None:
    assert may_fire(7, MAIL)
    caused_by_seven = Facts(channel="email", priority="normal", status="open", chain=(3, 7))
    assert not may_fire(7, caused_by_seven)  # 7 tagged, the tag triggered 3, 3 triggered 7 again
    assert may_fire(8, caused_by_seven)
    long_chain = Facts(channel="email", priority="normal", status="open", chain=tuple(range(MAX_CHAIN)))
    assert not may_fire(99, long_chain)
