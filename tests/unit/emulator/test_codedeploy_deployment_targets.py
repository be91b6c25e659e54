"""codedeploy_deployment_targets: an ECS deployment's target, as the engine records it.

In a separate interpreter (the patches must not leak into this one's moto; ``_isolated``
runs the script once per test session, in the interpreter of its group): moto
in-process, with every fidelity patch or none, a blue/green ECS service and a
deployment to it (tests/unit/emulator/_helpers.py builds them as the other CodeDeploy
tests do), and the ``deployer_ecs_target`` set on moto's DeploymentInfo by hand, as
the CodeDeploy ECS engine sets it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ._helpers import appspec, blue_green, error_code, status
from ._isolated import output, script
from .conftest import Server

SCRIPT = r"""
import json, sys
from botocore.exceptions import ClientError
if sys.argv[1] == "patched":
    from deployer.emulator import patches
    patches.apply_all()
import boto3
from moto import mock_aws
from moto.codedeploy.models import codedeploy_backends
from tests.unit.emulator._helpers import appspec, blue_green
HOOK_ARN = "arn:aws:lambda:us-east-1:123456789012:function:deploy-guard"

class Local:
    def client(self, service):
        return boto3.client(service, region_name="us-east-1")

def call(method, **kwargs):
    try:
        answer = method(**kwargs)
    except ClientError as exc:
        return {"error": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"],
                "http": exc.response["ResponseMetadata"]["HTTPStatusCode"]}
    except NotImplementedError as exc:  # in-process moto's answer to an unknown action
        return {"not_implemented": str(exc)}
    if isinstance(answer, dict):
        answer.pop("ResponseMetadata", None)
    return answer

out = {}
with mock_aws():
    setup = blue_green(Local())
    codedeploy = boto3.client("codedeploy", region_name="us-east-1")
    deployment_id = codedeploy.create_deployment(
        applicationName=setup.application, deploymentGroupName=setup.group,
        revision=appspec(setup.task_definition, HOOK_ARN))["deploymentId"]
    deployment = codedeploy_backends["123456789012"]["us-east-1"].deployments[deployment_id]
    target_id = f"{setup.cluster}:{setup.service}"
    out["deployment_id"], out["target_id"] = deployment_id, target_id
    overview = lambda: codedeploy.get_deployment(deploymentId=deployment_id)[
        "deploymentInfo"]["deploymentOverview"]
    batch_overview = lambda: codedeploy.batch_get_deployments(deploymentIds=[deployment_id])[
        "deploymentsInfo"][0]["deploymentOverview"]
    get = lambda tid=target_id, did=deployment_id: call(
        codedeploy.get_deployment_target, deploymentId=did, targetId=tid)
    lst = lambda **kw: call(codedeploy.list_deployment_targets, deploymentId=deployment_id, **kw)
    batch = lambda ids, did=deployment_id: call(
        codedeploy.batch_get_deployment_targets, deploymentId=did, targetIds=ids)

    # Not started: the engine has recorded no target yet.
    out["before"] = {"list": lst(), "get": get(), "batch": batch([target_id]),
                     "overview": overview()}

    # The engine has begun and not yet laid the deployment out: no targetId recorded.
    deployment.deployer_ecs_target = {
        "deploymentId": deployment_id, "targetId": "", "status": "InProgress",
        "lastUpdatedAt": 1764560000.0, "taskSetsInfo": [],
        "lifecycleEvents": [{"lifecycleEventName": "BeforeInstall", "status": "Pending"}]}
    out["begun"] = {"list": lst(), "get": get()}

    # The engine starts the deployment on the service: blue serves, green is coming up.
    deployment.deployer_ecs_target = {
        "deploymentId": deployment_id, "targetId": target_id,
        "targetArn": f"arn:aws:ecs:us-east-1:123456789012:service/{setup.cluster}/{setup.service}",
        "lastUpdatedAt": 1764560001.25, "status": "InProgress",
        "lifecycleEvents": [
            {"lifecycleEventName": "BeforeInstall", "status": "Succeeded",
             "startTime": 1764560000.5, "endTime": 1764560001.25},
            {"lifecycleEventName": "Install", "status": "InProgress",
             "startTime": 1764560001.25},
            {"lifecycleEventName": "AfterAllowTestTraffic", "status": "Pending"},
        ],
        "taskSetsInfo": [
            {"identifer": "ecs-svc/1111", "desiredCount": 2, "pendingCount": 0,
             "runningCount": 2, "status": "PRIMARY", "trafficWeight": 100.0,
             "targetGroup": {"name": "tg-blue"}, "taskSetLabel": "Blue"},
        ],
    }
    out["started"] = {
        "list": lst(),
        "in_progress": lst(targetFilters={"TargetStatus": ["InProgress", "Ready"]}),
        "succeeded": lst(targetFilters={"TargetStatus": ["Succeeded"]}),
        "blue": lst(targetFilters={"ServerInstanceLabel": ["Blue"]}),
        "green": lst(targetFilters={"ServerInstanceLabel": ["Green"]}),
        "both": lst(targetFilters={"TargetStatus": ["InProgress"],
                                   "ServerInstanceLabel": ["Green"]}),
        "pages": call(lambda: [page["targetIds"] for page in codedeploy.get_paginator(
            "list_deployment_targets").paginate(deploymentId=deployment_id)]),
        "get": get(), "batch": batch([target_id]),
        "overview": overview(), "batch_overview": batch_overview(),
    }
    out["errors"] = {
        "list_bad_filter": lst(targetFilters={"InstanceType": ["Blue"]}),
        "list_bad_status": lst(targetFilters={"TargetStatus": ["Done"]}),
        "list_bad_label": lst(targetFilters={"ServerInstanceLabel": ["Purple"]}),
        "list_token": lst(nextToken="abc"),
        "list_no_deployment": call(codedeploy.list_deployment_targets, deploymentId=""),
        "get_no_target": get(""),
        "get_bad_target": get(setup.service),
        "get_other_service": get(f"{setup.cluster}:another-service"),
        "get_no_deployment": get(did=""),
        "get_bad_deployment": get(did="not-an-id"),
        "get_unknown_deployment": get(did="d-AAAAAAAAA"),
        "batch_none": batch([]),
        "batch_two": batch([target_id, target_id]),
        "batch_bad_target": batch([setup.service]),
        "batch_other_service": batch([f"{setup.cluster}:another-service"]),
        "batch_unknown_deployment": batch([target_id], did="d-AAAAAAAAA"),
    }

    # The engine shifts the traffic to green and the deployment succeeds: the same
    # dict, mutated in place.
    target = deployment.deployer_ecs_target
    target["taskSetsInfo"].append(
        {"identifer": "ecs-svc/2222", "desiredCount": 2, "pendingCount": 0, "runningCount": 2,
         "status": "ACTIVE", "trafficWeight": 100.0, "targetGroup": {"name": "tg-green"},
         "taskSetLabel": "Green"})
    target["taskSetsInfo"][0]["trafficWeight"] = 0.0
    target["status"], target["lastUpdatedAt"] = "Succeeded", 1764560100.0
    out["succeeded"] = {
        "get": get(), "green": lst(targetFilters={"ServerInstanceLabel": ["Green"]}),
        "succeeded": lst(targetFilters={"TargetStatus": ["Succeeded"]}),
        "overview": overview(),
    }
