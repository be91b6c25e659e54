"""Disaster recovery on the local target (issue 15's e2e): prod in both regions with names
that fail over, a region-outage drill, and `dr failover` while us-east-1 is down.

A copy of the project with one microservice (api-service: one load balancer, one name a
region; the DR path does not change with more), prod with ``dns.zone``, its target group
health checks at AWS's minimums, no termination wait, one NAT gateway, two tasks where it
serves and one standing by. At time scale 10, as the pipeline's e2e: Route 53's endpoint
checks (the runtime stack's: every 30 s, three failures; modules/dns-failover) then take
9 real seconds to fail a region, the traffic switch's alarm period (60 s) 6.

* `deployer apply prod` refuses without `--auto-approve` and no terminal; with it, the
  delivery stack first (the zone, ECR, the pipeline), then both regions, both planned
  before either applies (each service's bootstrap image); with the DR region's state
  locked by another run, `deployer plan prod` plans the primary and fails there alone
  (exit 4), and `deployer unlock` frees it; `deployer dr status prod` is ready (polled:
  the alarms leave INSUFFICIENT_DATA within a period or two);
* `deployer drill region-outage prod --json`: a client resolving the name through the
  emulator's DNS server and sending HTTPS requests counts the failures in each step; the
  time until the name answers us-west-2 and requests succeed is within the health checks'
  threshold (interval x failure threshold) plus 10 s with the health checks alone, and
  within the switch's (its alarm's period and the calculated check's next evaluation)
  plus 10 s with `dr failover`; the drill leaves the primary serving;
* `deployer emulator region down us-east-1`, `deployer dr failover prod` succeeds with the
  steps there pending; the region back, the command again completes them, and
  `deployer plan prod` is empty; `deployer dr failback prod`, and `plan` is empty again;
* `dr status` names the gap, with its fix, when the DR region's copy of a parameter
  differs, when its service is below its standby count, and when production's image is
  not in its ECR (issue 15's three cases).
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deployer.config import Config
from deployer.names import (
    TRAFFIC_SWITCH_DIMENSION,
    TRAFFIC_SWITCH_METRIC,
    TRAFFIC_SWITCH_NAMESPACE,
    traffic_switch_alarm,
)
from deployer.tfvars import dns_role_arn
from tests.e2e.conftest import DeployerCLI, project_with

from .conftest import Local
from .pipeline_e2e import CALCULATED_EVERY_S, deployer_on, dr_prod, own_registry_names
from .pipeline_e2e import DR_SERVICE as SERVICE
from .pipeline_e2e import DR_SLACK_S as SLACK_S
from .pipeline_e2e import DR_ZONE as ZONE

TIME_SCALE = 10.0
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.time_scale(TIME_SCALE),
    # Registry names of its own (company and accounts below): it runs beside the tests
    # that take turns on the shared lock, as the pipeline's e2e does.
    pytest.mark.registry_names("region-outage"),
]
#: This test's own company and account IDs (the pipeline's e2e has 17..., the others the
#: sample's): registry host names, load balancer names and buckets of its own.
COMPANY = "orca"
ACCOUNTS = {
    "111111111111": "181818181818",
    "222222222222": "282828282828",
    "333333333333": "383838383838",
    "444444444444": "484848484848",
}

PRIMARY, DR = "us-east-1", "us-west-2"


@pytest.fixture
def project(registry_emulator: Local, tmp_path: Path) -> Iterator[tuple[DeployerCLI, Config]]:
    root = project_with(tmp_path / "project", (SERVICE,))

    def dr_knobs(stem: str, document: dict[str, Any]) -> None:
        if stem == "prod":
            dr_prod(document)

    own_registry_names(root / "environments", COMPANY, ACCOUNTS, dr_knobs)
    with deployer_on(registry_emulator, root) as both:
        yield both


def _run(cli: DeployerCLI, *args: str, ok: bool = True, timeout: float = 900) -> Any:
    done = cli(*args, timeout=timeout)
    if ok:
        assert done.returncode == 0, f"deployer {' '.join(args)}: {done.stderr[-4000:]}"
    return done


def _plan_changes(cli: DeployerCLI) -> str | None:
    """What `deployer plan prod --detailed-exitcode` would change (None: nothing)."""
    plan = cli("plan", "prod", "--detailed-exitcode", "-v", timeout=900)
    if plan.returncode == 0:
        return None
    changes = [
        line
        for line in plan.stderr.splitlines()
        if any(f" {action} " in line for action in ("update", "create", "delete", "replace"))
    ]
    return "\n".join(changes[-150:]) + plan.stdout[-2000:]


def _ready(cli: DeployerCLI, timeout: float) -> dict[str, Any]:
    """`deployer dr status prod --json` once it is ready; its gaps after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        done = cli("dr", "status", "prod", "--json", timeout=300)
        document = json.loads(done.stdout)
        if done.returncode == 0 or time.monotonic() > deadline:
            assert done.returncode == 0, json.dumps(document["gaps"], indent=1)
            return dict(document)
        time.sleep(3)


