"""``deployer dr failover`` and ``dr failback``: the steps, a region that does not answer,
the serving record, and the counts ``deployer plan`` takes from it.

AWS is moto in this process: prod in us-east-1 (serving, 3 tasks a service) and us-west-2
(standing by at 1), as tests/unit/test_dr_status.py's ``World`` builds them, plus what
these commands touch: each region's notifications topic (an SQS queue subscribed, to read
the events), the load balancers, and with ``dns`` the zone and its failover records.
Three things are stand-ins, each the injected component the command takes:

- the pipeline: moto has no stage transitions (the emulator's patch adds them; applied
  in this process it would change moto for every later test), so :class:`Pipeline`
  keeps them, and refuses a reason as the API Reference does (1 to 300 characters of
  ``[a-zA-Z0-9!@ ().*?-]``);
- the name check: :class:`Names` answers for each service name the load balancer the
  traffic switch's last data point (in the delivery account's CloudWatch in us-west-2)
  sends users to, as the Route 53 health checks on the switch alarm do;
- ECS registering tasks with the target groups: the injected ``sleep`` does it (moto
  reports tasks running at once and registers no target), on a clock that the same
  ``sleep`` moves, so a timeout costs no time.

A region down is a client whose every call raises what the emulator's region control
answers (HTTP 503 ServiceUnavailable) or a connection error.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from deployer import cli, failover, tfvars
from deployer.aws import AWS, Target
from deployer.cli import common
from deployer.cli import dr as dr_cli
from deployer.config import Dns, Environment
from deployer.errors import UsageError
from deployer.names import TRAFFIC_SWITCH_METRIC, serving_record_parameter
from deployer.scope import Scope
from tests.unit.test_dr_status import EAST, WEST, World, built  # noqa: F401

ZONE = "example.com"
API = "api-service"
RECORD = serving_record_parameter("prod")
STAGE = "Production"


# ---------------------------------------------------------------------------
# Stand-ins
# ---------------------------------------------------------------------------
class Pipeline:
    """CodePipeline's stage transitions, as the API Reference describes them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.transitions: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    def _check(self, pipeline: str, stage: str, kind: str = "Inbound") -> None:
        if pipeline != self.name:
            raise ClientError(
                {"Error": {"Code": "PipelineNotFoundException", "Message": pipeline}},
                "GetPipelineState",
            )
        assert stage in ("Staging", STAGE) and kind == "Inbound"

    def get_pipeline_state(self, name: str) -> dict[str, Any]:
        self._check(name, STAGE)
        stages = ("Source", "Build", "Test", "Staging", STAGE)
        enabled = {"enabled": True}
        return {
            "stageStates": [
                {"stageName": s, "inboundTransitionState": self.transitions.get(s, enabled)}
                for s in stages
            ]
        }

    def disable_stage_transition(
        self, pipelineName: str, stageName: str, transitionType: str, reason: str
    ) -> None:
        self._check(pipelineName, stageName, transitionType)
        if not failover.REASON_PATTERN.fullmatch(reason):
            raise ClientError(
                {"Error": {"Code": "ValidationException",
                           "Message": "Value at 'reason' failed to satisfy constraint"}},
                "DisableStageTransition",
            )  # fmt: skip
        self.calls.append("disable")
        self.transitions[stageName] = {"enabled": False, "disabledReason": reason}

    def enable_stage_transition(
        self, pipelineName: str, stageName: str, transitionType: str
    ) -> None:
        self._check(pipelineName, stageName, transitionType)
        self.calls.append("enable")
        self.transitions[stageName] = {"enabled": True}


