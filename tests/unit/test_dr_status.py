"""``deployer dr status``: each check finds its gap alone, and a primary that does not answer.

AWS is moto in this process (the ``aws`` fixture), in two regions and two accounts: prod
(us-east-1 serving, us-west-2 standing by at ``standby_count: 1``) and the delivery
account's ECR. ``world`` builds what the runtime stack and the pipeline leave in both
regions (cluster, service on a task definition, blue and green target groups with healthy
targets, the CodeDeploy group, alarms, SSM parameters, the image in both ECR
repositories); each test then breaks one thing and reads the command's verdict.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from deployer import cli, config, dr, state, state_replica
from deployer.aws import AWS, ClientFactory, Target
from deployer.config import Dns
from deployer.emulator.patches import cloudwatch_composite_alarm
from deployer.scope import Scope
from deployer.workspaces import Workspace
from tests.unit.test_config import BASE_ENVS, BASE_PROJECT, write_tree
from tests.unit.test_state_replica import faithful_replication  # noqa: F401 (a fixture)

EAST, WEST = "us-east-1", "us-west-2"
SECRET = "s3cret-primary-value"
MANIFEST = json.dumps(
    {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
     "config": {"digest": "sha256:" + "a" * 64, "size": 1, "mediaType": "x"}, "layers": []}
)  # fmt: skip


class World:
    """The prod environment in both regions, as a deployment leaves it."""

    def __init__(self, root: Path, factory: ClientFactory) -> None:
        self.config = config.load(root)
        self.env = self.config.environment("prod")
        self.factory = factory
        self.baseline: dict[str, str] = {}  # microservice -> its DR task definition
        self.scopes = {
            r: Scope(self.config, self.env, r, Target(AWS), factory) for r in (EAST, WEST)
        }
        delivery = self.config.delivery
        self.ecr = {
            r: Scope(self.config, delivery, r, Target(AWS), factory).client("ecr")
            for r in (EAST, WEST)
        }
        for region in (EAST, WEST):
            self._build(region)

    def client(self, region: str, service: str) -> Any:
        return self.scopes[region].client(service)

    def _build(self, region: str) -> None:
        names = self.scopes[region].names
        count = self.env.running_count(region)
        ecs, elb = self.client(region, "ecs"), self.client(region, "elbv2")
        ecs.create_cluster(clusterName=names.cluster_name)
        vpc = self.client(region, "ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        codedeploy, cloudwatch = (
            self.client(region, "codedeploy"),
            self.client(region, "cloudwatch"),
        )
        codedeploy.create_application(applicationName=names.application_name, computePlatform="ECS")
        ssm = self.client(region, "ssm")
        ssm.put_parameter(Name="/pipeline/prod/shared/LOG_LEVEL", Value="warn", Type="String")
        for m in self.config.microservices:
            service = names.service(m.name)
            repository = service.image_repository.split("/", 1)[1]
            self.ecr[region].create_repository(repositoryName=repository)
            self.ecr[region].put_image(
                repositoryName=repository, imageManifest=MANIFEST, imageTag="v1"
            )
            td = self.register(region, m.name)
            if region == WEST:
                self.baseline[m.name] = td
            ecs.create_service(
                cluster=names.cluster_name, serviceName=service.service_name,
                taskDefinition=td, desiredCount=count,
            )  # fmt: skip
            # moto starts no tasks: an update with the count reports them running
            ecs.update_service(
                cluster=names.cluster_name, service=service.service_name, desiredCount=count
            )
            groups = []
            for group in (service.target_group_names.blue, service.target_group_names.green):
                groups.append(
                    elb.create_target_group(
                        Name=group, Protocol="HTTP", Port=m.port, VpcId=vpc, TargetType="ip"
                    )["TargetGroups"][0]["TargetGroupArn"]
                )
            elb.register_targets(
                TargetGroupArn=groups[0],
                Targets=[{"Id": f"10.0.1.{i + 10}", "Port": m.port} for i in range(count)],
            )
            codedeploy.create_deployment_group(
                applicationName=names.application_name,
                deploymentGroupName=service.deployment_group_name,
                serviceRoleArn="arn:aws:iam::444444444444:role/codedeploy",
                deploymentStyle={"deploymentType": "BLUE_GREEN",
                                 "deploymentOption": "WITH_TRAFFIC_CONTROL"},
                ecsServices=[{"serviceName": service.service_name,
                              "clusterName": names.cluster_name}],
            )  # fmt: skip
            alarms = service.alarm_names
            for alarm in alarms.deployment:
                cloudwatch.put_metric_alarm(
                    AlarmName=alarm, MetricName="RunningTaskCount", Namespace="ECS",
                    Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=1,
                    ComparisonOperator="LessThanThreshold",
                )  # fmt: skip
            cloudwatch.put_composite_alarm(
                AlarmName=alarms.health,
                AlarmRule=" OR ".join(f'ALARM("{a}")' for a in alarms.deployment),
            )
            for alarm in (*alarms.deployment, alarms.health):
                cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="test")
            ssm.put_parameter(
                Name=f"/pipeline/prod/{m.name}/RATE_LIMIT", Value="6000", Type="String"
            )
            ssm.put_parameter(
                Name=f"/pipeline/prod/{m.name}/JWT_SIGNING_KEY", Value=SECRET, Type="SecureString"
            )

    def reset(self) -> None:
        """The DR region as ``_build`` left it, whatever a test changed there."""
        names = self.scopes[WEST].names
        ecs, cloudwatch = self.client(WEST, "ecs"), self.client(WEST, "cloudwatch")
        for m in self.config.microservices:
            service = names.service(m.name)
            repository = service.image_repository.split("/", 1)[1]
            try:
                self.ecr[WEST].put_image(
                    repositoryName=repository, imageManifest=MANIFEST, imageTag="v1"
                )
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "ImageAlreadyExistsException"
            ecs.update_service(
                cluster=names.cluster_name, service=service.service_name,
                taskDefinition=self.baseline[m.name], desiredCount=self.env.running_count(WEST),
            )  # fmt: skip
            self.client(WEST, "ssm").put_parameter(
                Name=f"/pipeline/prod/{m.name}/JWT_SIGNING_KEY", Value=SECRET,
                Type="SecureString", Overwrite=True,
            )  # fmt: skip
            for alarm in (*service.alarm_names.deployment, service.alarm_names.health):
                cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="test")
        # CodeDeploy in moto has no StopDeployment: the deployments a test created end here
        from moto.codedeploy.models import codedeploy_backends

        backend = codedeploy_backends[self.env.account_id][WEST]
        for deployment in backend.deployments.values():
            deployment.status = "Succeeded"

    def register(self, region: str, microservice: str, **changes: Any) -> str:
        """A task definition of the service as the pipeline registers it (``changes``: of
        its container)."""
        service = self.scopes[region].names.service(microservice)
        container = {
            "name": service.container_name,
            "image": f"{service.image_repository}:v1",
            "environment": [{"name": "PORT", "value": "8080"}],
            "secrets": [{"name": "JWT_SIGNING_KEY",
                         "valueFrom": f"{service.parameter_arn_base}/JWT_SIGNING_KEY"}],
            "portMappings": [{"containerPort": 8080}],
            "healthCheck": {"command": ["CMD", "true"], "interval": 10},
            **changes,
        }  # fmt: skip
        return str(
            self.client(region, "ecs").register_task_definition(
                family=service.family, cpu="512", memory="1024",
                networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                containerDefinitions=[container],
            )["taskDefinition"]["taskDefinitionArn"]
        )  # fmt: skip

    def sources(
        self,
        primary: Callable[[str], Any] | None = None,
        replica: Callable[[], state_replica.ReplicaCheck] | None = None,
    ) -> dr.Sources:
        return dr.Sources(
            primary=primary or self.scopes[EAST].client,
            dr=self.scopes[WEST].client,
            delivery_ecr=self.ecr.__getitem__,
            route53=lambda: self.factory.client("route53", EAST),
            primary_names=self.scopes[EAST].names,
            dr_names=self.scopes[WEST].names,
            state_replica=replica,
        )

    def status(self, primary: Callable[[str], Any] | None = None) -> dr.Status:
        return dr.status(self.sources(primary), self.config, self.env)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world for the module (building it, and botocore's models for each new client
    factory, cost seconds a test); ``world`` puts back what each test breaks."""
    with pytest.MonkeyPatch.context() as patch:
        for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            patch.delenv(key, raising=False)
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": EAST,
            # No instance starts: without moto's thousands of default AMIs each region's
            # EC2 backend is made in milliseconds, not half a second.
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
        }.items():
            patch.setenv(key, value)
        # moto stores composite alarms but does not route PutCompositeAlarm: the
        # emulator's patch routes it (the runtime stack makes each health alarm with it).
        cloudwatch_composite_alarm.apply()
        envs = copy.deepcopy(BASE_ENVS)
        envs["prod"]["regions"][1]["standby_count"] = 1
        # two microservices of the sample's three: rows per service, at two thirds the cost
        project = copy.deepcopy(BASE_PROJECT)
        project["microservices"] = project["microservices"][:2]
        root = write_tree(tmp_path_factory.mktemp("dr"), project, envs)
        with mock_aws():
            yield World(root, ClientFactory(Target(AWS)))