def _health_check_settings(local: Local, config: Config) -> tuple[int, int, int]:
    """The PRIMARY record's endpoint check (RequestInterval, FailureThreshold) and the
    traffic switch's alarm period, as Route 53 and CloudWatch hold them."""
    delivery = config.delivery.account_id
    route53 = local.client("route53", delivery)
    checks = route53.list_health_checks()["HealthChecks"]
    endpoints = [
        c["HealthCheckConfig"]
        for c in checks
        if c["HealthCheckConfig"]["Type"] in ("HTTPS", "HTTP", "HTTPS_STR_MATCH")
    ]
    assert endpoints, checks
    interval = max(int(c["RequestInterval"]) for c in endpoints)
    threshold = max(int(c["FailureThreshold"]) for c in endpoints)
    alarm = traffic_switch_alarm(config.company, config.service, "prod")
    (switch,) = local.client("cloudwatch", delivery, DR).describe_alarms(AlarmNames=[alarm])[
        "MetricAlarms"
    ]
    return interval, threshold, int(switch["Period"])


def test_region_outage(
    registry_emulator: Local, project: tuple[DeployerCLI, Config], python_base: str
) -> None:
    cli, config = project
    local = registry_emulator
    started = time.monotonic()

    def phase(name: str) -> None:  # where the time goes (shown with -s, or on failure)
        print(f"{time.monotonic() - started:5.0f} s  {name}", flush=True)

    # prod asks before applying; without a terminal that means --auto-approve.
    unconfirmed = cli("apply", "prod")
    assert unconfirmed.returncode == 2, unconfirmed.stderr[-2000:]
    assert "applying to prod needs approval, and there is no terminal" in unconfirmed.stderr
    assert "terraform apply" not in unconfirmed.stderr
    done = _run(cli, "apply", "prod", "--auto-approve", "--json", timeout=1500)
    applied = done.json()
    assert [(r["region"], r["status"]) for r in applied["regions"]] == [
        (PRIMARY, "applied"), (DR, "applied")
    ], applied  # fmt: skip
    # Progress per region, interleaved: both regions were planned before either applied.
    lines = [line for line in done.stderr.splitlines() if line.startswith("[prod-")]
    plans = [i for i, line in enumerate(lines) if line.endswith("terraform plan")]
    applies = [i for i, line in enumerate(lines) if "terraform apply (saved plan)" in line]
    assert len(plans) == 2 and len(applies) == 2 and max(plans) < min(applies), lines
    assert any(line.startswith(f"[prod-{DR}]   created ") for line in lines)
    phase("applied (delivery first, prod in both regions)")
    _partial_failure(local, config, cli, applied["run_id"])
    phase("a region locked: plan fails there alone")
    _check_names(local, config)
    phase("the names, records, health checks and the traffic switch as applied")
    status = _ready(cli, 300)
    assert status["serving_region"] == PRIMARY
    phase("dr status ready")

    # -- the drill ----------------------------------------------------------------------
    done = _run(cli, "drill", "region-outage", "prod", "--json", "--timeout", "180", ok=False)
    drill = json.loads(done.stdout)
    steps = "\n".join(
        f"{s['at']:7.1f} {s['seconds']:6.1f} {s['name']:18} {s['status']:7} "
        f"{s['requests']} {s['detail'][:200]}"
        for s in drill["steps"]
    )
    assert done.returncode == 0 and drill["ok"], f"{steps}\n{done.stderr[-3000:]}"
    operations = "\n".join(
        f"  {o['operation']}: "
        + ", ".join(f"{t['name']} {t['region']} {t['status']} {t['seconds']} s" for t in o["steps"])
        for o in drill["operations"]
    )
    phase(f"drill done\n{steps}\n{operations}")
    names = [s["name"] for s in drill["steps"]]
    assert names[:4] == ["readiness", "baseline", "region down", "health checks"], names
    assert names[-2:] == ["dr failback", "primary back"], names
    by_name = {s["name"]: s for s in drill["steps"]}
    # Users saw the outage (requests failed after the region went down) and the recovery.
    assert drill["requests"]["failed"] > 0, steps
    assert by_name["baseline"]["requests"]["answered_by"].get(PRIMARY, 0) > 0, steps
    assert drill["steps"][-1]["requests"]["answered_by"].get(PRIMARY, 0) > 0, steps

    interval, threshold, period = _health_check_settings(local, config)
    health_checks = interval * threshold / TIME_SCALE + SLACK_S
    switch = (period + CALCULATED_EVERY_S) / TIME_SCALE + SLACK_S
    assert drill["health_check_recovery_seconds"] <= health_checks, steps
    assert drill["failover_recovery_seconds"] <= switch, steps
    print(
        f"recovery: health checks alone {drill['health_check_recovery_seconds']} s "
        f"(bound {health_checks:.1f}), with dr failover {drill['failover_recovery_seconds']} s "
        f"(bound {switch:.1f}); the command's own {drill['command_recovery_seconds']} s"
    )

    # -- dr failover with us-east-1 down; plan empty after it and after failback ----------
    _run(cli, "emulator", "region", "down", PRIMARY)
    try:
        over = _run(cli, "dr", "failover", "prod", "--json", "--timeout", "180").json()
        assert over["to_region"] == DR and not over["failed"] and not over["refused"], over
        assert over["recovery_seconds"] is not None, over
        assert any(p.endswith(f"in {PRIMARY}") for p in over["pending"]), over
    finally:
        _run(cli, "emulator", "region", "up", PRIMARY)
    phase("dr failover with us-east-1 down")
    again = _run(cli, "dr", "failover", "prod", "--json", "--timeout", "180").json()
    assert again["resumed"] and again["complete"], again
    after_failover = _plan_changes(cli)
    phase("plan after failover")
    back = _run(cli, "dr", "failback", "prod", "--json", "--timeout", "180").json()
    assert back["complete"], back
    after_failback = _plan_changes(cli)
    phase("plan after failback")
    assert (after_failover, after_failback) == (None, None), (
        f"plan after failover:\n{after_failover}\nplan after failback:\n{after_failback}"
    )

    # -- dr status names the gap: a parameter, the capacity, the image ------------------
    _gaps_named(local, config, cli)
    phase("dr status: the three gaps named")


