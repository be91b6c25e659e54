"""deployer.drift: reading a refresh-only plan into a drift report.

The end-to-end check (a change behind Terraform's back on the emulator found exactly,
a blue/green swap not reported) is in tests/integration/no_drift.py, run by the staging
case of tests/integration/test_runtime_stack.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deployer import drift

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "environments" / "stacks" / "runtime"


def test_ignore_rules_are_read_from_the_modules() -> None:
    rules = drift.ignore_rules(ROOT / "modules" / "ecs-service")
    assert rules == {
        ("aws_ecs_service", "this"): frozenset({"task_definition", "load_balancer"}),
        ("aws_lb_listener", "production"): frozenset({"default_action"}),
        ("aws_lb_listener", "test"): frozenset({"default_action"}),
    }
    # Every ignore_changes in the project is one of these (a new one is read the same way).
    everywhere = {
        key: value
        for folder in [*(ROOT / "modules").iterdir(), RUNTIME, RUNTIME.parent / "delivery"]
        if folder.is_dir()
        for key, value in drift.ignore_rules(folder).items()
    }
    text = "".join(p.read_text() for p in ROOT.glob("modules/*/*.tf"))
    assert text.count("ignore_changes") == len(everywhere) == 3


def test_a_block_parser_skips_braces_in_strings_and_comments(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_x" "a" {\n'
        '  name = "not a } brace"  # nor } this\n'
        "  lifecycle {\n    ignore_changes = [tags, spec[0].size]\n  }\n}\n"
        'resource "aws_x" "b" {\n  name = "b"\n}\n'
    )
    assert drift.ignore_rules(tmp_path) == {("aws_x", "a"): frozenset({"tags", "spec"})}


def test_call_path_drops_instance_keys() -> None:
    assert drift.call_path('module.service["api-service"]') == "service"
    assert (
        drift.call_path('module.service["a"].module.task_definition') == "service.task_definition"
    )
    assert drift.call_path("") == ""


def _plan(*drifts: dict[str, Any]) -> dict[str, Any]:
    return {
        "configuration": {
            "root_module": {
                "module_calls": {
                    "service": {"source": "../../../modules/ecs-service", "module": {}},
                }
            }
        },
        "resource_drift": list(drifts),
    }


def _item(address: str, kind: str, name: str, module: str, before: Any, after: Any,
          **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "address": address,
        "module_address": module,
        "mode": "managed",
        "type": kind,
        "name": name,
        "change": {"actions": ["update"], "before": before, "after": after, **extra},
    }


def test_attributes_left_to_codedeploy_are_not_drift() -> None:
    svc = 'module.service["api"]'
    plan = _plan(
        _item(f"{svc}.aws_ecs_service.this", "aws_ecs_service", "this", svc,
              {"task_definition": "td:1", "load_balancer": [{"tg": "blue"}], "desired_count": 2},
              {"task_definition": "td:2", "load_balancer": [{"tg": "green"}], "desired_count": 2}),
        _item(f"{svc}.aws_cloudwatch_log_group.this", "aws_cloudwatch_log_group", "this", svc,
              {"retention_in_days": 30, "tags": {"a": "1"}},
              {"retention_in_days": 7, "tags": {"a": "1"}}),
    )  # fmt: skip
    report = drift.analyse(plan, RUNTIME)
    assert [r.address for r in drift.drifted(report)] == [f"{svc}.aws_cloudwatch_log_group.this"]
    service, log_group = report
    assert service.attributes == [] and service.left_alone == ["load_balancer", "task_definition"]
    assert [a.describe() for a in log_group.attributes] == ["retention_in_days: 30 -> 7"]


def test_the_same_attribute_outside_an_ignoring_resource_is_drift() -> None:
    # desired_count is not ignored; and a task_definition change on a resource whose
    # configuration does not ignore it (another module) is drift.
    plan = _plan(
        _item("aws_ecs_service.other", "aws_ecs_service", "other", "",
              {"task_definition": "td:1", "desired_count": 2},
              {"task_definition": "td:2", "desired_count": 3}),
    )  # fmt: skip
    (resource,) = drift.drifted(drift.analyse(plan, RUNTIME))
    assert sorted(a.path for a in resource.attributes) == ["desired_count", "task_definition"]


def test_sensitive_values_are_masked_and_deleted_resources_reported() -> None:
    plan = _plan(
        _item("aws_ssm_parameter.p", "aws_ssm_parameter", "p", "",
              {"value": "old-secret", "tier": "Standard"},
              {"value": "new-secret", "tier": "Standard"},
              before_sensitive={"value": True}, after_sensitive={"value": True}),
        {**_item("aws_sqs_queue.q", "aws_sqs_queue", "q", "", {"name": "q"}, None),
         "change": {"actions": ["delete"], "before": {"name": "q"}, "after": None}},
    )  # fmt: skip
    param, queue = drift.drifted(drift.analyse(plan, RUNTIME))
    assert param.attributes[0].to_json() == {
        "attribute": "value",
        "state": drift.MASK,
        "remote": drift.MASK,
    }
    assert "secret" not in repr(param.to_json()) and "secret" not in param.attributes[0].describe()
    assert queue.action == "delete" and queue.attributes == []


def test_lists_of_equal_length_are_compared_by_index() -> None:
    found = list(drift.attribute_drift({"x": [1, 2, 3]}, {"x": [1, 5, 3]}, False, False))
    assert [(a.path, a.state, a.remote) for a in found] == [("x[1]", 2, 5)]
    found = list(drift.attribute_drift({"x": [1]}, {"x": [1, 2]}, False, False))
    assert [(a.path, a.state, a.remote) for a in found] == [("x", [1], [1, 2])]


def test_attributes_the_configuration_does_not_set_are_not_drift() -> None:
    """tags_all, a role's inline_policy managed elsewhere, null read back as {}: named, not
    counted (Terraform would not change them back)."""
    plan = _plan(
        _item("aws_iam_role.r", "aws_iam_role", "r", "",
              {"name": "r", "max_session_duration": 3600, "inline_policy": [], "tags": None},
              {"name": "r", "max_session_duration": 7200, "inline_policy": [{"name": "p"}],
               "tags": {}}),
    )  # fmt: skip
    plan["configuration"]["root_module"]["resources"] = [
        {"address": "aws_iam_role.r", "expressions": {"name": {}, "max_session_duration": {}}}
    ]
    (role,) = drift.analyse(plan, RUNTIME)
    assert [a.path for a in role.attributes] == ["max_session_duration"]
    assert role.unmanaged == ["inline_policy"]  # tags: null read back as {}, no change
    assert role.to_json()["not_in_configuration"] == ["inline_policy"]


def test_null_read_back_as_its_zero_value_is_not_a_change() -> None:
    before = {"q": [{"period": None, "label": None, "on": None, "x": 5}]}
    after = {"q": [{"period": 0, "label": "", "on": False, "x": 0}]}
    found = list(drift.attribute_drift(before, after, False, False))
    assert [(a.path, a.state, a.remote) for a in found] == [("q[0].x", 5, 0)]