@dataclass
class Names:
    """Where each service name sends users now: the switch's last data point decides
    (1: the DR region's load balancer; else the primary's), unless a region is down."""

    world: World
    balancers: dict[str, dict[str, str]]  # region -> microservice -> DNS name
    checks: list[tuple[str, str, str]] = field(default_factory=list)

    def switch(self) -> float | None:
        from moto.cloudwatch.models import MetricDatum, cloudwatch_backends

        backend = cloudwatch_backends[self.world.config.delivery.account_id][WEST]
        values = [
            d.value for d in backend.metric_data
            if isinstance(d, MetricDatum) and d.name == TRAFFIC_SWITCH_METRIC
        ]  # fmt: skip
        return values[-1] if values else None

    def check(self, name: str, load_balancer: str, path: str) -> tuple[bool, str]:
        self.checks.append((name, load_balancer, path))
        region = WEST if self.switch() == 1 else EAST
        service = name.removesuffix(f".{ZONE}")
        answered = self.balancers[region][service]
        return answered == load_balancer, f"{name} answers {answered}"


def _down(error: Exception) -> Any:
    """A client of a region that does not answer: every call raises ``error``."""

    class Down:
        def __getattr__(self, operation: str) -> Callable[..., Any]:
            def call(*_: Any, **__: Any) -> Any:
                raise error

            return call

    return Down()


UNAVAILABLE = ClientError(
    {"Error": {"Code": "ServiceUnavailable", "Message": "Service Unavailable"},
     "ResponseMetadata": {"HTTPStatusCode": 503}},
    "AnyOperation",
)  # fmt: skip


