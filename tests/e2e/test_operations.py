"""Operating the deployer under stress: locks, killed applies, multi-region results.

These run the real CLI against a private emulator, on the dev environment (one
region, no plan gate), of a copy of the project with one microservice (prod's two
regions applied concurrently, a partial failure of one region and `deployer unlock` are
the DR e2e's, tests/runtime/test_region_outage.py, which applies prod in both regions
anyway): what they test is the deployer's own handling (locks,
signals, adoption, per-region results), which does not change with the number of
services, and each service adds about 25 resources to every apply (the stacks with
every service are applied by test_apply_staging.py, tests/integration and the runtime
e2e tests).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.emulator import TEST_CREDENTIALS
from tests.e2e.conftest import ROOT, DeployerCLI, project_with

pytestmark = pytest.mark.e2e

#: The one microservice of the project these tests apply.
SERVICE = "api-service"


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeployerCLI]:
    """The deployer on a copy of the project with one microservice, its own state folder;
    its emulator is stopped afterwards."""
    project = project_with(tmp_path_factory.mktemp("project"), (SERVICE,))
    runner = DeployerCLI(tmp_path_factory.mktemp("e2e-state"))
    runner.env["DEPLOYER_PROJECT_DIR"] = str(project)
    try:
        yield runner
    finally:
        runner("emulator", "stop", timeout=60)


DEV_ACCOUNT = "222222222222"
DELIVERY_ACCOUNT = "111111111111"


def client(endpoint: str, account: str, service: str, region: str = "us-east-1") -> Any:
    base = dict(
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    creds = boto3.client("sts", **base).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="e2e-check",
    )["Credentials"]
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


class Background:
    """A deployer command running in the background, its stderr collected live."""

    def __init__(self, cli: DeployerCLI, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deployer", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli.env,
            cwd=ROOT,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"never saw {text!r}; stderr:\n" + "\n".join(self.lines[-30:]))

    def finish(self, timeout: float = 600) -> tuple[int, str, str]:
        # stdout only: stderr belongs to the reader thread (communicate() would race it).
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        self.proc.wait(timeout=timeout)
        self._reader.join(30)
        return self.proc.returncode, out, "\n".join(self.lines)


def terraform_children(parent: int) -> list[int]:
    """PIDs of terraform processes (the CLI, not provider plugins) under ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and cmdline and cmdline[0].endswith(b"terraform"):
            found.append(int(entry.name))
    return found


def vpcs_named(endpoint: str, account: str, name: str, region: str = "us-east-1") -> list[str]:
    ec2 = client(endpoint, account, "ec2", region)
    found = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
    return [v["VpcId"] for v in found]


def test_concurrent_then_killed_applies_converge_on_rerun_without_duplicates(
    cli: DeployerCLI,
) -> None:
    # 1. While an apply runs (it holds the state lock once resources are being
    #    created), a second apply fails fast, naming the holder.
    run = Background(cli, "apply", "dev")
    run.wait_for("  created ")
    started = time.monotonic()
    second = cli("apply", "dev")
    took = time.monotonic() - started
    assert second.returncode == 1
    assert "workspace dev-us-east-1 is locked by " in second.stderr
    assert "(apply, lock ID " in second.stderr
    assert "deployer unlock dev --region us-east-1" in second.stderr
    # Fast: init plus one failed lock attempt, no waiting on the holder.
    assert took < 60, f"the second apply took {took:.0f}s to fail"

    # 2. Kill Terraform itself mid-apply (SIGTERM, as an orchestrator or OOM-killer
    #    precursor would): it stops gracefully, writes state, releases the lock.
    #    (The first apply is the one killed; it never finishes on its own.)
    run.wait_for("  created module.network.aws_subnet")
    children = terraform_children(run.proc.pid)
    assert children, "no terraform process found under the deployer"
    for pid in children:
        os.kill(pid, signal.SIGTERM)
    code, _, stderr = run.finish()
    assert code == 1, stderr[-2000:]
    endpoint = json.loads(cli("emulator", "status", "--json").stdout)["endpoint"]
    assert len(vpcs_named(endpoint, DEV_ACCOUNT, "acme-shop-dev-vpc")) == 1

    # 3. Terminate the deployer itself mid-apply: it forwards the stop to Terraform.
    rerun = Background(cli, "apply", "dev")
    rerun.wait_for("terraform apply (saved plan)")
    rerun.wait_for("  created ")
    rerun.proc.send_signal(signal.SIGTERM)
    code, _, stderr = rerun.finish()
    assert code == 130, stderr[-2000:]
    assert "interrupted" in stderr

    # 4. A rerun converges: apply succeeds, nothing is duplicated, re-plan is empty.
    final = cli("apply", "dev")
    assert final.returncode == 0, final.stderr[-3000:]
    assert len(vpcs_named(endpoint, DEV_ACCOUNT, "acme-shop-dev-vpc")) == 1
    ec2 = client(endpoint, DEV_ACCOUNT, "ec2")
    nats = [
        n
        for n in ec2.describe_nat_gateways()["NatGateways"]
        if n["State"] in ("available", "pending")
    ]
    assert len(nats) == 1, "a NAT gateway was duplicated"
    replan = cli("plan", "dev", "--detailed-exitcode")
    assert replan.returncode == 0, replan.stderr[-3000:]
    assert cli("destroy", "dev", "--auto-approve").returncode == 0


