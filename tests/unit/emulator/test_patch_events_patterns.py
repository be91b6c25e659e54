"""events_patterns: EventBridge content filtering, operator by operator, and moto's gaps."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deployer.emulator.patches import events_patterns
from deployer.emulator.patches.events_patterns import matches

events_patterns.apply()

ALARM = {
    "version": "0",
    "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
    "detail-type": "CloudWatch Alarm State Change",
    "source": "aws.cloudwatch",
    "account": "123456789012",
    "time": "2026-12-01T01:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-5xx"],
    "detail": {
        "alarmName": "api-5xx",
        "state": {"value": "ALARM", "reason": "Threshold Crossed", "timestamp": "..."},
        "previousState": {"value": "OK"},
        "configuration": {"metrics": [{"id": "m1", "metricStat": {"period": 60}}]},
    },
}

#: modules/deploy-guard/main.tf, aws_cloudwatch_event_rule.alarms.
GUARD = {
    "source": ["aws.cloudwatch"],
    "detail-type": ["CloudWatch Alarm State Change"],
    "detail": {"alarmName": ["api-5xx", "api-latency"], "state": {"value": ["ALARM"]}},
}


def with_detail(**detail: Any) -> dict[str, Any]:
    return {**ALARM, "detail": {**ALARM["detail"], **detail}}  # type: ignore[dict-item]


def test_the_deploy_guard_pattern() -> None:
    assert matches(GUARD, ALARM)
    assert matches(GUARD, with_detail(alarmName="api-latency"))
    assert not matches(GUARD, with_detail(alarmName="worker-errors"))
    assert not matches(GUARD, with_detail(state={"value": "OK"}))
    assert not matches(GUARD, {**ALARM, "source": "aws.events"})
    assert not matches(GUARD, {k: v for k, v in ALARM.items() if k != "detail-type"})


#: (pattern, event detail, matches?): each operator matching and not.
CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("exact", {"x": ["a"]}, {"x": "a"}, True),
    ("exact, case", {"x": ["a"]}, {"x": "A"}, False),
    ("exact number", {"x": [5]}, {"x": 5}, True),
    ("exact number is not its string", {"x": ["5"]}, {"x": 5}, False),
    ("null", {"x": [None]}, {"x": None}, True),
    ("null is not absence", {"x": [None]}, {}, False),
    ("empty string", {"x": [""]}, {"x": ""}, True),
    ("OR of values", {"x": ["a", "b"]}, {"x": "b"}, True),
    ("OR of values, none", {"x": ["a", "b"]}, {"x": "c"}, False),
    ("event array intersects", {"x": ["b"]}, {"x": ["a", "b"]}, True),
    ("event array disjoint", {"x": ["c"]}, {"x": ["a", "b"]}, False),
    ("nested", {"x": {"y": {"z": ["a"]}}}, {"x": {"y": {"z": "a"}}}, True),
    ("nested, other nesting", {"x": {"y": {"z": ["a"]}}}, {"x": {"z": "a"}}, False),
    ("prefix", {"x": [{"prefix": "us-"}]}, {"x": "us-east-1"}, True),
    ("prefix, no", {"x": [{"prefix": "us-"}]}, {"x": "eu-west-1"}, False),
    (
        "prefix ignore case",
        {"x": [{"prefix": {"equals-ignore-case": "EVENTB"}}]},
        {"x": "eventbridge"},
        True,
    ),
    (
        "prefix ignore case, no",
        {"x": [{"prefix": {"equals-ignore-case": "EVENTB"}}]},
        {"x": "sqs"},
        False,
    ),
    ("suffix", {"x": [{"suffix": ".png"}]}, {"x": "a.png"}, True),
    ("suffix, no", {"x": [{"suffix": ".png"}]}, {"x": "a.jpg"}, False),
    (
        "suffix ignore case",
        {"x": [{"suffix": {"equals-ignore-case": ".PNG"}}]},
        {"x": "a.png"},
        True,
    ),
    ("equals-ignore-case", {"x": [{"equals-ignore-case": "alice"}]}, {"x": "ALICE"}, True),
    ("equals-ignore-case, no", {"x": [{"equals-ignore-case": "alice"}]}, {"x": "bob"}, False),
    ("anything-but value", {"x": [{"anything-but": "init"}]}, {"x": "running"}, True),
    ("anything-but value, no", {"x": [{"anything-but": "init"}]}, {"x": "init"}, False),
    ("anything-but list", {"x": [{"anything-but": ["a", "b"]}]}, {"x": "b"}, False),
    ("anything-but number", {"x": [{"anything-but": [100]}]}, {"x": 200}, True),
    ("anything-but absent field", {"x": [{"anything-but": "init"}]}, {}, False),
    ("anything-but prefix", {"x": [{"anything-but": {"prefix": "us-"}}]}, {"x": "eu-west-1"}, True),
    (
        "anything-but prefix, no",
        {"x": [{"anything-but": {"prefix": "us-"}}]},
        {"x": "us-east-1"},
        False,
    ),
    ("anything-but suffix", {"x": [{"anything-but": {"suffix": ".png"}}]}, {"x": "a.png"}, False),
    (
        "anything-but ignore case",
        {"x": [{"anything-but": {"equals-ignore-case": "INIT"}}]},
        {"x": "init"},
        False,
    ),
    (
        "anything-but wildcard",
        {"x": [{"anything-but": {"wildcard": "*/lib/*"}}]},
        {"x": "a/b/c"},
        True,
    ),
    ("numeric range", {"x": [{"numeric": [">", 0, "<=", 5]}]}, {"x": 5}, True),
    ("numeric range, out", {"x": [{"numeric": [">", 0, "<=", 5]}]}, {"x": 5.5}, False),
    ("numeric equals", {"x": [{"numeric": ["=", 3.0e2]}]}, {"x": 300}, True),
    ("numeric on a string", {"x": [{"numeric": [">", 0]}]}, {"x": "7"}, False),
    ("exists", {"x": [{"exists": True}]}, {"x": "a"}, True),
    ("exists, absent", {"x": [{"exists": True}]}, {}, False),
    ("exists false", {"x": [{"exists": False}]}, {}, True),
    ("exists false, present", {"x": [{"exists": False}]}, {"x": "a"}, False),
    ("exists on an object is not a leaf", {"x": [{"exists": True}]}, {"x": {"y": 1}}, False),
    ("wildcard", {"x": [{"wildcard": "dir/*.png"}]}, {"x": "dir/a/b.png"}, True),
    ("wildcard, no", {"x": [{"wildcard": "dir/*.png"}]}, {"x": "dir/a.jpg"}, False),
    ("wildcard escaped star", {"x": [{"wildcard": "a\\*b"}]}, {"x": "axxb"}, False),
    ("cidr", {"x": [{"cidr": "10.0.0.0/24"}]}, {"x": "10.0.0.7"}, True),
    ("cidr, no", {"x": [{"cidr": "10.0.0.0/24"}]}, {"x": "10.0.1.7"}, False),
    ("mixed OR", {"x": ["a", {"prefix": "b"}]}, {"x": "bc"}, True),
    ("$or", {"$or": [{"x": ["a"]}, {"y": [{"numeric": [">", 1]}]}]}, {"x": "z", "y": 2}, True),
    (
        "$or, neither",
        {"$or": [{"x": ["a"]}, {"y": [{"numeric": [">", 1]}]}]},
        {"x": "z", "y": 0},
        False,
    ),
]


@pytest.mark.parametrize(
    ("pattern", "detail", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_operator(pattern: dict[str, Any], detail: dict[str, Any], expected: bool) -> None:
    event = {**ALARM, "detail": detail}
    assert patched_matches({"detail": pattern}, event) is expected
    assert matches({"detail": pattern}, event) is expected


def test_envelope_fields_match() -> None:
    assert matches({"account": ["123456789012"], "region": [{"prefix": "us-"}]}, ALARM)
    assert matches({"resources": [{"suffix": ":alarm:api-5xx"}]}, ALARM)
    assert not matches({"region": ["eu-west-1"]}, ALARM)


def moto_matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    from moto.events.models import EventPattern

    stock = EventPattern.matches_event.__wrapped__  # type: ignore[attr-defined]
    return bool(stock(EventPattern.load(json.dumps(pattern)), event))


def patched_matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    from moto.events.models import EventPattern

    return bool(EventPattern.load(json.dumps(pattern)).matches_event(event))  # type: ignore[arg-type]


#: Where moto 5.2.5 answers otherwise: (pattern, detail, AWS's answer).
GAPS: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    (
        "array of objects",
        {"configuration": {"metrics": {"id": ["m1"]}}},
        ALARM["detail"],  # type: ignore[list-item]
        True,
    ),
    ("true is not 1", {"x": [True]}, {"x": 1}, False),
    ("numeric takes no boolean", {"x": [{"numeric": [">", 0]}]}, {"x": True}, False),
    ("unknown operator", {"x": [{"contains": "a"}]}, {"x": "abc"}, False),
]


@pytest.mark.parametrize(
    ("pattern", "detail", "expected"), [g[1:] for g in GAPS], ids=[g[0] for g in GAPS]
)
def test_moto_gap(pattern: dict[str, Any], detail: dict[str, Any], expected: bool) -> None:
    event = {**ALARM, "detail": detail}
    assert patched_matches({"detail": pattern}, event) is expected
    assert moto_matches({"detail": pattern}, event) is not expected