@pytest.fixture
def world(built: World) -> Iterator[World]:
    yield built
    built.reset()


def gaps(found: dr.Status) -> dict[tuple[str, str], str]:
    return {(c.service, c.check): c.detail for c in found.checks if c.status == dr.GAP}


API = "api-service"


def test_ready_when_the_dr_region_matches_production(world: World) -> None:
    found = world.status()
    assert gaps(found) == {}
    assert found.ready
    by_check = {(c.service, c.check): c for c in found.checks}
    assert by_check[(API, "capacity")].detail == (
        "running 1, desired 1, standby 1; 1 healthy targets"
    )
    assert by_check[(API, "image")].status == dr.OK
    assert by_check[("(environment)", "state replica")].status == dr.SKIPPED  # not asked
    assert by_check[("(environment)", "health checks")].status == dr.SKIPPED


def test_an_image_missing_in_the_dr_region_is_a_gap(world: World) -> None:
    repository = world.scopes[WEST].names.service(API).image_repository.split("/", 1)[1]
    world.ecr[WEST].batch_delete_image(repositoryName=repository, imageIds=[{"imageTag": "v1"}])
    found = world.status()
    assert set(gaps(found)) == {(API, "image"), (API, "task definition")}
    assert "is not in" in gaps(found)[(API, "image")]
    fix = next(c.fix for c in found.checks if c.check == "image" and c.service == API)
    assert fix is not None and "ECR replication" in fix


