"""The plan gate and workspace naming/backend settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployer import gate
from deployer.aws import AWS, LOCAL, ClientFactory, Target
from deployer.config import load
from deployer.errors import UsageError
from deployer.scope import Scope
from deployer.workspaces import Workspace, backend_settings, render_backend_file

ROOT = Path(__file__).resolve().parents[2]
NO_CLIENTS = ClientFactory(Target(AWS))  # never called: these tests make no AWS call


def plan_with(*changes: tuple[str, str, list[str]]) -> list[gate.Change]:
    return [gate.Change(a, t, tuple(actions)) for a, t, actions in changes]


def test_a_deleted_bucket_is_refused() -> None:
    plan = plan_with(
        ("module.artifacts.aws_s3_bucket.this", "aws_s3_bucket", ["delete"]),
        ("aws_iam_role.x", "aws_iam_role", ["delete"]),
    )
    refused = gate.refused(plan, [])
    assert [(c.address, c.verb) for c in refused] == [
        ("module.artifacts.aws_s3_bucket.this", "delete")
    ]


def test_a_replaced_kms_key_is_refused_and_can_be_allowed_by_address() -> None:
    plan = plan_with(("aws_kms_key.main", "aws_kms_key", ["delete", "create"]))
    (change,) = gate.refused(plan, [])
    assert change.verb == "replace"
    assert gate.refused(plan, ["aws_kms_key.main"]) == []


def test_a_replaced_hosted_zone_is_refused() -> None:
    # Made again, a zone has other name servers: the parent's delegation would break.
    plan = plan_with(
        ('module.dns_zone["prod"].aws_route53_zone.this', "aws_route53_zone", ["create", "delete"]),
        ("aws_route53_record.x", "aws_route53_record", ["delete"]),
    )
    assert [c.type for c in gate.refused(plan, [])] == ["aws_route53_zone"]


def test_creates_and_updates_of_stateful_resources_pass() -> None:
    plan = plan_with(
        ("aws_ecr_repository.api", "aws_ecr_repository", ["create"]),
        ("aws_cloudwatch_log_group.x", "aws_cloudwatch_log_group", ["update"]),
    )
    assert gate.refused(plan, []) == []


def test_workspace_name_data_dir_and_state_key() -> None:
    cfg = load(ROOT)
    target = Target(AWS)
    prod = cfg.environment("prod")
    (east, west) = (s.workspace for s in Scope.resolve(cfg, prod, None, target, NO_CLIENTS))
    assert (east.name, west.name) == ("prod-us-east-1", "prod-us-west-2")
    assert east.state_key() == "workspaces/prod-us-east-1/runtime.tfstate"
    only = Scope.resolve(cfg, prod, ["us-west-2"], target, NO_CLIENTS)
    assert [s.workspace.name for s in only] == ["prod-us-west-2"]


def test_a_region_the_environment_does_not_have_is_a_usage_error() -> None:
    cfg = load(ROOT)
    with pytest.raises(UsageError) as info:
        Scope.resolve(cfg, cfg.environment("staging"), ["us-west-2"], Target(AWS), NO_CLIENTS)
    assert info.value.message == (
        "environment staging has no region us-west-2 (configured: us-east-1)"
    )
    assert info.value.hint == "see environments/staging.yaml"


def test_backend_uses_lockfile_in_the_delivery_account() -> None:
    cfg = load(ROOT)
    ws = Workspace("runtime", "staging", "us-east-1")
    aws = backend_settings(cfg, Target(AWS), ws)
    assert aws["use_lockfile"] is True and aws["encrypt"] is True
    assert aws["bucket"] == "acme-shop-delivery-tfstate"
    assert aws["assume_role"]["role_arn"] == (
        "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"
    )
    assert "use_path_style" not in aws  # emulator-only settings stay off on AWS
    local = backend_settings(cfg, Target(LOCAL, "http://127.0.0.1:1"), ws)
    assert local["use_path_style"] is True
    text = render_backend_file(local)
    assert "use_lockfile = true" in text
    assert 'assume_role = { role_arn = "arn:aws:iam::111111111111:role/' in text


def test_emulator_target_never_passes_real_credentials() -> None:
    env = Target(LOCAL, "http://127.0.0.1:9").environ(
        {"AWS_PROFILE": "prod-admin", "AWS_SECRET_ACCESS_KEY": "real", "TF_WORKSPACE": "x"}
    )
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert env["AWS_SECRET_ACCESS_KEY"] == "test"
    assert "AWS_PROFILE" not in env and "TF_WORKSPACE" not in env
    provider = Target(LOCAL, "http://127.0.0.1:9").provider_settings()
    assert 2 <= provider["max_retries"] <= 3
    assert "skip_requesting_account_id" not in provider


def test_gate_reads_the_changes_terraform_streams_while_planning() -> None:
    """The orchestrator builds the gate's input from `plan -json` messages."""
    from deployer.orchestrator import Orchestrator, RegionRun
    from deployer.output import Reporter

    cfg = load(ROOT)
    run = RegionRun(Scope(cfg, cfg.environment("prod"), "us-east-1", Target(AWS), NO_CLIENTS))
    orch = Orchestrator.__new__(Orchestrator)
    orch.reporter = Reporter(verbosity=-1)
    messages = [
        {"type": "planned_change", "change": {"action": "replace", "resource": {
            "addr": "module.parameters.aws_kms_key.this", "resource_type": "aws_kms_key"}}},
        {"type": "planned_change", "change": {"action": "delete", "resource": {
            "addr": "module.service[\"api-service\"].aws_cloudwatch_log_group.this",
            "resource_type": "aws_cloudwatch_log_group"}}},
        {"type": "planned_change", "change": {"action": "create", "resource": {
            "addr": "aws_ecr_repository.x", "resource_type": "aws_ecr_repository"}}},
        {"type": "change_summary", "changes": {"add": 2, "change": 0, "remove": 2}},
    ]  # fmt: skip
    for msg in messages:
        orch._plan_progress(run.workspace, msg, run)
    refused = gate.refused(run.changes, [])
    assert [(c.address, c.verb) for c in refused] == [
        ("module.parameters.aws_kms_key.this", "replace"),
        ('module.service["api-service"].aws_cloudwatch_log_group.this', "delete"),
    ]
    assert run.summary == {"add": 2, "change": 0, "destroy": 2}
