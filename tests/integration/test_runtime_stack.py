"""The runtime stack, per environment and region, on the emulator (tftest + boto3).

Applies the stack exactly as the deployer configures it (S3 backend in the
delivery account, the environment's role and account), checks what the
specification asks for through boto3 in the environment's account, audits
every policy document, re-plans (no changes) and destroys. prod's DR region stands by
here at one task a service (``standby_count: 1``); a serving record of ``deployer dr
failover`` naming it makes its plan scale every service to prod's desired count.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import replace
from pathlib import Path

import pytest

from deployer.aws import Target
from tests import policies
from tests.integration import no_drift
from tests.integration.stacks import config, stack_run, with_services

pytestmark = pytest.mark.integration

_SAMPLE = config()
_PROD = _SAMPLE.environments["prod"]
CFG = replace(
    _SAMPLE,
    environments={
        **_SAMPLE.environments,
        "prod": replace(
            _PROD, regions=(_PROD.regions[0], replace(_PROD.regions[1], standby_count=1))
        ),
    },
)
#: One workspace of each shape the runtime stack takes: staging (one NAT gateway, a
#: secret, the blue/green drift checks below) and prod's DR region (a NAT gateway per AZ,
#: prod's sizing, the second region). The other two differ from these only in values:
#: dev-us-east-1 is applied, re-planned empty and destroyed by tests/e2e/test_operations.py,
#: prod-us-east-1 is applied and re-planned by the DR e2e (tests/runtime/
#: test_region_outage.py) and deployed to by the pipeline's e2e; each full apply here is
#: about two CPU-minutes of CI's budget.
WORKSPACES = [("staging", "us-east-1"), ("prod", "us-west-2")]
#: The configuration each is applied with: staging with every microservice; prod's DR
#: region with api-service alone (what it adds, the second region, prod's sizing and NAT
#: gateways, the standby count and the serving record, is per workspace, not per service;
#: each microservice adds about 25 resources to the apply).
CONFIGS = {"staging": CFG, "prod": with_services(CFG, "api-service")}
ALL_WORKSPACES = [
    (env.name, region.name)
    for env in CFG.environments.values()
    if env.stack == "runtime"
    for region in env.regions
]
assert set(WORKSPACES) <= set(ALL_WORKSPACES), (WORKSPACES, ALL_WORKSPACES)
DELIVERY = CFG.delivery


@pytest.mark.parametrize(("env_name", "region"), WORKSPACES, ids=lambda v: v)
def test_runtime_stack(
    env_name: str,
    region: str,
    target: Target,
    tf_env: dict[str, str],
    terraform_binary: str,
    tmp_path: Path,
    emulator_state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target_ = target
    cfg = CONFIGS[env_name]
    run = stack_run(
        cfg,
        env_name,
        region,
        target=target,
        tf_env=tf_env,
        terraform_binary=terraform_binary,
        work_dir=tmp_path,
    )
    env = run.env
    prefix = cfg.name_prefix(env.name)
    # What the modules create must carry the names the deployer computes (deployer.names,
    # held equal to modules/naming by the parity test): every name below comes from there.
    target = cfg.names.target(env.name, region)
    try:
        out = run.apply()
        vpc_id = out["vpc_id"]
        assert out["cluster_name"] == target.cluster_name
        assert out["codedeploy_application_name"] == target.application_name
        assert out["notifications_topic_arn"] == target.notifications_topic_arn
        assert out["deploy_guard_function_name"] == target.deploy_guard_name
        assert out["parameters_kms_alias_name"] == target.parameters_kms_alias
        assert out["deploy_role_arn"] == target.deploy_role_arn

        # -- network: the environment's own account, 3 AZs, private tasks ------------
        ec2 = run.client("ec2")
        (vpc,) = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
        assert vpc["OwnerId"] == env.account_id
        assert vpc["CidrBlock"] == env.region(region).cidr
        tags = {t["Key"]: t["Value"] for t in vpc["Tags"]}
        assert tags["Name"] == f"{prefix}-vpc" and tags["Environment"] == env.name
        private = ec2.describe_subnets(SubnetIds=out["private_subnet_ids"])["Subnets"]
        public = ec2.describe_subnets(SubnetIds=out["public_subnet_ids"])["Subnets"]
        assert len({s["AvailabilityZone"] for s in private}) == 3
        assert {s["AvailabilityZone"] for s in private} == {s["AvailabilityZone"] for s in public}
        assert all(s["AvailabilityZone"].startswith(region) for s in private)
        assert not any(s["MapPublicIpOnLaunch"] for s in private)
        network = ipaddress.ip_network(vpc["CidrBlock"])
        assert all(ipaddress.ip_network(s["CidrBlock"]).subnet_of(network) for s in private)
        nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        live = [n for n in nats["NatGateways"] if n["State"] in ("available", "pending")]
        assert len(live) == (3 if env.network.nat_gateways == "per_az" else 1)
        endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        services = {e["ServiceName"].rsplit(".", 1)[-1] for e in endpoints["VpcEndpoints"]}
        assert {"s3", "api", "dkr", "logs", "ssm"} <= services

        # -- ECS Fargate behind CodeDeploy blue/green ----------------------------------
        ecs = run.client("ecs")
        cluster = ecs.describe_clusters(clusters=[out["cluster_name"]], include=["SETTINGS"])
        (settings,) = [c["settings"] for c in cluster["clusters"]]
        assert {"name": "containerInsights", "value": "enabled"} in settings
        names = [target.service(m.name).service_name for m in cfg.microservices]
        described = ecs.describe_services(cluster=out["cluster_name"], services=names)
        assert len(described["services"]) == len(cfg.microservices)
        for svc in described["services"]:
            assert svc["deploymentController"]["type"] == "CODE_DEPLOY"
            assert svc["launchType"] == "FARGATE"
            vpc_config = svc["networkConfiguration"]["awsvpcConfiguration"]
            assert vpc_config["assignPublicIp"] == "DISABLED"
            assert set(vpc_config["subnets"]) == set(out["private_subnet_ids"])
            task = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])
            definition = task["taskDefinition"]
            assert (int(definition["cpu"]), int(definition["memory"])) == (
                env.sizing.cpu,
                env.sizing.memory,
            )
            (container,) = definition["containerDefinitions"]
            assert container["logConfiguration"]["logDriver"] == "awslogs"
            assert container["image"].startswith(
                f"{DELIVERY.account_id}.dkr.ecr.{region}.amazonaws.com/"
            )

        elb = run.client("elbv2")
        codedeploy = run.client("codedeploy")
        cloudwatch = run.client("cloudwatch")
        logs = run.client("logs")
        for m in cfg.microservices:
            expected = target.service(m.name)
            balancer = elb.describe_load_balancers(Names=[expected.alb_name])
            (alb,) = balancer["LoadBalancers"]
            assert {az["SubnetId"] for az in alb["AvailabilityZones"]} == set(
                out["public_subnet_ids"]
            )
            listeners = elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])
            assert sorted(x["Port"] for x in listeners["Listeners"]) == [80, 8080]
            pair = expected.target_group_names
            groups = elb.describe_target_groups(Names=[pair.blue, pair.green])["TargetGroups"]
            assert {g["TargetType"] for g in groups} == {"ip"}
            assert {g["HealthCheckPath"] for g in groups} == {m.health_check_path}

            group = codedeploy.get_deployment_group(
                applicationName=out["codedeploy_application_name"],
                deploymentGroupName=expected.deployment_group_name,
            )["deploymentGroupInfo"]
            assert group["deploymentStyle"] == {
                "deploymentType": "BLUE_GREEN",
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
            }
            rollback = group["autoRollbackConfiguration"]
            assert rollback["enabled"] is True
            assert set(rollback["events"]) == {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}
            alarm_names = [a["name"] for a in group["alarmConfiguration"]["alarms"]]
            assert group["alarmConfiguration"]["enabled"] is True
            assert sorted(alarm_names) == sorted(expected.deployment_alarms)
            # The alarms exist, with the environment's thresholds.
            found = cloudwatch.describe_alarms(AlarmNames=alarm_names)["MetricAlarms"]
            assert len(found) == 3
            rate = next(a for a in found if a["AlarmName"] == expected.alarm_names.http_5xx_rate)
            assert rate["Threshold"] == env.alarms.http_5xx_rate_percent
            assert rate["EvaluationPeriods"] == env.alarms.evaluation_periods
            composite = cloudwatch.describe_alarms(
                AlarmNames=[expected.alarm_names.health], AlarmTypes=["CompositeAlarm"]
            )["CompositeAlarms"]
            assert len(composite) == 1
            assert composite[0]["AlarmActions"] == [out["notifications_topic_arn"]]

            (group_logs,) = logs.describe_log_groups(logGroupNamePrefix=expected.log_group_name)[
                "logGroups"
            ]
            assert group_logs["retentionInDays"] == env.log_retention_days
            assert group_logs.get("kmsKeyId", "").startswith("arn:aws:kms:")

        # -- notifications: KMS-encrypted topic, email subscriptions from config --------
        sns = run.client("sns")
        attributes = sns.get_topic_attributes(TopicArn=out["notifications_topic_arn"])
        assert attributes["Attributes"].get("KmsMasterKeyId")
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=out["notifications_topic_arn"])
        emails = {s["Endpoint"] for s in subscriptions["Subscriptions"] if s["Protocol"] == "email"}
        assert emails == set(env.notification_emails)
        events = run.client("events")
        rules = [r["Name"] for r in events.list_rules(NamePrefix=prefix)["Rules"]]
        assert any("deployment" in name for name in rules)
        dashboards = cloudwatch.list_dashboards(DashboardNamePrefix=prefix)["DashboardEntries"]
        assert [d["DashboardName"] for d in dashboards] == [out["dashboard_name"]]

        # -- Parameter Store: SecureString key, namespace per service ---------------------
        kms = run.client("kms")
        key = kms.describe_key(KeyId=out["parameters_kms_alias_name"])["KeyMetadata"]
        assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
        assert out["parameter_paths"] == {
            m.name: target.service(m.name).parameter_path for m in cfg.microservices
        }

        # -- the cross-account deploy role trusts the delivery pipeline only -------------
        iam = run.client("iam")
        role = iam.get_role(RoleName=out["deploy_role_arn"].rsplit("/", 1)[-1])["Role"]
        trust = role["AssumeRolePolicyDocument"]
        if isinstance(trust, str):
            trust = json.loads(trust)
        principals = [s["Principal"]["AWS"] for s in trust["Statement"]]
        pipeline_role = cfg.names.delivery.pipeline_role_arn
        assert principals in ([pipeline_role], [[pipeline_role]])

        # -- the deploy guard: a Lambda CodeDeploy's hooks call, woken by alarm breaches ----
        guard = run.client("lambda").get_function(FunctionName=out["deploy_guard_function_name"])
        config = guard["Configuration"]
        assert config["Handler"] == "deploy_guard.handler.handler"
        assert (
            config["Environment"]["Variables"]["APPLICATION_NAME"]
            == (out["codedeploy_application_name"])
        )
        assert config["Environment"]["Variables"]["TOPIC_ARN"] == out["notifications_topic_arn"]
        guard_rules = events.list_rule_names_by_target(TargetArn=config["FunctionArn"])
        assert len(guard_rules["RuleNames"]) == 1
        (rule,) = guard_rules["RuleNames"]
        pattern = json.loads(events.describe_rule(Name=rule)["EventPattern"])
        assert pattern["detail"]["state"]["value"] == ["ALARM"]
        assert sorted(pattern["detail"]["alarmName"]) == sorted(
            name for m in cfg.microservices for name in target.service(m.name).deployment_alarms
        )

        # -- the health alarms' state changes go to the delivery account's bus (report) -----
        delivery = cfg.names.delivery
        recorder = events.describe_rule(Name=f"{prefix}-health-alarm-events")
        pattern = json.loads(recorder["EventPattern"])
        assert sorted(pattern["detail"]["alarmName"]) == sorted(
            target.service(m.name).alarm_names.health for m in cfg.microservices
        )
        (sent,) = events.list_targets_by_rule(Rule=recorder["Name"])["Targets"]
        bus = f"arn:aws:events:{delivery.region}:{delivery.account_id}:event-bus/default"
        assert sent["Arn"] == bus
        sender = iam.get_role(RoleName=sent["RoleArn"].rsplit("/", 1)[-1])["Role"]
        sender_trust = sender["AssumeRolePolicyDocument"]
        if isinstance(sender_trust, str):
            sender_trust = json.loads(sender_trust)
        assert [s["Principal"] for s in sender_trust["Statement"]] == [
            {"Service": "events.amazonaws.com"}
        ]

        # -- every policy document obeys the IAM rule; re-plan is empty --------------------
        plan = run.plan()
        count, problems = policies.audit(plan)
        assert count > 10 * len(cfg.microservices), "the audit read suspiciously few documents"
        assert problems == [], "\n".join(problems)
        assert run.changes(plan) == [], "re-plan after apply must show no changes"

        # -- prod's DR region: a serving record naming it (environments/stacks/runtime/
        # serving.tf) scales it from standby to desired; no tfvars change --------------
        if env_name == "prod":
            assert {s["desiredCount"] for s in described["services"]} == {1}
            ssm = run.client("ssm")
            ssm.put_parameter(
                Name=f"/deployer/dr/{env.name}", Type="String",
                Value=json.dumps({"environment": env.name, "operation": "failover",
                                  "serving": region, "sequence": 1, "counts": {}}),
            )  # fmt: skip
            serving = run.plan()
            scaled = {
                rc["address"]: (rc["change"]["before"]["desired_count"],
                                rc["change"]["after"]["desired_count"])
                for rc in serving["resource_changes"]
                if rc["type"] == "aws_ecs_service" and rc["change"]["actions"] == ["update"]
            }  # fmt: skip
            assert sorted(scaled.values()) == [(1, env.desired_count(region))] * len(names)
            assert {a for a, actions in run.changes(serving) if "update" not in actions} == set()
            ssm.delete_parameter(Name=f"/deployer/dr/{env.name}")

        # -- staging also proves: no drift fight after a blue/green swap, and drift found --
        if (env_name, region) == (no_drift.ENV, no_drift.REGION):
            no_drift.check_no_drift_fight(
                run, target_, tmp_path, emulator_state_dir, monkeypatch, capsys
            )
    finally:
        run.destroy()
    remaining = run.client("ec2").describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    assert remaining["Vpcs"] == []