def _check_names(local: Local, config: Config) -> None:
    """What the stacks made of ``dns.zone``, as AWS's APIs describe it: the public zone and
    its role (trusting prod's deploy role only) in the delivery account; per region the
    load balancer's HTTPS listeners with the name's certificate, ISSUED, and HTTP
    redirecting to HTTPS (301), asked on its own address; the name's failover records,
    PRIMARY on a calculated check of the endpoint's HTTPS check and the traffic switch's
    alarm check, SECONDARY on its endpoint check; the switch's alarm in the DR region."""
    prod = config.environment("prod")
    delivery = config.delivery.account_id
    name = f"{SERVICE}.{ZONE}"
    route53 = local.client("route53", delivery)
    (zone,) = [
        z for z in route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"]
        if z["Name"] == f"{ZONE}."
    ]  # fmt: skip
    assert zone["Config"]["PrivateZone"] is False
    role_arn = dns_role_arn(config, prod)
    role = local.client("iam", delivery).get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]
    trust = role["AssumeRolePolicyDocument"]
    (statement,) = (json.loads(trust) if isinstance(trust, str) else trust)["Statement"]
    deploy_role = f"arn:aws:iam::{prod.account_id}:role/{prod.deploy_role_name}"
    assert statement["Principal"]["AWS"] in (deploy_role, [deploy_role]), statement
    records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    by_region = {r["SetIdentifier"]: r for r in records
                 if r["Name"] == f"{name}." and r["Type"] == "A"}  # fmt: skip
    assert set(by_region) == {PRIMARY, DR}, records
    validation = [r for r in records if r["Type"] == "CNAME" and r["Name"].endswith(f".{name}.")]
    assert len(validation) == 1, "one validation record a name"
    with urllib.request.urlopen(f"{local.status.endpoint}/_deployer/runtime", timeout=30) as got:
        listeners = json.loads(got.read())["runtime"]["elb-listeners"]["listeners"].values()
    alarm = traffic_switch_alarm(config.company, config.service, "prod")
    for region, failover in ((PRIMARY, "PRIMARY"), (DR, "SECONDARY")):
        elb = local.client("elbv2", prod.account_id, region)
        alb_name = config.names.service("prod", region, SERVICE).alb_name
        (alb,) = elb.describe_load_balancers(Names=[alb_name])["LoadBalancers"]
        ports = {
            x["Port"]: x
            for x in elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
        }
        assert sorted(ports) == [80, 443, 8080], region
        assert ports[443]["Protocol"] == ports[8080]["Protocol"] == "HTTPS", region
        (redirect,) = ports[80]["DefaultActions"]
        assert redirect["RedirectConfig"]["Protocol"] == "HTTPS", redirect
        assert redirect["RedirectConfig"]["StatusCode"] == "HTTP_301", redirect
        (certificate_arn,) = {c["CertificateArn"] for c in ports[443]["Certificates"]}
        certificate = local.client("acm", prod.account_id, region).describe_certificate(
            CertificateArn=certificate_arn
        )["Certificate"]
        assert (certificate["DomainName"], certificate["Status"]) == (name, "ISSUED"), region
        (own,) = [
            x["own_address"] for x in listeners
            if x["dns_name"].lower() == alb["DNSName"].lower() and x["port"] == 80
        ]  # fmt: skip
        plain = http.client.HTTPConnection(str(own).rpartition(":")[0], 80, timeout=10)
        plain.request("GET", "/health?probe=1", headers={"Host": name})
        answer = plain.getresponse()
        assert (answer.status, answer.getheader("Location")) == (
            301, f"https://{name}/health?probe=1"
        ), region  # fmt: skip
        plain.close()
        record = by_region[region]
        assert record["Failover"] == failover, record
        assert record["AliasTarget"]["DNSName"].rstrip(".").lower() == alb["DNSName"].lower()
        assert record["AliasTarget"]["EvaluateTargetHealth"] is False
        check = route53.get_health_check(HealthCheckId=record["HealthCheckId"])["HealthCheck"]
        settings = check["HealthCheckConfig"]
        if failover == "PRIMARY":
            assert (settings["Type"], settings["HealthThreshold"]) == ("CALCULATED", 2)
            children = [
                route53.get_health_check(HealthCheckId=c)["HealthCheck"]["HealthCheckConfig"]
                for c in settings["ChildHealthChecks"]
            ]
            (switch,) = [c for c in children if c["Type"] == "CLOUDWATCH_METRIC"]
            assert switch["AlarmIdentifier"] == {"Region": DR, "Name": alarm}
            assert switch["InsufficientDataHealthStatus"] == "LastKnownStatus"
            (settings,) = [c for c in children if c["Type"] != "CLOUDWATCH_METRIC"]
        assert (settings["Type"], settings["Port"], settings["ResourcePath"]) == (
            "HTTPS", 443, "/health"
        ), region  # fmt: skip
        assert settings["FullyQualifiedDomainName"].lower() == alb["DNSName"].lower()
    (switch_alarm,) = local.client("cloudwatch", delivery, DR).describe_alarms(AlarmNames=[alarm])[
        "MetricAlarms"
    ]
    assert (switch_alarm["Namespace"], switch_alarm["MetricName"]) == (
        TRAFFIC_SWITCH_NAMESPACE, TRAFFIC_SWITCH_METRIC
    )  # fmt: skip
    assert switch_alarm["Dimensions"] == [{"Name": TRAFFIC_SWITCH_DIMENSION, "Value": "prod"}]
    decides = (switch_alarm[k] for k in ("Statistic", "ComparisonOperator", "Threshold"))
    assert tuple(decides) == ("Maximum", "GreaterThanOrEqualToThreshold", 1.0), switch_alarm
    assert switch_alarm["EvaluationPeriods"] == 1
    assert switch_alarm["Period"] == prod.alarms.period_seconds
    assert switch_alarm["TreatMissingData"] == "ignore"


