"""The runtime stack, per environment and region, on the emulator (tftest + boto3).

Applies the stack exactly as the deployer configures it (S3 backend in the
delivery account, the environment's role and account), checks the result
through boto3 in the environment's account, re-plans (no changes), destroys.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from deployer.aws import Target
from tests.integration.stacks import config, stack_run

pytestmark = pytest.mark.integration

CFG = config()
WORKSPACES = [
    (env.name, region.name)
    for env in sorted(CFG.environments.values(), key=lambda e: e.name)
    if env.stack == "runtime"
    for region in env.regions
]


@pytest.mark.parametrize(("env_name", "region"), WORKSPACES, ids=lambda v: v)
def test_runtime_stack_applies_replans_empty_and_destroys(
    env_name: str,
    region: str,
    target: Target,
    tf_env: dict[str, str],
    terraform_binary: str,
    tmp_path: Path,
) -> None:
    run = stack_run(
        CFG,
        env_name,
        region,
        target=target,
        tf_env=tf_env,
        terraform_binary=terraform_binary,
        work_dir=tmp_path,
    )
    env = run.env
    try:
        outputs = run.apply()
        ec2 = run.client("ec2")

        # The network is in the environment's own account and region.
        (vpc,) = ec2.describe_vpcs(VpcIds=[outputs["vpc_id"]])["Vpcs"]
        assert vpc["OwnerId"] == env.account_id
        assert vpc["CidrBlock"] == env.region(region).cidr
        tags = {t["Key"]: t["Value"] for t in vpc["Tags"]}
        assert tags["Name"] == f"{CFG.name_prefix(env.name)}-vpc"
        assert tags["Environment"] == env.name

        private = ec2.describe_subnets(SubnetIds=outputs["private_subnet_ids"])["Subnets"]
        public = ec2.describe_subnets(SubnetIds=outputs["public_subnet_ids"])["Subnets"]
        assert len({s["AvailabilityZone"] for s in private}) == 3
        assert {s["AvailabilityZone"] for s in private} == {s["AvailabilityZone"] for s in public}
        assert all(s["AvailabilityZone"].startswith(region) for s in private)
        assert not any(s["MapPublicIpOnLaunch"] for s in private)
        network = ipaddress.ip_network(vpc["CidrBlock"])
        assert all(ipaddress.ip_network(s["CidrBlock"]).subnet_of(network) for s in private)

        # NAT: one per AZ where configured (prod), one shared elsewhere.
        nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
            "NatGateways"
        ]
        live = [n for n in nats if n["State"] in ("available", "pending")]
        assert len(live) == (3 if env.network.nat_gateways == "per_az" else 1)

        # Tasks reach ECR, S3, logs and SSM through VPC endpoints, not the internet.
        endpoints = ec2.describe_vpc_endpoints(
            Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
        )["VpcEndpoints"]
        services = {e["ServiceName"].rsplit(".", 1)[-1] for e in endpoints}
        assert {"s3", "api", "dkr", "logs", "ssm"} <= services

        assert run.plan_changes() == [], "re-plan after apply must show no changes"
    finally:
        run.destroy()
    remaining = run.client("ec2").describe_vpcs(
        Filters=[{"Name": "vpc-id", "Values": [outputs["vpc_id"]]}]
    )["Vpcs"]
    assert remaining == []