class Setup:
    """The module's world, with what failover and failback reach beyond dr status's."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.config = world.config
        self.env = world.env
        self.pipeline = Pipeline(self.config.names.delivery.pipeline_name)
        self.down: dict[str, Exception] = {}
        self.registers = True
        self.now = [1_800_000_000.0]
        self.queues: dict[str, str] = {}
        self.balancers: dict[str, dict[str, str]] = {}
        factory = world.factory
        delivery = self.config.delivery
        self.delivery_scopes = {
            r: Scope(self.config, delivery, r, Target(AWS), factory) for r in (EAST, WEST)
        }
        for region in (EAST, WEST):
            names = world.scopes[region].names
            sns, sqs = world.client(region, "sns"), world.client(region, "sqs")
            topic = sns.create_topic(Name=names.notifications_topic_name)["TopicArn"]
            assert topic == names.notifications_topic_arn
            queue = sqs.create_queue(QueueName=f"events-{region}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
            self.queues[region] = queue
            ec2 = world.client(region, "ec2")
            vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
            subnets = [
                ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24",
                                  AvailabilityZone=f"{region}{zone}")["Subnet"]["SubnetId"]
                for i, zone in enumerate("ab")
            ]  # fmt: skip
            elb = world.client(region, "elbv2")
            self.balancers[region] = {
                m.name: elb.create_load_balancer(
                    Name=names.service(m.name).alb_name, Subnets=subnets
                )["LoadBalancers"][0]["DNSName"]
                for m in self.config.microservices
            }
        self.names = Names(world, self.balancers)

    # -- what the command reaches ---------------------------------------------------
    def env_client(self, region: str, service: str) -> Any:
        if region in self.down:
            return _down(self.down[region])
        return self.world.client(region, service)

    def delivery_client(self, region: str, service: str) -> Any:
        if region in self.down:
            return _down(self.down[region])
        if service == "codepipeline":
            return self.pipeline
        return self.delivery_scopes[region].client(service)

    def sleep(self, seconds: float) -> None:
        """Time passes; ECS registers each service's tasks with its blue target group."""
        self.now[0] += seconds
        if not self.registers:
            return
        for region in (EAST, WEST):
            if region in self.down:
                continue
            names = self.world.scopes[region].names
            for m in self.config.microservices:
                (described,) = self.world.client(region, "ecs").describe_services(
                    cluster=names.cluster_name, services=[names.service(m.name).service_name]
                )["services"]
                self.targets(region, m.name, described["desiredCount"])

    def targets(self, region: str, microservice: str, count: int) -> None:
        """``count`` healthy targets in the service's blue group, none in its green."""
        service = self.world.scopes[region].names.service(microservice)
        elb = self.world.client(region, "elbv2")
        for group in (service.target_group_names.blue, service.target_group_names.green):
            arn = elb.describe_target_groups(Names=[group])["TargetGroups"][0]["TargetGroupArn"]
            found = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
            if found:
                elb.deregister_targets(TargetGroupArn=arn, Targets=[t["Target"] for t in found])
            if group == service.target_group_names.blue:
                elb.register_targets(
                    TargetGroupArn=arn,
                    Targets=[{"Id": f"10.0.1.{i + 10}", "Port": 8080} for i in range(count)],
                )

    def reach(self) -> failover.Reach:
        return failover.Reach(
            env_client=self.env_client,
            delivery_client=self.delivery_client,
            names=lambda region: self.config.names.target(self.env.name, region),
            verifier=self.names,
            clock=lambda: self.now[0],
            sleep=self.sleep,
            timeout=60,
            poll=5,
        )

    def failover(self, env: Environment | None = None, **options: Any) -> failover.Outcome:
        return failover.failover(self.config, env or self.env, self.reach(), **options)

    def failback(self, env: Environment | None = None) -> failover.Outcome:
        return failover.failback(self.config, env or self.env, self.reach())

    # -- what a user sees ---------------------------------------------------------
    def record(self, region: str) -> dict[str, Any] | None:
        try:
            value = self.world.client(region, "ssm").get_parameter(Name=RECORD)["Parameter"]
        except ClientError:
            return None
        return dict(json.loads(value["Value"]))

    def desired(self, region: str) -> dict[str, int]:
        names = self.world.scopes[region].names
        found = self.world.client(region, "ecs").describe_services(
            cluster=names.cluster_name,
            services=[names.service(m.name).service_name for m in self.config.microservices],
        )["services"]
        return {s["serviceName"].rsplit("prod-", 1)[1]: s["desiredCount"] for s in found}

    def events(self, region: str) -> list[dict[str, Any]]:
        sqs = self.world.client(region, "sqs")
        found = sqs.receive_message(QueueUrl=self.queues[region], MaxNumberOfMessages=10)
        for m in found.get("Messages", []):
            sqs.delete_message(QueueUrl=self.queues[region], ReceiptHandle=m["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in found.get("Messages", [])]

    def reset(self) -> None:
        for region in (EAST, WEST):
            ssm = self.world.client(region, "ssm")
            with contextlib.suppress(ClientError):
                ssm.delete_parameter(Name=RECORD)
            self.events(region)
        names = self.world.scopes[EAST].names
        for m in self.config.microservices:
            self.world.client(EAST, "ecs").update_service(
                cluster=names.cluster_name,
                service=names.service(m.name).service_name,
                desiredCount=self.env.running_count(EAST),
            )
            for region in (EAST, WEST):
                self.targets(region, m.name, self.env.running_count(region))
        self.pipeline.transitions.clear()
        self.pipeline.calls.clear()
        self.names.checks.clear()
        self.down.clear()
        self.registers = True
        from moto.cloudwatch.models import cloudwatch_backends

        cloudwatch_backends[self.config.delivery.account_id][WEST].metric_data.clear()
        self.world.reset()


@pytest.fixture(scope="module")
def setup(built: World) -> Setup:  # noqa: F811
    return Setup(built)


@pytest.fixture
def s(setup: Setup) -> Iterator[Setup]:
    yield setup
    setup.reset()


@pytest.fixture(scope="module")
def with_dns(setup: Setup) -> Environment:
    """prod with dns: the zone, each service's failover records and health checks."""
    route53 = setup.delivery_scopes[EAST].client("route53")
    zone = route53.create_hosted_zone(Name=ZONE, CallerReference="failover")["HostedZone"]["Id"]
    changes = []
    for m in setup.config.microservices:
        for region, role in ((EAST, "PRIMARY"), (WEST, "SECONDARY")):
            check = route53.create_health_check(
                CallerReference=f"{m.name}-{region}",
                HealthCheckConfig={"Type": "HTTPS", "Port": 443, "ResourcePath": "/health",
                                   "FullyQualifiedDomainName": setup.balancers[region][m.name]},
            )["HealthCheck"]["Id"]  # fmt: skip
            changes.append({"Action": "CREATE", "ResourceRecordSet": {
                "Name": f"{m.name}.{ZONE}", "Type": "A", "SetIdentifier": region,
                "Failover": role, "HealthCheckId": check, "TTL": 60,
                "ResourceRecords": [{"Value": "192.0.2.1"}]}})  # fmt: skip
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})
    return replace(setup.env, dns=Dns(ZONE))