def _partial_failure(local: Local, config: Config, cli: DeployerCLI, run_id: str) -> None:
    """The DR region's state locked (a run in progress there): the primary still plans, the
    DR region fails naming the holder, and the exit code says some regions failed (4);
    `deployer unlock` frees it."""
    bucket = config.names.delivery.state_bucket
    key = f"workspaces/prod-{DR}/runtime.tfstate"
    lock = {
        "ID": "aaaaaaaa-0000-0000-0000-000000000000", "Operation": "OperationTypeApply",
        "Who": "bob@ci", "Version": "1.11.4", "Created": "2026-11-22T01:00:00Z", "Info": "",
        "Path": f"{bucket}/{key}",
    }  # fmt: skip
    s3 = local.client("s3", config.delivery.account_id)
    s3.put_object(Bucket=bucket, Key=f"{key}.tflock", Body=json.dumps(lock).encode())
    partial = cli("plan", "prod", "--json", timeout=900)
    assert partial.returncode == 4, partial.stderr[-3000:]
    results = {r["region"]: r for r in partial.json()["regions"]}
    assert results[PRIMARY]["status"] == "no-changes", results[PRIMARY]
    assert results[DR]["status"] == "failed" and "locked by bob@ci" in results[DR]["error"]
    history = cli("history", "prod", "--json").json()
    (east_run,) = history["workspaces"][f"prod-{PRIMARY}"][:1]
    assert east_run["run_id"] == run_id and east_run["command"] == "apply", east_run
    unlocked = cli("unlock", "prod", "--region", DR, "--auto-approve")
    assert unlocked.returncode == 0, unlocked.stderr