LOST = [
    "module.network.aws_vpc.this",
    'module.network.aws_subnet.private["us-east-1a"]',
    'module.network.aws_nat_gateway.this["us-east-1a"]',
    "module.parameters.module.key.aws_kms_key.this",
    'module.service["api-service"].aws_lb.this',
    'module.service["api-service"].aws_vpc_security_group_egress_rule.alb_to_tasks',
    'module.service["api-service"].aws_cloudwatch_log_group.this',
    'module.service["api-service"].aws_iam_role.task',
]


def test_rerun_adopts_what_an_interrupted_apply_left_behind(cli: DeployerCLI) -> None:
    """Deterministic: resources that exist but are not in state, as after a cancelled create."""
    assert cli("apply", "dev").returncode == 0
    endpoint = json.loads(cli("emulator", "status", "--json").stdout)["endpoint"]
    # Lose the answers: the resources exist, the state no longer knows them ...
    tf_env = {
        **os.environ,
        "TF_DATA_DIR": str(cli.state_dir / "terraform" / "runtime" / "dev-us-east-1"),
        "TF_CLI_CONFIG_FILE": str(cli.state_dir / "terraform" / "cli.tfrc"),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    stack = Path(cli.env["DEPLOYER_PROJECT_DIR"]) / "environments" / "stacks" / "runtime"
    for address in LOST:
        removed = subprocess.run(
            ["terraform", f"-chdir={stack}", "state", "rm", "-no-color", address],
            env=tf_env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert removed.returncode == 0, removed.stderr
    # ... and the apply that created them never finished.
    client(endpoint, DELIVERY_ACCOUNT, "s3").put_object(
        Bucket="acme-shop-delivery-tfstate",
        Key="workspaces/dev-us-east-1/runtime.tfstate.inflight",
        Body=b'{"run_id": "20261122T000000Z-lost"}',
    )
    planned = cli("plan", "dev")
    assert "apply 20261122T000000Z-lost did not finish" in planned.stderr

    rerun = cli("apply", "dev", "--json")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    for address in LOST:
        assert f"will adopt {address} = " in rerun.stderr
    (region,) = rerun.json()["regions"]
    assert sorted(region["adopted"]) == sorted(LOST)
    assert region["changes"]["import"] == len(LOST)
    assert region["changes"]["add"] == 0, "something was created twice"

    assert len(vpcs_named(endpoint, DEV_ACCOUNT, "acme-shop-dev-vpc")) == 1
    ec2 = client(endpoint, DEV_ACCOUNT, "ec2")
    subnets = [s for s in ec2.describe_subnets()["Subnets"] if not s.get("DefaultForAz")]
    assert len(subnets) == 6
    kms = client(endpoint, DEV_ACCOUNT, "kms")
    live_keys = [
        k for k in kms.list_keys()["Keys"]
        if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
    ]  # fmt: skip
    assert len(live_keys) == 2, "a KMS key was created twice"
    replan = cli("plan", "dev", "--detailed-exitcode")
    assert replan.returncode == 0, replan.stderr[-3000:]
    assert "did not finish" not in replan.stderr
    assert cli("destroy", "dev", "--auto-approve").returncode == 0