def by_name(outcome: failover.Outcome) -> dict[str, failover.Step]:
    return {failover._label(step): step for step in outcome.steps}


def statuses(outcome: failover.Outcome) -> dict[str, str]:
    return {label: step.status for label, step in by_name(outcome).items()}


# ---------------------------------------------------------------------------
# failover
# ---------------------------------------------------------------------------
def test_failover_with_names_moves_traffic_and_records_it(s: Setup, with_dns: Environment) -> None:
    outcome = s.failover(with_dns)
    assert statuses(outcome) == {
        "readiness in us-west-2": "ok",
        "hold deployments in us-east-1": "ok",
        "scale in us-west-2": "ok",
        "switch traffic in us-west-2": "ok",
        "verify in us-west-2": "ok",
        "standby in us-east-1": "ok",
        "record in us-east-1": "ok",
        "record in us-west-2": "ok",
        "publish in us-west-2": "ok",
    }
    assert outcome.complete and not outcome.failed
    # the DR region runs its desired count; the primary its standby count (3 here too)
    assert s.desired(WEST) == {API: 3, "auth-service": 3}
    assert s.desired(EAST) == {API: 3, "auth-service": 3}
    # production deployments are held, with a reason the API accepts
    held = s.pipeline.transitions[STAGE]
    assert held["enabled"] is False
    assert held["disabledReason"].startswith(failover.REASON_PREFIX)
    assert "prod serves from us-west-2" in held["disabledReason"]
    # the names answered the DR region's load balancers, on the health path
    assert (f"{API}.{ZONE}", s.balancers[WEST][API], "/health") in s.names.checks
    assert s.names.switch() == 1
    assert (
        "acme-shop-prod-dr-traffic-switch to ALARM"
        in by_name(outcome)["switch traffic in us-west-2"].detail
    )
    # recovery: from start to verified; the record says the same in both regions
    assert outcome.recovery_seconds is not None and outcome.recovery_seconds >= 0
    east, west = s.record(EAST), s.record(WEST)
    assert east is not None and west is not None
    for record in (east, west):
        assert record["serving"] == WEST and record["sequence"] == 1
        assert record["counts"] == {EAST: {API: 3, "auth-service": 3},
                                    WEST: {API: 3, "auth-service": 3}}  # fmt: skip
        assert record["recovery_seconds"] == outcome.recovery_seconds
        assert record["pending"] == []
        assert [step["name"] for step in record["steps"]][:3] == [
            "readiness", "hold deployments", "scale"
        ]  # fmt: skip
    # the event, on the environment's topic in the DR region
    (event,) = s.events(WEST)
    assert event["Subject"] == "prod failed over to us-west-2"
    message = json.loads(event["Message"])
    assert message["event"] == "deployer dr failover"
    assert message["to_region"] == WEST and message["sequence"] == 1


def test_failover_waits_for_healthy_targets_before_it_switches(
    s: Setup, with_dns: Environment
) -> None:
    s.registers = False  # ECS never gets the new tasks healthy
    outcome = s.failover(with_dns)
    steps = by_name(outcome)
    assert steps["scale in us-west-2"].status == "failed"
    assert "not running and healthy after 60 s" in steps["scale in us-west-2"].detail
    assert "1 healthy targets" in steps["scale in us-west-2"].detail
    # nothing after it: users are not sent to a region that cannot serve them
    assert "switch traffic in us-west-2" not in steps
    assert outcome.failed and s.names.switch() is None
    assert s.record(WEST) is None and s.events(WEST) == []