def test_task_definition_drift_is_a_gap_naming_the_setting(world: World) -> None:
    names = world.scopes[WEST].names
    td = world.register(WEST, API, environment=[{"name": "PORT", "value": "9090"}])
    world.client(WEST, "ecs").update_service(
        cluster=names.cluster_name, service=names.service(API).service_name, taskDefinition=td
    )
    found = world.status()
    assert set(gaps(found)) == {(API, "task definition")}
    assert gaps(found)[(API, "task definition")].endswith("differs from the primary's: environment")


def test_a_parameter_mismatch_is_a_gap_that_never_shows_the_value(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.client(WEST, "ssm").put_parameter(
        Name=f"/pipeline/prod/{API}/JWT_SIGNING_KEY", Value="stale-dr-value",
        Type="SecureString", Overwrite=True,
    )  # fmt: skip
    found = world.status()
    assert gaps(found) == {
        (API, "parameters"): f"/pipeline/prod/{API}/: values differ: JWT_SIGNING_KEY"
    }
    document = json.dumps(found.to_json()) + found.to_text()
    assert SECRET not in document and "stale-dr-value" not in document


def test_a_dr_service_below_its_standby_count_is_a_gap(world: World) -> None:
    names = world.scopes[WEST].names
    world.client(WEST, "ecs").update_service(
        cluster=names.cluster_name, service=names.service(API).service_name, desiredCount=0
    )
    found = world.status()
    assert gaps(found) == {(API, "capacity"): "running 0, desired 0, standby 1; 1 healthy targets"}
    fix = next(c.fix for c in found.checks if c.check == "capacity" and c.service == API)
    assert fix == "deployer apply prod --region us-west-2"


def test_a_deployment_in_flight_is_a_gap(world: World) -> None:
    names = world.scopes[WEST].names
    deployment = world.client(WEST, "codedeploy").create_deployment(
        applicationName=names.application_name,
        deploymentGroupName=names.service(API).deployment_group_name,
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": "{}"}},
    )["deploymentId"]
    found = world.status()
    assert gaps(found) == {(API, "deployment"): f"{deployment} in flight"}


def test_an_alarm_in_alarm_is_a_gap(world: World) -> None:
    alarm = world.scopes[WEST].names.service(API).alarm_names.unhealthy_targets
    world.client(WEST, "cloudwatch").set_alarm_state(
        AlarmName=alarm, StateValue="ALARM", StateReason="test"
    )
    assert gaps(world.status()) == {(API, "alarms"): f"{alarm} ALARM"}


def _unreachable(error: Exception) -> Callable[[str], Any]:
    """Clients of a primary region whose API fails every call with ``error``."""

    factory = ClientFactory(Target(AWS))

    def fail(**_: Any) -> None:
        raise error

    def client(service: str) -> Any:
        made = factory.client(service, EAST)
        made.meta.events.register("before-call.*", fail, unique_id="unreachable")
        return made

    return client


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://ecs.us-east-1.amazonaws.com/"),
        ClientError(
            {"Error": {"Code": "ServiceUnavailable", "Message": "Service Unavailable"},
             "ResponseMetadata": {"HTTPStatusCode": 503}},
            "DescribeServices",
        ),
    ],
    ids=["connection", "5xx"],
)  # fmt: skip
def test_a_primary_that_does_not_answer_still_gives_the_dr_checks(
    world: World, error: Exception
) -> None:
    names = world.scopes[WEST].names
    world.client(WEST, "ecs").update_service(
        cluster=names.cluster_name, service=names.service(API).service_name, desiredCount=0
    )
    found = world.status(_unreachable(error))
    by_check = {(c.service, c.check): c for c in found.checks}
    for check in ("image", "task definition", "parameters"):
        assert by_check[(API, check)].status == dr.UNKNOWN
        assert "in the primary region failed" in by_check[(API, check)].detail
    # the DR side's own checks still ran, and still find their gap
    assert gaps(found) == {(API, "capacity"): "running 0, desired 0, standby 1; 1 healthy targets"}
    assert by_check[(API, "alarms")].status == dr.OK