def _gap_rows(cli: DeployerCLI) -> dict[tuple[str, str], dict[str, Any]]:
    """`deployer dr status prod --json`'s gaps (it must exit 1), by (service, check)."""
    done = cli("dr", "status", "prod", "--json", timeout=300)
    document = json.loads(done.stdout)
    assert done.returncode == 1 and not document["ready"], done.stdout[-3000:]
    return {(g["service"], g["check"]): g for g in document["gaps"]}


def _gaps_named(local: Local, config: Config, cli: DeployerCLI) -> None:
    """Issue 15's three gap cases, one at a time in the DR region: a parameter that differs
    from the primary's, a service below its standby count, production's image missing from
    its ECR. Each is named with its fix; the first two are put back."""
    prod = config.environment("prod")
    ssm = local.client("ssm", prod.account_id, DR)
    path = f"/pipeline/prod/{SERVICE}/"
    (parameter, *_) = [
        p for p in ssm.get_parameters_by_path(Path=path, WithDecryption=True)["Parameters"]
        if p["Type"] == "String"
    ]  # fmt: skip
    name, value = parameter["Name"], parameter["Value"]
    ssm.put_parameter(Name=name, Value=value + "-drifted", Type="String", Overwrite=True)
    try:
        gaps = _gap_rows(cli)
    finally:
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
    gap = gaps.get((SERVICE, "parameters"))
    assert gap and f"values differ: {name.removeprefix(path)}" in gap["detail"], gaps
    assert gap["fix"].startswith(f"deployer seed prod --region {DR}"), gap
    assert set(gaps) == {(SERVICE, "parameters")}, gaps  # the parameter alone

    ecs = local.client("ecs", prod.account_id, DR)
    cluster = config.names.target("prod", DR).cluster_name
    service = config.names.service("prod", DR, SERVICE).service_name
    ecs.update_service(cluster=cluster, service=service, desiredCount=0)
    try:
        gaps = _gap_rows(cli)
    finally:
        ecs.update_service(cluster=cluster, service=service, desiredCount=1)
    gap = gaps.get((SERVICE, "capacity"))
    assert gap and "desired 0, standby 1" in gap["detail"], gaps
    assert gap["fix"] == f"deployer apply prod --region {DR}", gap

    ecr = local.client("ecr", config.delivery.account_id, DR)
    repository = config.names.delivery.ecr_repository_names[SERVICE]
    image_ids = ecr.list_images(repositoryName=repository)["imageIds"]
    assert image_ids, f"nothing in {repository} in {DR}"
    ecr.batch_delete_image(repositoryName=repository, imageIds=image_ids)
    gaps = _gap_rows(cli)
    gap = gaps.get((SERVICE, "image"))
    assert gap and f"is not in {repository} in {DR}" in gap["detail"], gaps
    assert "ECR replication" in gap["fix"], gap
