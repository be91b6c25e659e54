"""Names that fail over (dns.zone) on the emulator: the delivery stack's zone and role, one
production region's failover names, and what a user reaches there (tftest + boto3 + DNS + TLS).

The sample configuration has no ``dns`` (the CI's e2e tests apply it), so prod gets
``dns.zone`` here in memory. One region is applied, prod's primary: the DR region's
workspace differs only in ``SECONDARY`` without the traffic switch (the module tests
check that), and each full runtime apply is about two CPU-minutes of CI's budget; for the
same reason the configuration has one microservice, api-service. The
primary's apply also makes the traffic switch: its alarm in the DR region, in the zone's
account, and per service the calculated check the PRIMARY record is answered on; that
the switch moves users needs healthy endpoints in both regions, which no task here
serves: the DR e2e's. The delivery stack is applied
with ``-target=module.dns_zone`` only (the zone and its role): the rest of it is
test_delivery_stack's, and ECR repositories would put registry names in /etc/hosts.

Route 53's DNS server and the load balancers' listeners are engines of an emulator with
its runtime (``deployer/emulator/engines/__init__.py``), so this module starts one of
its own: no Docker is needed (no task runs; the registry starts and is never used),
and the listeners serve TLS and redirects without targets. Nothing is destroyed: that
emulator, and all it holds, goes with the module (destroying both workspaces cost
78 of the test's 264 s, most of it the provider waiting 10-30 s before it asks whether
a Route 53 change is in sync; the runtime stack's destroy is test_runtime_stack's).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rdatatype
import pytest

from deployer.aws import LOCAL, Target
from deployer.config import Config, Dns
from deployer.emulator import ADDRESS_ENV, Emulator, EmulatorStatus
from deployer.names import (
    TRAFFIC_SWITCH_DIMENSION,
    TRAFFIC_SWITCH_METRIC,
    TRAFFIC_SWITCH_NAMESPACE,
    traffic_switch_alarm,
)
from deployer.tfvars import dns_role_arn
from deployer.toolchain import Toolchain
from tests import policies
from tests.integration.stacks import config, stack_run, with_services

pytestmark = pytest.mark.integration

ZONE = "shop.example.com"
#: api-service alone: a name, a certificate and a record a microservice, the same for each
#: (each adds about 25 resources to the runtime apply).
BASE = with_services(config(), "api-service")
CFG: Config = replace(
    BASE,
    environments={
        **BASE.environments,
        "prod": replace(BASE.environments["prod"], dns=Dns(ZONE)),
    },
)
PROD = CFG.environment("prod")
REGION = PROD.primary_region
DELIVERY = CFG.delivery
SERVICE = "api-service"
NAME = f"{SERVICE}.{ZONE}"


@pytest.fixture(scope="module")
def runtime_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorStatus]:
    """An emulator with its runtime: the route53-dns and elb-listeners engines run. Its
    registry (never used here: no repository is made) listens on a port of its own, so
    127.0.0.1:80, which the runtime tests' registries take turns on, stays free."""
    emulator = Emulator(tmp_path_factory.mktemp("dns-emulator"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ADDRESS_ENV, "127.0.0.1:0")
        status = emulator.start(runtime=True)
    try:
        assert status.runtime is not None and status.runtime.get("registry"), (
            f"the emulator's runtime is down ({status.runtime}): its engines do not run"
        )
        yield status
    finally:
        emulator.stop()


def _control(status: EmulatorStatus, path: str) -> Any:
    with urllib.request.urlopen(f"{status.endpoint}/_deployer/{path}", timeout=30) as answer:
        return json.loads(answer.read())


def _query_a(server: tuple[str, int], name: str) -> list[str]:
    query = dns.message.make_query(name, dns.rdatatype.A)
    answer = dns.query.udp(query, server[0], port=server[1], timeout=5)
    return [item.address for rrset in answer.answer for item in rrset]


def _own_address(runtime: dict[str, Any], dns_name: str, port: int) -> str:
    listeners = runtime["elb-listeners"]["listeners"]
    (found,) = [
        listener["own_address"]
        for listener in listeners.values()
        if listener["dns_name"].lower() == dns_name.lower() and listener["port"] == port
    ]
    assert found, f"the load balancer {dns_name} has no address of its own: {listeners}"
    host, _, _ = str(found).rpartition(":")
    return host


def test_names_fail_over_and_answer_https(
    runtime_emulator: EmulatorStatus,
    toolchain: Toolchain,
    terraform_binary: str,
    tmp_path: Path,
) -> None:
    target = Target(LOCAL, runtime_emulator.endpoint)
    tf_env = {**target.environ(), **toolchain.environ(), "AWS_REGION": "us-east-1"}
    common = {"target": target, "tf_env": tf_env, "terraform_binary": terraform_binary}
    delivery = stack_run(
        CFG, DELIVERY.name, DELIVERY.primary_region, work_dir=tmp_path / "delivery", **common
    )
    zone_only = ["module.dns_zone"]
    delivery.tf.apply(tf_var_file=str(delivery.var_file), targets=zone_only)

    # -- the zone and its role, in the delivery account ------------------------------
    route53 = delivery.client("route53")
    zones = route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"]
    (zone,) = [z for z in zones if z["Name"] == f"{ZONE}."]
    assert zone["Config"]["PrivateZone"] is False
    iam = delivery.client("iam")
    role_arn = dns_role_arn(CFG, PROD)
    role = iam.get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]
    assert role["Arn"] == role_arn  # the name deployer/tfvars.py gives the runtime side
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    (statement,) = trust["Statement"]
    deploy_role = f"arn:aws:iam::{PROD.account_id}:role/{PROD.deploy_role_name}"
    assert statement["Principal"]["AWS"] in (deploy_role, [deploy_role])

    # -- prod's primary region with names ---------------------------------------------
    runtime = stack_run(CFG, PROD.name, REGION, work_dir=tmp_path / "runtime", **common)
    out = runtime.apply()
    assert out["service_urls"] == {m.name: f"https://{m.name}.{ZONE}" for m in CFG.microservices}

    elb = runtime.client("elbv2")
    names = CFG.names.target(PROD.name, REGION).service(SERVICE)
    (alb,) = elb.describe_load_balancers(Names=[names.alb_name])["LoadBalancers"]
    listeners = {
        x["Port"]: x
        for x in elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    }
    assert sorted(listeners) == [80, 443, 8080]
    assert listeners[443]["Protocol"] == listeners[8080]["Protocol"] == "HTTPS"
    (redirect,) = listeners[80]["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    assert redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"

    acm = runtime.client("acm")
    (certificate_arn,) = {c["CertificateArn"] for c in listeners[443]["Certificates"]}
    certificate = acm.describe_certificate(CertificateArn=certificate_arn)["Certificate"]
    assert certificate["DomainName"] == NAME
    assert certificate["Status"] == "ISSUED"

    records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    (record,) = [r for r in records if r["Name"] == f"{NAME}." and r["Type"] == "A"]
    assert record["Failover"] == "PRIMARY" and record["SetIdentifier"] == REGION
    assert record["AliasTarget"]["DNSName"].rstrip(".").lower() == alb["DNSName"].lower()
    assert record["AliasTarget"]["EvaluateTargetHealth"] is False

    # -- the traffic switch: the PRIMARY is answered on (endpoint AND switch) ----------
    dr_region = PROD.regions[1].name
    alarm_name = traffic_switch_alarm(CFG.company, CFG.service, PROD.name)
    assert out["traffic_switch_alarm_name"] == alarm_name  # the name deployer/names.py gives
    cloudwatch = delivery.client("cloudwatch", dr_region)  # the zone's account, the DR region
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        TRAFFIC_SWITCH_NAMESPACE,
        TRAFFIC_SWITCH_METRIC,
    )
    assert alarm["Dimensions"] == [{"Name": TRAFFIC_SWITCH_DIMENSION, "Value": PROD.name}]
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "Maximum",
        "GreaterThanOrEqualToThreshold",
        1.0,
    )
    assert alarm["EvaluationPeriods"] == 1 and alarm["Period"] == PROD.alarms.period_seconds
    assert alarm["TreatMissingData"] == "ignore"
    serving = route53.get_health_check(HealthCheckId=record["HealthCheckId"])["HealthCheck"]
    assert serving["HealthCheckConfig"]["Type"] == "CALCULATED"
    assert serving["HealthCheckConfig"]["HealthThreshold"] == 2
    children = [
        route53.get_health_check(HealthCheckId=c)["HealthCheck"]["HealthCheckConfig"]
        for c in serving["HealthCheckConfig"]["ChildHealthChecks"]
    ]
    (switch,) = [c for c in children if c["Type"] == "CLOUDWATCH_METRIC"]
    assert switch["AlarmIdentifier"] == {"Region": dr_region, "Name": alarm_name}
    assert switch["InsufficientDataHealthStatus"] == "LastKnownStatus"
    (settings,) = [c for c in children if c["Type"] != "CLOUDWATCH_METRIC"]
    assert settings["Type"] == "HTTPS" and settings["Port"] == 443
    assert settings["FullyQualifiedDomainName"].lower() == alb["DNSName"].lower()
    assert settings["ResourcePath"] == "/health"
    validation = [r for r in records if r["Type"] == "CNAME" and r["Name"].endswith(f".{NAME}.")]
    assert len(validation) == 1, "one validation record a name"

    # -- where the name sends users: one DNS query, then HTTPS and the redirect ------
    state = _control(runtime_emulator, "runtime")["runtime"]
    server = (state["route53-dns"]["address"], state["route53-dns"]["port"])
    address = _own_address(state, alb["DNSName"], 443)
    assert _query_a(server, NAME) == [address]

    ca = _control(runtime_emulator, "ca")["certificate"]
    context = ssl.create_default_context(cadata=ca)
    with (
        socket.create_connection((address, 443), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=NAME) as tls,
    ):
        subject = dict(item[0] for item in tls.getpeercert()["subject"])
        assert subject["commonName"] == NAME
    plain = http.client.HTTPConnection(address, 80, timeout=10)
    plain.request("GET", "/health?probe=1", headers={"Host": NAME})
    answer = plain.getresponse()
    assert answer.status == 301
    assert answer.getheader("Location") == f"https://{NAME}/health?probe=1"
    plain.close()

    # -- every policy document obeys the IAM rule; re-plans are empty -----------------
    plan = runtime.plan()
    assert runtime.changes(plan) == [], "re-plan after apply must show no changes"
    zone_plan = delivery.tf.plan(
        output=True, tf_var_file=str(delivery.var_file), targets=zone_only
    )._raw
    count, problems = policies.audit(dict(zone_plan))
    assert count >= 2 and problems == [], "\n".join(problems)
    assert delivery.changes(dict(zone_plan)) == []