@pytest.mark.parametrize(
    "error",
    [UNAVAILABLE, EndpointConnectionError(endpoint_url="https://ssm.us-east-1.amazonaws.com/")],
    ids=["503", "connection"],
)
def test_failover_with_the_primary_down_skips_its_steps_and_a_rerun_completes_them(
    s: Setup, with_dns: Environment, error: Exception
) -> None:
    s.down[EAST] = error
    outcome = s.failover(with_dns)
    assert statuses(outcome) == {
        "readiness in us-west-2": "ok",  # what it could not compare is unknown, not a gap
        "hold deployments in us-east-1": "skipped",  # the delivery region is us-east-1
        "scale in us-west-2": "ok",
        "switch traffic in us-west-2": "ok",
        "verify in us-west-2": "ok",
        "standby in us-east-1": "skipped",
        "record in us-east-1": "skipped",
        "record in us-west-2": "ok",
        "publish in us-west-2": "ok",
    }
    assert "us-east-1 did not answer" in by_name(outcome)["record in us-east-1"].detail
    assert not outcome.failed and not outcome.complete
    pending = ["hold deployments in us-east-1", "standby in us-east-1", "record in us-east-1"]
    assert outcome.pending == pending
    text = outcome.to_text()
    assert text.startswith("prod: fail over from us-east-1 to us-west-2: done, with steps pending")
    assert text.endswith(
        "pending: hold deployments in us-east-1, standby in us-east-1, record in us-east-1: "
        "run deployer dr failover prod again once the region answers"
    )
    assert "recovery time: " in text
    west = s.record(WEST)
    assert west is not None and west["serving"] == WEST and west["sequence"] == 1
    assert west["pending"] == pending
    assert s.record(EAST) is None and s.pipeline.calls == []

    # the primary is back: the same command completes what is pending
    s.down.clear()
    again = s.failover(with_dns)
    assert again.resumed and again.complete
    assert statuses(again)["readiness in us-west-2"] == "n/a"
    assert s.pipeline.calls == ["disable"]
    for region in (EAST, WEST):
        record = s.record(region)
        assert record is not None and record["sequence"] == 2 and record["pending"] == []

    # and once nothing is pending, a third run is refused: us-west-2 already serves
    with pytest.raises(UsageError, match="us-west-2 already serves prod"):
        s.failover(with_dns)


def test_a_target_with_a_gap_is_refused_unless_forced(s: Setup) -> None:
    alarm = s.world.scopes[WEST].names.service(API).alarm_names.health
    s.world.client(WEST, "cloudwatch").set_alarm_state(
        AlarmName=alarm, StateValue="ALARM", StateReason="test"
    )
    refused = s.failover()
    assert refused.refused and statuses(refused) == {"readiness in us-west-2": "failed"}
    assert [(g.service, g.check) for g in refused.gaps] == [(API, "alarms")]
    assert f"{alarm} ALARM" in by_name(refused)["readiness in us-west-2"].detail
    text = refused.to_text()
    assert "REFUSED (the target is not ready; --force passes over the gaps)" in text
    assert f"  {API} alarms: {alarm} ALARM" in text and "pending" not in text
    assert s.desired(WEST) == {API: 1, "auth-service": 1}  # nothing moved
    assert s.record(WEST) is None and s.pipeline.calls == []

    forced = s.failover(force=True)
    readiness = by_name(forced)["readiness in us-west-2"]
    assert readiness.status == "forced"
    assert readiness.detail.startswith(f"--force: 1 gaps passed over: {API} alarms: {alarm}")
    assert forced.complete and s.desired(WEST) == {API: 3, "auth-service": 3}
    # without dns there is no name to switch or verify: the recovery ends at healthy
    assert statuses(forced)["switch traffic in us-west-2"] == "n/a"
    assert statuses(forced)["verify in us-west-2"] == "n/a"
    assert forced.recovery_seconds is not None