def test_the_command_exits_1_with_the_gaps_in_json(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    alarm = world.scopes[WEST].names.service(API).alarm_names.health
    world.client(WEST, "cloudwatch").set_alarm_state(
        AlarmName=alarm, StateValue="ALARM", StateReason="test"
    )
    monkeypatch.setenv("DEPLOYER_PROJECT_DIR", str(world.config.root))
    monkeypatch.setenv("DEPLOYER_TARGET", "aws")
    assert cli.main(["dr", "status", "prod", "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["ready"] is False
    # and the state replica: nothing has set it up in this world (no apply ran)
    assert [(g["service"], g["check"]) for g in document["gaps"]] == [
        (API, "alarms"), ("(environment)", "state replica")
    ]  # fmt: skip
    (replica,) = [g for g in document["gaps"] if g["check"] == "state replica"]
    assert replica["fix"].startswith("deployer apply delivery")


@pytest.mark.parametrize(
    ("environment", "message"),
    [("staging", "nothing to fail over to"), ("nosuch", "unknown environment 'nosuch'")],
)
def test_usage_errors_exit_2(
    environment: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["dr", "status", environment]) == 2
    assert message in capsys.readouterr().err


def test_with_dns_route53s_view_of_each_failover_record_is_reported(world: World) -> None:
    env = replace(world.env, dns=Dns("example.com"))
    route53 = world.factory.client("route53", EAST)
    zone = route53.create_hosted_zone(Name="example.com", CallerReference="dr-status")
    changes = []
    for region, failover in ((EAST, "PRIMARY"), (WEST, "SECONDARY")):
        check = route53.create_health_check(
            CallerReference=f"api-{region}",
            HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": f"alb.{region}.test",
                               "Port": 443, "ResourcePath": "/health"},
        )["HealthCheck"]["Id"]  # fmt: skip
        if failover == "PRIMARY":  # its endpoint and the traffic switch, both healthy
            calculated = route53.create_health_check(
                CallerReference="api-primary-calculated",
                HealthCheckConfig={"Type": "CALCULATED", "HealthThreshold": 1,
                                   "ChildHealthChecks": [check]},
            )["HealthCheck"]["Id"]  # fmt: skip
            check = calculated
        changes.append(
            {"Action": "CREATE", "ResourceRecordSet": {
                "Name": f"{API}.example.com", "Type": "A", "SetIdentifier": region,
                "Failover": failover, "HealthCheckId": check, "TTL": 60,
                "ResourceRecords": [{"Value": "192.0.2.1"}]}}
        )  # fmt: skip
    route53.change_resource_record_sets(
        HostedZoneId=zone["HostedZone"]["Id"], ChangeBatch={"Changes": changes}
    )
    found = dr.status(world.sources(), world.config, env)
    by_check = {(c.service, c.check): c for c in found.checks}
    assert by_check[(API, "health checks")].status == dr.OK
    assert f"{WEST} (SECONDARY): 1/1 checkers healthy" in by_check[(API, "health checks")].detail
    # the primary's calculated check has no status of its own: its children's
    assert (
        f"{EAST} (PRIMARY): calculated, 1 of 1 healthy (1/1 checkers healthy)"
        in by_check[(API, "health checks")].detail
    )
    # the second service has no failover name yet: a gap, fixed by applying prod
    other = world.config.microservices[1].name
    assert gaps(found) == {
        (other, "health checks"): f"no failover records for {other}.example.com."
    }


def test_a_dr_region_that_does_not_answer_is_a_gap_not_a_traceback(world: World) -> None:
    sources = replace(
        world.sources(),
        dr=_unreachable(
            EndpointConnectionError(endpoint_url="https://ecs.us-west-2.amazonaws.com/")
        ),
    )
    found = dr.status(sources, world.config, world.env)
    assert not found.ready
    assert {check for (_, check) in gaps(found)} == {"dr region"}
    assert len(gaps(found)) == len(world.config.microservices) + 1


@pytest.mark.usefixtures("faithful_replication")
def test_the_state_replica_row_is_state_replicas_check(world: World) -> None:
    """dr status asks deployer/state_replica.py: current once the replica is set up and
    holds each workspace's newest state; a gap, with its fix, when a state was never
    copied (in-process moto replicates nothing: the engine is the emulator's)."""
    target = Target(AWS)
    workspaces = [Workspace(world.env.stack, world.env.name, r.name) for r in world.env.regions]

    def row() -> dr.Check:
        replica = lambda: state_replica.check(world.config, world.factory, target, workspaces)  # noqa: E731
        found = dr.status(world.sources(replica=replica), world.config, world.env)
        (check,) = [c for c in found.checks if c.check == "state replica"]
        return check

    state.ensure_bucket(world.config, world.factory, target, lambda _: None)
    assert state_replica.ensure(world.config, world.factory, target, lambda _: None)
    current = row()
    assert current.status == dr.OK, current
    replica = state_replica.replica_of(world.config)
    assert replica is not None
    s3 = world.factory.client("s3", replica.source_region)
    key = f"workspaces/{workspaces[0].name}/{world.env.stack}.tfstate"
    s3.put_object(Bucket=replica.source_bucket, Key=key, Body=b"{}", ServerSideEncryption="AES256")
    behind = row()
    assert behind.status == dr.GAP and behind.fix, behind
    assert behind.detail == f"{workspaces[0].name}: the replica has no copy", behind
    s3.delete_object(Bucket=replica.source_bucket, Key=key)
