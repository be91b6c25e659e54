"""`deployer deployments`: a service's CodeDeploy history, read as AWS answers it (Stubber).

Each deployment's task definition comes from its revision's AppSpec (content,
String or an S3 object; YAML or JSON), its images from DescribeTaskDefinition
(deregistered and deleted ones say so), and the deployment that deployed what
the service's PRIMARY task set runs is marked current.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from deploy_guard import statuses

from deployer import cli, deployments
from deployer.cli.common import Context
from deployer.errors import EXIT_OK, EXIT_USAGE, DeployerError, UsageError
from tests.unit._deployments_stubs import (
    ROOT,
    Stubs,
    content_revision,
    image,
    info,
    s3_revision,
    string_revision,
    td,
)


@pytest.fixture
def stubs() -> Stubs:
    return Stubs()


def history_of_four(stubs: Stubs) -> None:
    """d-1 (TD1, now deregistered), d-2 (TD2 from S3), d-3 (TD3, failed and rolled back by
    d-4), d-4 (the rollback, back on TD2). ListDeployments answers in no particular order,
    in two pages."""
    stubs.history(
        info("d-3", 30, statuses.FAILED, content_revision(td(3), as_json=True),
             errorInformation={"code": "HEALTH_CONSTRAINTS", "message": "green unhealthy"},
             rollbackInfo={"rollbackDeploymentId": "d-4", "rollbackMessage": "rolled back"}),
        info("d-1", 10, revision=content_revision(td(1))),
        info("d-4", 40, revision=string_revision(td(2)), creator="codeDeployRollback",
             rollbackInfo={"rollbackTriggeringDeploymentId": "d-3"}),
        info("d-2", 20, revision=s3_revision("api/appspec-2.yaml")),
        pages=2,
    )  # fmt: skip


def test_lists_newest_first_with_task_definitions_images_outcomes_and_the_current(
    stubs: Stubs,
) -> None:
    stubs.group(running=td(2))
    history_of_four(stubs)
    # Resolved newest first: d-4 (String) is the current one; then d-3, d-2 (S3), d-1.
    stubs.task_definition(2)
    stubs.task_definition(3)
    stubs.s3_appspec("api/appspec-2.yaml", _pipeline_yaml(td(2)))
    stubs.task_definition(1, status="INACTIVE")

    found = deployments.history(stubs.scope(), "api-service")

    stubs.assert_done()  # TD2 was described once for d-4 and d-2
    assert [d.id for d in found.deployments] == ["d-4", "d-3", "d-2", "d-1"]
    assert found.current is not None and found.current.id == "d-4"
    assert [d.current for d in found.deployments] == [True, False, False, False]
    assert [d.task_definition for d in found.deployments] == [td(2), td(3), td(2), td(1)]
    assert found.deployments[2].images == (image(2),)
    assert [d.outcome for d in found.deployments] == [
        "Succeeded, rollback of d-3",
        "Failed (HEALTH_CONSTRAINTS), rolled back by d-4",
        "Succeeded",
        "Succeeded",
    ]
    document = found.to_json()
    assert document["running_task_definition"] == td(2)
    assert document["current_deployment"] == "d-4"
    first, _, _, last = document["deployments"]
    assert first["creator"] == "codeDeployRollback"
    assert first["created"] == "2026-11-30T09:40:00Z"
    assert first["revision_type"] == "String"
    assert last["task_definition_status"] == "INACTIVE"
    assert last["images"] == [image(1)]
    assert document["deployments"][1]["error"] == {
        "code": "HEALTH_CONSTRAINTS",
        "message": "green unhealthy",
    }
    text = found.to_text()
    assert "runs acme-shop-staging-api-service:2, deployed by d-4 (marked *)" in text
    assert "acme-shop-staging-api-service:1 (deregistered)" in text
    (row,) = [line for line in text.splitlines() if line.startswith("*")]
    assert row.split()[1] == "d-4" and row.endswith(" api-service:1.2.0")


def _pipeline_yaml(task_definition: str) -> str:
    from tests.unit._deployments_stubs import appspec_yaml

    return appspec_yaml(task_definition)


def test_limit_resolves_only_what_it_shows(stubs: Stubs) -> None:
    stubs.group(running=td(2))
    history_of_four(stubs)
    stubs.task_definition(2)  # d-4: the current one, and the only one shown
    found = deployments.history(stubs.scope(), "api-service", limit=1)
    stubs.assert_done()  # no S3 read, no other DescribeTaskDefinition
    assert [d.id for d in found.deployments] == ["d-4"]
    assert found.total == 4
    assert "(1 of 4 shown)" in found.to_text()


def test_a_deleted_task_definition_and_an_unreadable_revision_say_so(stubs: Stubs) -> None:
    stubs.group(running=td(9))
    stubs.history(
        info("d-2", 20, revision={"revisionType": "GitHub", "gitHubLocation": {}}),
        info("d-1", 10, revision=content_revision(td(1))),
    )
    stubs.deleted_task_definition(1)

    found = deployments.history(stubs.scope(), "api-service")

    stubs.assert_done()
    newest, oldest = found.deployments
    assert newest.task_definition is None
    assert newest.describe_task_definition() == (
        "unknown (its revision is of type GitHub, which names no AppSpec)"
    )
    assert oldest.task_definition_status == deployments.DELETED
    assert oldest.images == ()
    assert oldest.describe_task_definition() == "acme-shop-staging-api-service:1 (deleted)"
    assert found.current is None
    assert "runs acme-shop-staging-api-service:9, which no deployment of the group deployed" in (
        found.to_text()
    )


def test_batches_of_25(stubs: Stubs) -> None:
    stubs.group(running=None)
    # 30 deployments: BatchGetDeployments with 25 IDs, then 5 (each stub checks its IDs).
    stubs.history(*(info(f"d-{n:02d}", n, statuses.STOPPED) for n in range(30)))
    found = deployments.history(stubs.scope(), "api-service", limit=0)
    stubs.assert_done()
    assert found.total == 30
    assert found.deployments == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_pipeline_yaml(td(5)), td(5)),
        (json.dumps({"Resources": [{"svc": {"Type": "AWS::ECS::Service",
                                            "Properties": {"TaskDefinition": td(6)}}}]}), td(6)),
    ],
)  # fmt: skip
def test_task_definition_of_reads_yaml_and_json_appspecs(text: str, expected: str) -> None:
    assert deployments.task_definition_of(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Resources: [", "neither YAML nor JSON"),
        ("version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n", "no AWS::ECS"),
    ],
)
def test_task_definition_of_says_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        deployments.task_definition_of(text)


def test_an_unknown_service_is_a_usage_error(stubs: Stubs) -> None:
    with pytest.raises(UsageError, match="unknown microservice 'nope'"):
        deployments.history(stubs.scope(), "nope")


def test_a_missing_deployment_group_says_to_apply(stubs: Stubs) -> None:
    stubs["codedeploy"].add_client_error(
        "get_deployment_group", service_error_code="DeploymentGroupDoesNotExistException"
    )
    with pytest.raises(DeployerError) as info_:
        deployments.history(stubs.scope(), "api-service")
    assert "no deployment group acme-shop-staging-api-service" in str(info_.value)
    assert info_.value.hint == "apply the environment first: deployer apply staging"


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------
@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stubs: Stubs) -> Path:
    shutil.copytree(
        ROOT / "environments", tmp_path / "environments", ignore=shutil.ignore_patterns("stacks")
    )
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("DEPLOYER_STATE_DIR", str(tmp_path / ".deployer"))
    monkeypatch.setattr(Context, "clients", property(lambda _ctx: stubs))
    return tmp_path


def test_command_prints_one_json_document(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    stubs.group(running=td(2))
    history_of_four(stubs)
    stubs.task_definition(2)
    stubs.task_definition(3)
    code = cli.main(
        ["--target", "aws", "--json", "deployments", "staging", "--service", "api-service",
         "--limit", "2"]
    )  # fmt: skip
    assert code == EXIT_OK
    document = json.loads(capsys.readouterr().out)
    assert [d["deployment_id"] for d in document["deployments"]] == ["d-4", "d-3"]
    assert document["deployments"][0]["current"] is True


def test_command_refuses_a_region_the_environment_lacks(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        ["--target", "aws", "deployments", "staging", "--service", "api-service",
         "--region", "eu-west-1"]
    )  # fmt: skip
    assert code == EXIT_USAGE
    assert "eu-west-1" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["deployments", "rollback"])
def test_help_answers_with_examples(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and f"deployer {command} staging --service api-service" in out
    assert "--service S" in out and "--region R" in out