def test_the_hold_reason_meets_the_api_constraints() -> None:
    from deployer import config as config_module

    env = config_module.load(Path(__file__).resolve().parents[2]).environment("prod")
    reason = failover.hold_reason(replace(env, name="p" * 300), "us-west-2", 1.8e9)
    assert len(reason) == 300 and failover.REASON_PATTERN.fullmatch(reason)
    assert ":" not in failover.hold_reason(env, "us-west-2", 1.8e9)


# ---------------------------------------------------------------------------
# failback
# ---------------------------------------------------------------------------
def test_failback_returns_to_the_primary_and_puts_the_dr_region_back_to_standby(
    s: Setup, with_dns: Environment
) -> None:
    with pytest.raises(UsageError, match="prod is not failed over: us-east-1"):
        s.failback(with_dns)
    assert s.failover(with_dns).complete
    s.events(WEST)
    outcome = s.failback(with_dns)
    assert statuses(outcome) == {
        "scale in us-east-1": "ok",
        "switch traffic in us-west-2": "ok",
        "verify in us-east-1": "ok",
        "standby in us-west-2": "ok",
        "release deployments in us-east-1": "ok",
        "record in us-east-1": "ok",
        "record in us-west-2": "ok",
        "publish in us-east-1": "ok",
    }
    assert outcome.complete and outcome.source == WEST and outcome.target == EAST
    assert s.names.switch() == 0
    assert (f"{API}.{ZONE}", s.balancers[EAST][API], "/health") in s.names.checks
    assert s.desired(WEST) == {API: 1, "auth-service": 1}
    assert s.pipeline.transitions[STAGE] == {"enabled": True}
    record = s.record(WEST)
    assert record is not None and record["serving"] == EAST and record["sequence"] == 2
    assert record["counts"] == {EAST: {API: 3, "auth-service": 3},
                                WEST: {API: 1, "auth-service": 1}}  # fmt: skip
    (event,) = s.events(EAST)
    assert event["Subject"] == "prod failed back to us-east-1"
    with pytest.raises(UsageError, match="not failed over"):
        s.failback(with_dns)


def test_failback_leaves_a_hold_it_did_not_make(s: Setup) -> None:
    assert s.failover().complete
    s.pipeline.transitions[STAGE] = {"enabled": False, "disabledReason": "Change freeze"}
    outcome = s.failback()
    release = by_name(outcome)["release deployments in us-east-1"]
    assert release.status == "n/a" and "held for another reason (Change freeze)" in release.detail
    assert s.pipeline.transitions[STAGE]["enabled"] is False