print(json.dumps(out, default=lambda value: {"datetime": value.timestamp()}))
"""


NAME = "codedeploy_deployment_targets"
for _which in ("patched", "stock"):
    script(_which, NAME, SCRIPT, _which)

Run = Callable[[str], dict[str, Any]]


@pytest.fixture
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``run(which)``: what the script printed with every patch or none."""

    def get(which: str) -> dict[str, Any]:
        printed = output(tmp_path_factory, which, NAME)
        return dict(json.loads(printed.strip().splitlines()[-1]))

    return get


ZEROS = {"Pending": 0, "InProgress": 0, "Succeeded": 0, "Failed": 0, "Skipped": 0, "Ready": 0}


def when(epoch: float) -> dict[str, float]:
    """A timestamp as botocore parsed it: a datetime (here its epoch seconds)."""
    return {"datetime": epoch}


def error(answer: dict[str, Any]) -> str:
    assert answer.get("http") == 400, answer
    return str(answer["error"])


def test_without_a_target_the_deployment_has_not_started(run: Run) -> None:
    out = run("patched")
    before = out["before"]
    for call in ("list", "get", "batch"):
        assert error(before[call]) == "DeploymentNotStartedException", call
        assert out["deployment_id"] in before[call]["message"]
    assert before["overview"] == ZEROS


def test_a_target_without_its_id_yet_is_the_deployment_groups_service(run: Run) -> None:
    out = run("patched")
    begun, target_id = out["begun"], out["target_id"]
    assert begun["list"] == {"targetIds": [target_id]}
    ecs = begun["get"]["deploymentTarget"]["ecsTarget"]
    assert (ecs["targetId"], ecs["status"]) == (target_id, "InProgress")
    assert ecs["lifecycleEvents"] == [{"lifecycleEventName": "BeforeInstall", "status": "Pending"}]


