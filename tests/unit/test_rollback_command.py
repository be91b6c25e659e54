"""`deployer rollback`: the target it chooses, every refusal, and following the deployment.

AWS is stubbed (botocore Stubber): a stub answers each call the command may
make, in order, and checks its request; a refusal test stubs no CreateDeployment,
so a rollback that was refused yet created a deployment fails on the spot.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from deploy_guard import statuses

from deployer import cli, deployments
from deployer.cli.common import Context
from deployer.errors import EXIT_FAILURE, EXIT_OK
from tests.unit._deployments_stubs import (
    APPLICATION,
    CLUSTER,
    GROUP,
    GUARD,
    ROOT,
    Stubs,
    content_revision,
    info,
    td,
)

NEW = "d-NEW000001"


@pytest.fixture
def stubs() -> Stubs:
    return Stubs()


def typical_history(stubs: Stubs, running: int = 3) -> None:
    """d-1 TD1 ok; d-2 TD2 ok but deregistered since; d-3 failed; d-4 and d-5 both TD3 (d-5 a
    redeploy of it, the current one). The service runs TD``running``."""
    stubs.group(running=td(running))
    stubs.unfinished()
    stubs.history(
        info("d-5", 50, revision=content_revision(td(3))),
        info("d-4", 40, revision=content_revision(td(3))),
        info("d-3", 30, statuses.FAILED, content_revision(td(9)),
             errorInformation={"code": "HEALTH_CONSTRAINTS", "message": "unhealthy"}),
        info("d-2", 20, revision=content_revision(td(2))),
        info("d-1", 10, revision=content_revision(td(1))),
    )  # fmt: skip


def capture_create(stubs: Stubs) -> list[dict[str, Any]]:
    """The parameters of each CreateDeployment call, as the command passed them."""
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(params)

    stubs.clients["codedeploy"].meta.events.register(
        "provide-client-params.codedeploy.CreateDeployment", record
    )
    return seen


def expect_create(stubs: Stubs, target: str) -> None:
    stubs["codedeploy"].add_response(
        "create_deployment",
        {"deploymentId": NEW},
        {
            "applicationName": APPLICATION,
            "deploymentGroupName": GROUP,
            "revision": _any(),
            "description": f"deployer rollback to {target}",
        },
    )


def _any() -> Any:
    from botocore.stub import ANY

    return ANY


def deployment_answer(status: str, **extra: Any) -> dict[str, Any]:
    return {"deploymentInfo": {"deploymentId": NEW, "status": status, **extra}}


def event(name: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"lifecycleEventName": name, "status": status, **extra}


def targets_answer(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "deploymentTargets": [
            {
                "deploymentTargetType": "ECSTarget",
                "ecsTarget": {
                    "deploymentId": NEW,
                    "targetId": f"{CLUSTER}:{GROUP}",
                    "lifecycleEvents": list(events),
                },
            }
        ]
    }


def expect_poll(stubs: Stubs, status: str, *events: dict[str, Any], **extra: Any) -> None:
    """One round of following: GetDeployment, ListDeploymentTargets, BatchGetDeploymentTargets."""
    codedeploy = stubs["codedeploy"]
    codedeploy.add_response(
        "get_deployment", deployment_answer(status, **extra), {"deploymentId": NEW}
    )
    codedeploy.add_response(
        "list_deployment_targets", {"targetIds": [f"{CLUSTER}:{GROUP}"]}, {"deploymentId": NEW}
    )
    codedeploy.add_response(
        "batch_get_deployment_targets",
        targets_answer(*events),
        {"deploymentId": NEW, "targetIds": [f"{CLUSTER}:{GROUP}"]},
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1_764_000_000.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


# ---------------------------------------------------------------------------
# The default target
# ---------------------------------------------------------------------------
def expect_default_choice(stubs: Stubs) -> None:
    """typical_history's reads to choose: d-5 is current (TD3); d-4 is TD3 again; d-3 failed;
    d-2's TD2 is deregistered; d-1's TD1 is the one."""
    typical_history(stubs)
    stubs.task_definition(3)
    stubs.task_definition(2, status="INACTIVE")
    stubs.task_definition(1)


def test_default_target_is_the_last_success_before_the_current_with_another_version(
    stubs: Stubs,
) -> None:
    expect_default_choice(stubs)
    stubs.discover(td(3))
    created = capture_create(stubs)
    expect_create(stubs, "d-1")
    expect_poll(stubs, statuses.SUCCEEDED, event("AfterAllowTraffic", "Succeeded"))
    lines: list[str] = []

    result = deployments.rollback(stubs.scope(), "api-service", progress=lines.append)

    stubs.assert_done()
    assert result.choice.target.id == "d-1"
    assert result.choice.reason == (
        "the service runs acme-shop-staging-api-service:3, deployed by d-5; d-1 is the last "
        "deployment that succeeded before it with another task definition "
        "(acme-shop-staging-api-service:1)"
    )
    assert result.choice.skipped == (
        "d-2: acme-shop-staging-api-service:2 (deregistered) cannot be deployed",
    )
    assert lines[0].startswith("rolling back to d-1: the service runs")
    assert lines[1] == "  skipped " + result.choice.skipped[0]
    # The revision: the pipeline's appspec, with d-1's task definition.
    (params,) = created
    assert params["revision"]["revisionType"] == "AppSpecContent"
    appspec = json.loads(params["revision"]["appSpecContent"]["content"])
    (resource,) = appspec["Resources"]
    properties = resource["TargetService"]["Properties"]
    assert resource["TargetService"]["Type"] == "AWS::ECS::Service"
    assert properties["TaskDefinition"] == td(1)
    assert properties["LoadBalancerInfo"] == {"ContainerName": "api-service", "ContainerPort": 8080}
    assert appspec["Hooks"] == [{"AfterAllowTestTraffic": GUARD}, {"AfterAllowTraffic": GUARD}]
    assert result.ok and result.deployment_id == NEW
    assert "rollback of api-service (staging us-east-1) to d-1" in result.to_text()


# ---------------------------------------------------------------------------
# Refusals: each names what and why, and nothing is created
# ---------------------------------------------------------------------------
def refused(stubs: Stubs, to: str | None = None) -> deployments.RollbackRefused:
    with pytest.raises(deployments.RollbackRefused) as refusal:
        deployments.rollback(stubs.scope(), "api-service", to=to)
    stubs.assert_done()  # and no CreateDeployment: none was stubbed
    return refusal.value


def test_refuses_while_a_deployment_of_the_group_is_in_progress(stubs: Stubs) -> None:
    stubs.group(running=td(3))
    stubs.unfinished(info("d-7", 70, statuses.IN_PROGRESS, content_revision(td(4))))
    refusal = refused(stubs)
    assert refusal.message.startswith(
        "deployment d-7 (InProgress, created 2026-11-30T10:10:00Z by user) of "
        "acme-shop-staging-api-service is in progress"
    )
    assert "stop-deployment --deployment-id d-7" in (refusal.hint or "")


def test_refuses_a_named_deployment_that_never_succeeded(stubs: Stubs) -> None:
    typical_history(stubs)
    stubs.task_definition(3)  # d-5: what runs now
    refusal = refused(stubs, "d-3")
    assert refusal.message.startswith("d-3 never succeeded (Failed (HEALTH_CONSTRAINTS))")


def test_refuses_a_named_deployment_whose_version_runs_now(stubs: Stubs) -> None:
    typical_history(stubs)
    stubs.task_definition(3)
    refusal = refused(stubs, "d-4")
    assert refusal.message == (
        "d-4 deployed acme-shop-staging-api-service:3, which the service runs now: "
        "there is nothing to roll back"
    )


def test_refuses_a_named_deployment_whose_task_definition_is_deregistered(stubs: Stubs) -> None:
    typical_history(stubs)
    stubs.task_definition(3)
    stubs.task_definition(2, status="INACTIVE")
    refusal = refused(stubs, "d-2")
    assert refusal.message == (
        "d-2 deployed acme-shop-staging-api-service:2 (deregistered): ECS cannot start a "
        "task set of a task definition that is not ACTIVE"
    )


def test_refuses_a_deployment_of_another_group(stubs: Stubs) -> None:
    typical_history(stubs)
    stubs.task_definition(3)
    other = info("d-AUTH", 5, revision=content_revision(td(1)))
    other["deploymentGroupName"] = "acme-shop-staging-auth-service"
    stubs["codedeploy"].add_response(
        "get_deployment", {"deploymentInfo": other}, {"deploymentId": "d-AUTH"}
    )
    refusal = refused(stubs, "d-AUTH")
    assert refusal.message == (
        "d-AUTH is a deployment of acme-shop-staging-services/acme-shop-staging-auth-service, "
        "not of acme-shop-staging-services/acme-shop-staging-api-service (api-service)"
    )


def test_refuses_a_deployment_that_does_not_exist(stubs: Stubs) -> None:
    typical_history(stubs)
    stubs.task_definition(3)
    stubs["codedeploy"].add_client_error(
        "get_deployment",
        service_error_code="DeploymentDoesNotExistException",
        expected_params={"deploymentId": "d-NOPE"},
    )
    assert refused(stubs, "d-NOPE").message == "there is no deployment d-NOPE in us-east-1"


def test_refuses_when_nothing_earlier_can_be_deployed(stubs: Stubs) -> None:
    stubs.group(running=td(3))
    stubs.unfinished()
    stubs.history(
        info("d-5", 50, revision=content_revision(td(3))),
        info("d-2", 20, revision=content_revision(td(2))),
    )
    stubs.task_definition(3)
    stubs.deleted_task_definition(2)
    refusal = refused(stubs)
    assert refusal.message == (
        "no deployment of acme-shop-staging-api-service succeeded before d-5 with a task "
        "definition other than acme-shop-staging-api-service:3 that ECS can still deploy "
        "(skipped: d-2: acme-shop-staging-api-service:2 (deleted) cannot be deployed)"
    )


def test_refuses_a_default_when_no_deployment_deployed_what_runs(stubs: Stubs) -> None:
    typical_history(stubs, running=7)
    stubs.task_definition(3)  # d-5, d-4: TD3
    stubs.task_definition(2, status="INACTIVE")  # d-2
    stubs.task_definition(1)  # d-1: none is TD7
    refusal = refused(stubs)
    assert refusal.message == (
        "the service runs acme-shop-staging-api-service:7, which no succeeded deployment of "
        "acme-shop-staging-api-service deployed: there is no 'previous' to go back to"
    )
    assert (refusal.hint or "").startswith("name the deployment to roll back to with --to")


def test_a_deployment_started_meanwhile_is_refused_by_codedeploy(stubs: Stubs) -> None:
    expect_default_choice(stubs)
    stubs.discover(td(3))
    stubs["codedeploy"].add_client_error(
        "create_deployment",
        service_error_code="DeploymentLimitExceededException",
        service_message="The Deployment Group already has an active Deployment d-8",
    )
    refusal = refused(stubs)
    assert "active Deployment d-8" in refusal.message


# ---------------------------------------------------------------------------
# Following the deployment
# ---------------------------------------------------------------------------
def test_following_prints_each_new_event_and_status_and_ends_failed(stubs: Stubs) -> None:
    codedeploy = stubs["codedeploy"]
    codedeploy.add_response("get_deployment", deployment_answer("Created"), None)
    codedeploy.add_client_error(
        "list_deployment_targets", service_error_code="DeploymentNotStartedException"
    )
    expect_poll(
        stubs,
        "InProgress",
        event("BeforeInstall", "Succeeded"),
        event("Install", "InProgress"),
        event("AfterInstall", "Pending"),
    )
    expect_poll(  # nothing new: nothing said
        stubs, "InProgress", event("BeforeInstall", "Succeeded"), event("Install", "InProgress")
    )
    expect_poll(
        stubs,
        "Failed",
        event("BeforeInstall", "Succeeded"),
        event("Install", "Succeeded"),
        event("AfterInstall", "Succeeded"),
        event("AllowTestTraffic", "Succeeded"),
        event(
            "AfterAllowTestTraffic",
            "Failed",
            diagnostics={"errorCode": "ScriptFailed", "message": "the guard failed /health"},
        ),
        event("BeforeAllowTraffic", "Skipped"),
        errorInformation={"code": "HEALTH_CONSTRAINTS", "message": "hook failed"},
        rollbackInfo={"rollbackDeploymentId": "d-AUTO00001"},
    )
    clock = Clock()
    lines: list[str] = []

    followed = deployments.Follower(
        stubs.scope(), NEW, progress=lines.append, clock=clock, sleep=clock.sleep, poll_seconds=5
    ).run()

    stubs.assert_done()
    assert clock.slept == 15
    said = [line.split("  ", 1)[1] for line in lines]
    assert said == [
        f"deployment {NEW}: Created",
        f"deployment {NEW}: InProgress",
        "BeforeInstall: Succeeded",
        "Install: InProgress",
        "Install: Succeeded",
        "AfterInstall: Succeeded",
        "AllowTestTraffic: Succeeded",
        "AfterAllowTestTraffic: Failed (ScriptFailed the guard failed /health)",
        "BeforeAllowTraffic: Skipped",
        f"deployment {NEW}: Failed (HEALTH_CONSTRAINTS: hook failed; rolled back by d-AUTO00001)",
    ]
    assert lines[0].startswith("2025-11-24T")  # each line carries its time
    assert followed.ending == deployments.FINISHED and not followed.succeeded
    assert followed.events[-1]["status"] == "Failed"


def test_following_without_the_targets_api_follows_the_status(stubs: Stubs) -> None:
    codedeploy = stubs["codedeploy"]
    codedeploy.add_response("get_deployment", deployment_answer("InProgress"), None)
    codedeploy.add_client_error(
        "list_deployment_targets", service_error_code="InternalFailure", http_status_code=500
    )
    # Not asked again: only GetDeployment from here on.
    codedeploy.add_response("get_deployment", deployment_answer("InProgress"), None)
    codedeploy.add_response("get_deployment", deployment_answer("Succeeded"), None)
    clock = Clock()

    followed = deployments.Follower(stubs.scope(), NEW, clock=clock, sleep=clock.sleep).run()

    stubs.assert_done()
    assert followed.succeeded
    assert (followed.targets_unavailable or "").startswith("InternalFailure")


def test_following_stops_at_the_timeout_and_the_deployment_goes_on(stubs: Stubs) -> None:
    codedeploy = stubs["codedeploy"]
    for n in range(5):  # at 0, 3, 6, 9 and 12 s; the timeout is 10 s
        codedeploy.add_response("get_deployment", deployment_answer("InProgress"), None)
        if n == 0:
            codedeploy.add_client_error(
                "list_deployment_targets",
                service_error_code="InternalFailure",
                http_status_code=500,
            )
    clock = Clock()
    followed = deployments.Follower(
        stubs.scope(), NEW, clock=clock, sleep=clock.sleep, poll_seconds=3, timeout=10
    ).run()
    stubs.assert_done()
    assert followed.ending == deployments.TIMEOUT
    assert not followed.succeeded


def test_ctrl_c_stops_following_only(stubs: Stubs) -> None:
    expect_poll(stubs, "InProgress", event("BeforeInstall", "InProgress"))

    def interrupted(_seconds: float) -> None:
        raise KeyboardInterrupt

    followed = deployments.Follower(stubs.scope(), NEW, sleep=interrupted).run()
    assert followed.ending == deployments.INTERRUPTED
    assert followed.status == "InProgress"


# ---------------------------------------------------------------------------
# The command: exit codes, one JSON document, the way to watch what goes on
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


ROLLBACK = ["--target", "aws", "--json", "rollback", "staging", "--service", "api-service"]


@pytest.mark.parametrize(
    ("status", "code"), [(statuses.SUCCEEDED, EXIT_OK), (statuses.STOPPED, EXIT_FAILURE)]
)
def test_command_exit_code_is_the_deployments_outcome(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str], status: str, code: int
) -> None:
    expect_default_choice(stubs)
    stubs.discover(td(3))
    expect_create(stubs, "d-1")
    expect_poll(stubs, status, event("AfterAllowTraffic", "Succeeded"))

    assert cli.main(ROLLBACK) == code

    stubs.assert_done()
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert document["ok"] is (code == EXIT_OK)
    assert document["target"]["deployment_id"] == "d-1"
    assert (document["deployment_id"], document["status"]) == (NEW, status)
    assert document["rolled_back_from"] == td(3)
    assert f"created deployment {NEW} of acme-shop-staging-api-service" in err


def test_command_names_the_deployment_in_the_way(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    stubs.group(running=td(3))
    stubs.unfinished(info("d-7", 70, statuses.READY, content_revision(td(4))))
    assert cli.main(ROLLBACK) == EXIT_FAILURE
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is False
    assert "d-7 (Ready" in document["error"]


def test_command_after_ctrl_c_says_the_deployment_goes_on(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expect_default_choice(stubs)
    stubs.discover(td(3))
    expect_create(stubs, "d-1")
    expect_poll(stubs, "InProgress", event("BeforeInstall", "InProgress"))

    def interrupted(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", interrupted)

    assert cli.main(ROLLBACK) == 130

    out, err = capsys.readouterr()
    document = json.loads(out)
    assert document["ending"] == "interrupted"
    assert document["watch"].startswith("deployer deployments staging --service api-service")
    assert f"deployment {NEW} continues in CodeDeploy (interrupted)" in err
    assert f"aws deploy get-deployment --deployment-id {NEW}" in err


# ---------------------------------------------------------------------------
# The same calls against moto (in-process, with the emulator's patches)
# ---------------------------------------------------------------------------
class MotoClients:
    """Clients of moto in-process (its default account; the calls name no account)."""

    def client(self, service: str, region: str, **_role: Any) -> Any:
        import boto3

        return boto3.client(service, region_name=region)  # type: ignore[call-overload]


def test_listing_and_rolling_back_against_moto() -> None:
    """In an interpreter of its own: the emulator's patches change moto's classes for the
    whole process, and must not reach the tests that run stock moto in this one."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        env.pop(key, None)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from tests.unit.test_rollback_command import against_moto; against_moto()"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(ROOT)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def against_moto() -> None:
    from moto import mock_aws
    from moto.codedeploy.models import codedeploy_backends

    from deployer import drill
    from deployer.aws import AWS, Target
    from deployer.config import load
    from deployer.emulator import patches
    from deployer.scope import Scope

    patches.apply_all()
    with mock_aws():
        config = load(ROOT)
        scope = Scope(
            config, config.environment("staging"), "us-east-1", Target(AWS), MotoClients()
        )
        backend = codedeploy_backends["123456789012"]["us-east-1"]
        ec2, elb, ecs, codedeploy = scope.ec2, scope.elbv2, scope.ecs, scope.codedeploy
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
        alb = elb.create_load_balancer(Name="api", Subnets=[subnet])["LoadBalancers"][0]
        tgs = {
            color: elb.create_target_group(
                Name=f"api-{color}", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
            )["TargetGroups"][0]["TargetGroupArn"]
            for color in ("blue", "green")
        }
        listeners = [
            elb.create_listener(
                LoadBalancerArn=alb["LoadBalancerArn"],
                Protocol="HTTP",
                Port=port,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": tgs["blue"]}],
            )["Listeners"][0]["ListenerArn"]
            for port in (80, 8080)
        ]
        ecs.create_cluster(clusterName=CLUSTER)

        def register(tag: str) -> str:
            return str(
                ecs.register_task_definition(
                    family=GROUP,
                    networkMode="awsvpc",
                    requiresCompatibilities=["FARGATE"],
                    cpu="256",
                    memory="512",
                    containerDefinitions=[{"name": "api-service", "image": f"api:{tag}"}],
                )["taskDefinition"]["taskDefinitionArn"]
            )

        td1, td2, td3 = register("1"), register("2"), register("3")
        sg = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
        network: Any = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}}
        ecs.create_service(
            cluster=CLUSTER,
            serviceName=GROUP,
            taskDefinition=td1,
            desiredCount=1,
            launchType="FARGATE",
            deploymentController={"type": "CODE_DEPLOY"},
            loadBalancers=[
                {
                    "targetGroupArn": tgs["blue"],
                    "containerName": "api-service",
                    "containerPort": 8080,
                }
            ],
            networkConfiguration=network,
        )
        codedeploy.create_application(applicationName=APPLICATION, computePlatform="ECS")
        codedeploy.create_deployment_group(
            applicationName=APPLICATION,
            deploymentGroupName=GROUP,
            serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
            deploymentStyle={
                "deploymentType": "BLUE_GREEN",
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
            },
            ecsServices=[{"serviceName": GROUP, "clusterName": CLUSTER}],
            loadBalancerInfo={
                "targetGroupPairInfoList": [
                    {
                        "targetGroups": [{"name": "api-blue"}, {"name": "api-green"}],
                        "prodTrafficRoute": {"listenerArns": listeners[:1]},
                        "testTrafficRoute": {"listenerArns": listeners[1:]},
                    }
                ]
            },
        )

        def make_primary(task_definition: str, color: str) -> None:
            """What a finished release leaves: one PRIMARY task set, on ``task_definition``."""
            (service,) = ecs.describe_services(cluster=CLUSTER, services=[GROUP])["services"]
            task_set = ecs.create_task_set(
                cluster=CLUSTER,
                service=GROUP,
                taskDefinition=task_definition,
                networkConfiguration=network,
                launchType="FARGATE",
                loadBalancers=[
                    {
                        "targetGroupArn": tgs[color],
                        "containerName": "api-service",
                        "containerPort": 8080,
                    }
                ],
            )["taskSet"]["taskSetArn"]
            ecs.update_service_primary_task_set(
                cluster=CLUSTER, service=GROUP, primaryTaskSet=task_set
            )
            for old in service.get("taskSets") or []:
                ecs.delete_task_set(cluster=CLUSTER, service=GROUP, taskSet=old["taskSetArn"])

        def deployed(task_definition: str, status: str) -> str:
            layout = drill.discover(scope, "api-service")
            found = str(
                codedeploy.create_deployment(
                    applicationName=APPLICATION,
                    deploymentGroupName=GROUP,
                    revision=drill.appspec(layout, task_definition),  # type: ignore[arg-type]
                )["deploymentId"]
            )
            backend.deployments[found].status = status  # as CodeDeploy's engine would end it
            return found

        make_primary(td1, "blue")
        first = deployed(td1, statuses.SUCCEEDED)
        second = deployed(td2, statuses.SUCCEEDED)
        make_primary(td2, "blue")
        broken = deployed(td3, statuses.FAILED)

        listed = deployments.history(scope, "api-service")
        assert [d.id for d in listed.deployments] == [broken, second, first]
        assert [d.task_definition for d in listed.deployments] == [td3, td2, td1]
        assert listed.current is not None and listed.current.id == second
        assert [d.images for d in listed.deployments] == [("api:3",), ("api:2",), ("api:1",)]

        for to, refusal in ((second, "which the service runs now"), (broken, "never succeeded")):
            with pytest.raises(deployments.RollbackRefused, match=refusal):
                deployments.rollback(scope, "api-service", to=to)
        assert len(backend.deployments) == 3  # nothing created

        # The rollback: moto leaves it InProgress until "the engine" (this sleep) ends it.
        clock = Clock()

        def engine(seconds: float) -> None:
            clock.sleep(seconds)
            for deployment in backend.deployments.values():
                if deployment.status in statuses.UNFINISHED:
                    deployment.status = statuses.SUCCEEDED

        def follower(*args: Any, **kwargs: Any) -> deployments.Follower:
            return deployments.Follower(*args, clock=clock, sleep=engine, **kwargs)

        lines: list[str] = []
        result = deployments.rollback(
            scope, "api-service", progress=lines.append, follower=follower
        )

        assert result.choice.target.id == first
        assert result.ok and clock.slept == 3.0
        created = backend.deployments[result.deployment_id]
        assert created.description == f"deployer rollback to {first}"
        assert deployments.task_definition_of(created.revision["appSpecContent"]["content"]) == td1
        said = [line.split("  ", 1)[-1] for line in lines]
        assert said[-2:] == [
            f"deployment {result.deployment_id}: InProgress",
            f"deployment {result.deployment_id}: Succeeded",
        ]