# ---------------------------------------------------------------------------
# Usage errors
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["failover", "nosuch"], "unknown environment 'nosuch'"),
        (["failover", "staging"], "nothing to fail over to"),
        (["failback", "staging"], "nothing to fail over to"),
        (["failover", "prod", "--to", "eu-west-1"], "has no region eu-west-1"),
        (["failover", "prod", "--to", "us-east-1"], "primary region: to return there"),
        (["failback", "prod", "--to", "us-east-1"], "--to and --force go with failover"),
        (["status", "prod", "--timeout", "5"], "--timeout goes with failover and failback"),
        (["failover", "prod", "--timeout", "0"], "give a number of seconds above 0"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2(
    setup: Setup,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(setup.config.root))
    monkeypatch.setenv("DEPLOYER_TARGET", "aws")
    assert cli.main(["dr", *argv]) == 2
    assert message in capsys.readouterr().err


def test_the_commands_json_and_exit_codes(
    s: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the CLI: one JSON document with the steps and the recovery time; dr status
    then shows the serving region from the record; failback exits 0 too."""
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(s.config.root))
    monkeypatch.setenv("DEPLOYER_TARGET", "aws")
    # the world's clients (each new factory would load botocore's models again)
    monkeypatch.setattr(common, "ClientFactory", lambda *_, **__: s.world.factory)
    for m in s.config.microservices:  # healthy at once: the CLI waits in real time
        s.targets(WEST, m.name, 3)
    real = dr_cli.reach_of

    def reach(ctx: Any, env: Any) -> failover.Reach:
        made = real(ctx, env)
        # the CLI's own clients (moto's, in this process), the pipeline's stand-in aside
        clients = made.delivery_client

        def delivery(region: str, service: str) -> Any:
            return s.pipeline if service == "codepipeline" else clients(region, service)

        return replace(made, delivery_client=delivery)

    monkeypatch.setattr(dr_cli, "reach_of", reach)
    assert cli.main(["dr", "failover", "prod", "--json", "--timeout", "1"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["complete"] is True and document["to_region"] == WEST
    scale = next(step for step in document["steps"] if step["name"] == "scale")
    assert scale["status"] == "ok" and scale["region"] == WEST
    assert set(scale) == {"name", "region", "status", "started", "seconds", "detail"}
    assert document["recovery_seconds"] is not None and document["sequence"] == 1
    assert cli.main(["dr", "status", "prod", "--json"]) in (0, 1)
    status = json.loads(capsys.readouterr().out)
    assert status["serving_region"] == WEST
    capacity = [c for c in status["checks"] if c["check"] == "capacity"]
    assert all("desired 3" in c["detail"] for c in capacity), capacity
    assert cli.main(["dr", "failback", "prod", "--json", "--timeout", "1"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["sequence"] == 2 and document["complete"] is True
    assert s.pipeline.calls == ["disable", "enable"]


# ---------------------------------------------------------------------------
# deployer plan: the stack reads the record (serving.tf), the tfvars carry both counts
# ---------------------------------------------------------------------------
def test_the_tfvars_carry_both_counts_and_the_configurations_serving_region(
    s: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the deploy guard's package is not this project's to build (no functions/ here)
    monkeypatch.setattr(tfvars, "deploy_guard_package", lambda _root: {"path": "", "hash": ""})
    sizing = {
        region: tfvars.variables_for(s.config, s.env, region, Target(AWS))["sizing"]
        for region in (EAST, WEST)
    }
    assert {r: (v["desired_count"], v["standby_count"], v["serving_region"])
            for r, v in sizing.items()} == {EAST: (3, 3, EAST), WEST: (3, 1, EAST)}  # fmt: skip
    # A failover changes no tfvars: the stack reads the record, the plan reads nothing.
    assert s.failover().complete
    after = {
        region: tfvars.variables_for(s.config, s.env, region, Target(AWS))["sizing"]
        for region in (EAST, WEST)
    }
    assert after == sizing


def test_the_record_is_read_from_the_regions_that_answer_highest_sequence_first(
    s: Setup,
) -> None:
    s.down[EAST] = UNAVAILABLE
    assert s.failover().record is not None
    s.down.clear()
    # us-east-1 was down: it holds only an older record, which loses to sequence 1
    s.world.client(EAST, "ssm").put_parameter(
        Name=RECORD, Type="String",
        Value=json.dumps({"environment": "prod", "operation": "failback", "serving": EAST,
                          "sequence": 0, "counts": {WEST: {API: 1, "auth-service": 1}}}),
    )  # fmt: skip
    read = failover.read_record(s.env, s.env_client)
    assert read.record is not None and read.unread == {}
    assert (read.record.serving, read.record.sequence) == (WEST, 1)
    assert read.record.counts[WEST] == {API: 3, "auth-service": 3}
    s.down[EAST] = UNAVAILABLE
    read = failover.read_record(s.env, s.env_client)
    assert read.record is not None and read.record.sequence == 1
    assert list(read.unread) == [EAST] and "ServiceUnavailable" in read.unread[EAST]


# ---------------------------------------------------------------------------
# The name check the commands use on the local target
# ---------------------------------------------------------------------------
class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def _serve(server: http.server.HTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    return thread


def test_the_emulator_name_check_asks_its_dns_and_trusts_its_ca(setup: Setup) -> None:
    """NameCheck over EmulatorResolver, as ``dr failover`` verifies on the local target:
    the emulator's route53-dns engine (here in this process, on moto's zones) answers the
    name; the load balancer's own address comes from the runtime control; HTTPS to it is
    verified with the CA from the ca control, the name as SNI. The controls are a stand-in
    that answers what the emulator's do; the HTTPS listener one with a certificate the
    emulator's ACM patch issues."""
    from deployer.emulator.engines.route53_dns import Route53Dns
    from deployer.emulator.patches import acm_private_ca

    name, balancer = "api-service.verify.test", "api-alb-1.us-west-2.elb.amazonaws.com"
    route53 = setup.delivery_scopes[EAST].client("route53")
    zone = route53.create_hosted_zone(Name="verify.test", CallerReference="verify")
    records = [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": name, "Type": "A", "SetIdentifier": region, "Failover": role,
            "HealthCheckId": region, "TTL": 60, "ResourceRecords": [{"Value": address}]}}
        for region, role, address in ((EAST, "PRIMARY", "127.0.0.1"),
                                      (WEST, "SECONDARY", "127.0.0.2"))
    ]  # fmt: skip
    route53.change_resource_record_sets(
        HostedZoneId=zone["HostedZone"]["Id"], ChangeBatch={"Changes": records}
    )
    healthy = {EAST: False, WEST: True}  # the primary's health check fails: the DR answers
    dns_server = Route53Dns(0, health_of=healthy.get, lock=threading.RLock())
    dns_server.start()

    certificate, key, _ca = acm_private_ca._issue(name, [])
    (Path(setup.config.root) / "listener.pem").write_bytes(certificate + key)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(Path(setup.config.root) / "listener.pem")
    listener = http.server.ThreadingHTTPServer(("127.0.0.2", 0), _Health)
    listener.socket = tls.wrap_socket(listener.socket, server_side=True)
    runtime = {
        "route53-dns": dns_server.status(),
        "elb-listeners": {"listeners": {"l1": {
            "dns_name": balancer.upper(), "port": 443,
            "own_address": "127.0.0.2:443", "address": "127.0.0.1:1"}}},
    }  # fmt: skip

    class Controls(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            document = {"/_deployer/runtime": {"runtime": runtime},
                        "/_deployer/ca": acm_private_ca.ca_control({})}[self.path]  # fmt: skip
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    controls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Controls)
    servers = [listener, controls]
    for server in servers:
        _serve(server)
    try:
        endpoint = f"http://127.0.0.1:{controls.server_address[1]}"
        check = failover.NameCheck(
            failover.EmulatorResolver(endpoint), port=listener.server_address[1]
        )
        ok, seen = check.check(name, balancer, "/health")
        assert ok, seen
        assert seen == f"{name} answers {balancer} (127.0.0.2); GET /health: HTTP 200"
        assert check.check(name, balancer, "/down") == (
            False, f"{name} answers {balancer} (127.0.0.2); GET /down: HTTP 503"
        )  # fmt: skip
        other = "api-alb-2.us-east-1.elb.amazonaws.com"
        assert check.check(name, other, "/health") == (
            False, f"{name} answers 127.0.0.2, not {other}"
        )  # fmt: skip
        healthy[EAST] = True  # the primary is back: the name answers it, not the DR region
        assert check.check(name, balancer, "/health") == (
            False, f"{name} answers 127.0.0.1, not {balancer}"
        )  # fmt: skip
        # a name no zone holds: the DNS server refuses it, and the check says so
        ok, seen = check.check("api-service.nowhere.test", balancer, "/health")
        assert not ok and seen.startswith("api-service.nowhere.test answers nothing")
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
        dns_server.close()