def test_the_target_the_engine_records_is_listed_and_answered(run: Run) -> None:
    out = run("patched")
    started, target_id = out["started"], out["target_id"]
    assert started["list"] == {"targetIds": [target_id]}
    assert started["pages"] == [[target_id]]
    assert started["in_progress"]["targetIds"] == [target_id]
    assert started["succeeded"]["targetIds"] == []
    assert started["blue"]["targetIds"] == [target_id]
    assert started["green"]["targetIds"] == []  # no green task set yet
    assert started["both"]["targetIds"] == []  # filters are ANDed
    assert "nextToken" not in started["list"]

    target = started["get"]["deploymentTarget"]
    assert target["deploymentTargetType"] == "ECSTarget"
    ecs = target["ecsTarget"]
    assert (ecs["deploymentId"], ecs["targetId"], ecs["status"]) == (
        out["deployment_id"],
        target_id,
        "InProgress",
    )
    assert ecs["targetArn"].endswith(":service/" + target_id.replace(":", "/"))
    # Epoch seconds go out as JSON numbers of a timestamp shape: botocore makes datetimes.
    assert ecs["lastUpdatedAt"] == when(1764560001.25)
    assert ecs["lifecycleEvents"] == [
        {
            "lifecycleEventName": "BeforeInstall",
            "status": "Succeeded",
            "startTime": when(1764560000.5),
            "endTime": when(1764560001.25),
        },
        {"lifecycleEventName": "Install", "status": "InProgress", "startTime": when(1764560001.25)},
        {"lifecycleEventName": "AfterAllowTestTraffic", "status": "Pending"},
    ]
    assert ecs["taskSetsInfo"] == [
        {
            "identifer": "ecs-svc/1111",
            "desiredCount": 2,
            "pendingCount": 0,
            "runningCount": 2,
            "status": "PRIMARY",
            "trafficWeight": 100.0,
            "targetGroup": {"name": "tg-blue"},
            "taskSetLabel": "Blue",
        }
    ]
    assert started["batch"] == {"deploymentTargets": [target]}
    # One target, in progress: GetDeployment and BatchGetDeployments count it.
    assert started["overview"] == {**ZEROS, "InProgress": 1}
    assert started["batch_overview"] == started["overview"]


def test_the_answers_follow_the_engine(run: Run) -> None:
    out = run("patched")
    succeeded, target_id = out["succeeded"], out["target_id"]
    ecs = succeeded["get"]["deploymentTarget"]["ecsTarget"]
    assert (ecs["status"], ecs["lastUpdatedAt"]) == ("Succeeded", when(1764560100.0))
    weights = {t["taskSetLabel"]: t["trafficWeight"] for t in ecs["taskSetsInfo"]}
    assert weights == {"Blue": 0.0, "Green": 100.0}
    assert succeeded["green"]["targetIds"] == [target_id]
    assert succeeded["succeeded"]["targetIds"] == [target_id]
    assert succeeded["overview"] == {**ZEROS, "Succeeded": 1}


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ("list_bad_filter", "InvalidTargetFilterNameException"),
        ("list_bad_status", "InvalidInstanceStatusException"),
        ("list_bad_label", "InvalidInstanceTypeException"),
        ("list_token", "InvalidNextTokenException"),
        ("list_no_deployment", "DeploymentIdRequiredException"),
        ("get_no_target", "DeploymentTargetIdRequiredException"),
        ("get_bad_target", "InvalidDeploymentTargetIdException"),
        ("get_other_service", "DeploymentTargetDoesNotExistException"),
        ("get_no_deployment", "DeploymentIdRequiredException"),
        ("get_bad_deployment", "InvalidDeploymentIdException"),
        ("get_unknown_deployment", "DeploymentDoesNotExistException"),
        ("batch_none", "DeploymentTargetIdRequiredException"),
        ("batch_two", "DeploymentTargetListSizeExceededException"),
        ("batch_bad_target", "InvalidDeploymentTargetIdException"),
        ("batch_other_service", "DeploymentTargetDoesNotExistException"),
        ("batch_unknown_deployment", "DeploymentDoesNotExistException"),
    ],
)
def test_errors(run: Run, call: str, code: str) -> None:
    assert error(run("patched")["errors"][call]) == code


def test_an_ecs_target_id_names_cluster_and_service_as_aws_says(run: Run) -> None:
    errors = run("patched")["errors"]
    service = run("patched")["target_id"].split(":")[1]
    assert errors["get_bad_target"]["message"] == (
        f"Invalid id {service} for ECS deployment, valid Id should be in format "
        "<cluster-name>:<service-name>"
    )
    assert errors["get_bad_deployment"]["message"].endswith(": not-an-id")


def test_stock_moto_has_no_deployment_targets(run: Run) -> None:
    out = run("stock")
    for stage in ("before", "started"):
        for call in ("list", "get", "batch"):
            assert "has not been implemented" in out[stage][call]["not_implemented"], (stage, call)
    assert out["succeeded"]["overview"] == ZEROS


def test_the_emulator_serves_the_actions(patched: Server) -> None:
    # Server mode routes the new actions (a deployment the engine has not started).
    setup = blue_green(patched)
    codedeploy = patched.client("codedeploy")
    deployment_id = codedeploy.create_deployment(
        applicationName=setup.application,
        deploymentGroupName=setup.group,
        revision=appspec(setup.task_definition, "arn:aws:lambda:us-east-1:123456789012:function:f"),
    )["deploymentId"]
    with pytest.raises(ClientError) as excinfo:
        codedeploy.list_deployment_targets(deploymentId=deployment_id)
    assert (error_code(excinfo), status(excinfo)) == ("DeploymentNotStartedException", 400)
