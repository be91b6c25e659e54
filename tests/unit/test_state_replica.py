"""The Terraform state's replica (deployer/state_replica.py): made, checked, used.

AWS is moto in this process (the ``aws`` fixture) with the sample configuration: the
state bucket ``acme-shop-delivery-tfstate`` in us-east-1, prod in us-east-1 and
us-west-2, so the replica is ``acme-shop-delivery-tfstate-us-west-2``. moto copies
nothing (the emulator's ``s3-replication`` engine does): these tests hold what the
deployer configures and how it reads what is there. A region that is down is a client
answering as the emulator's region control does (HTTP 503, ``ServiceUnavailable``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from deployer import state, state_replica
from deployer.aws import AWS, ClientFactory, Target
from deployer.config import Config
from deployer.errors import DeployerError, UsageError
from deployer.state_replica import BEHIND, CURRENT, NO_REPLICA, NOT_SET_UP, STATE_REGION_DOWN
from deployer.workspaces import Workspace, backend_settings
from tests import policies

EAST, WEST = "us-east-1", "us-west-2"
SOURCE = "acme-shop-delivery-tfstate"
REPLICA = "acme-shop-delivery-tfstate-us-west-2"
ROLE = "arn:aws:iam::111111111111:role/acme-shop-delivery-tfstate-replication"
TARGET = Target(AWS)
PROD_EAST = Workspace("runtime", "prod", EAST)
STATE = b'{"version": 4, "serial": 1}'


class Recorder:
    """The factory's clients, each call's operation recorded (``region:operation``)."""

    def __init__(self, factory: ClientFactory) -> None:
        self.factory = factory
        self.calls: list[str] = []

    def client(self, service: str, region: str, **kwargs: Any) -> Any:
        made = self.factory.client(service, region, **kwargs)
        calls = self.calls

        class Proxy:
            def __getattr__(self, name: str) -> Any:
                attr = getattr(made, name)
                if not callable(attr) or name.startswith(("get_paginator", "meta")):
                    return attr

                def call(*args: Any, **kw: Any) -> Any:
                    calls.append(f"{region}:{name}")
                    return attr(*args, **kw)

                return call

        return Proxy()


class Down:
    """The factory's clients, but S3 and SSM in ``regions`` answer 503 as a region that is
    down does (a HEAD's 503 has no body: its code is "503"), or with ``unreachable``
    cannot be connected to."""

    def __init__(self, factory: ClientFactory, *regions: str, unreachable: bool = False) -> None:
        self.factory = factory
        self.regions = regions
        self.unreachable = unreachable

    def client(self, service: str, region: str, **kwargs: Any) -> Any:
        made = self.factory.client(service, region, **kwargs)
        if region not in self.regions or service not in ("s3", "ssm"):
            return made

        unreachable = self.unreachable

        class Failing:
            def __getattr__(self, name: str) -> Any:
                def fail(*args: Any, **kw: Any) -> Any:
                    if unreachable:
                        raise EndpointConnectionError(endpoint_url=f"https://s3.{region}.example")
                    code = "503" if name.startswith("head_") else "ServiceUnavailable"
                    raise ClientError(
                        {
                            "Error": {"Code": code, "Message": "Service Unavailable"},
                            "ResponseMetadata": {"HTTPStatusCode": 503},
                        },
                        name,
                    )

                return fail

        return Failing()


@pytest.fixture
def faithful_replication(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5.2.5 answers GetBucketReplication with every rule's DeleteMarkerReplication
    Disabled and an empty prefix, whatever was put; AWS answers the rule as put. The
    emulator's patch (patches/s3_replication.py) answers so; here its answer alone (not
    its hooks into the engine), in this process, for the test."""
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError
    from moto.s3.responses import S3Response

    from deployer.emulator.patches.s3_replication import rule_out

    def get_bucket_replication(self: Any) -> Any:
        self.data["Action"] = "GetBucketReplication"
        stored = self.backend.get_bucket_replication(self.bucket_name)
        if not stored:
            raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
        document = {"Role": stored["Role"], "Rules": [rule_out(r) for r in stored["Rule"]]}
        return self.serialized(ActionResult({"ReplicationConfiguration": document}))

    monkeypatch.setattr(S3Response, "get_bucket_replication", get_bucket_replication)


@pytest.fixture
def world(aws: ClientFactory, faithful_replication: None) -> Iterator[ClientFactory]:
    yield aws


def delivery(factory: Any, service: str, region: str) -> Any:
    """A client in the delivery account, as the deployer reaches the state."""
    return factory.client(
        service, region, account_id="111111111111", role_name="OrganizationAccountAccessRole"
    )


def s3(factory: Any, region: str) -> Any:
    return delivery(factory, "s3", region)


def made(cfg: Config, factory: Any, *, state_objects: bool = False) -> list[str]:
    """The state bucket (with prod-us-east-1's state when asked), then the replica."""
    messages: list[str] = []
    state.ensure_bucket(cfg, factory, TARGET, messages.append)
    if state_objects:
        s3(factory, EAST).put_object(
            Bucket=SOURCE, Key=PROD_EAST.state_key(), Body=STATE, ServerSideEncryption="AES256"
        )
    assert state_replica.ensure(cfg, factory, TARGET, messages.append) is True
    return messages


# ---------------------------------------------------------------------------
# Where
# ---------------------------------------------------------------------------
def test_the_replica_is_in_the_production_environments_dr_region(cfg: Config) -> None:
    replica = state_replica.replica_of(cfg)
    assert replica is not None
    assert (replica.bucket, replica.region, replica.role_arn) == (REPLICA, WEST, ROLE)
    assert (replica.source_bucket, replica.source_region) == (SOURCE, EAST)
    # The state in the DR region: the replica goes to the primary region.
    moved = replace(cfg, state=replace(cfg.state, region=WEST))
    assert state_replica.replica_region(moved) == EAST
    # One production region: no replica.
    prod = cfg.environments["prod"]
    single = replace(
        cfg, environments={**cfg.environments, "prod": replace(prod, regions=prod.regions[:1])}
    )
    assert state_replica.replica_of(single) is None


# ---------------------------------------------------------------------------
# Made
# ---------------------------------------------------------------------------
def test_apply_makes_the_replica_the_role_and_replication_both_ways(
    cfg: Config, world: ClientFactory
) -> None:
    messages = made(cfg, world)
    west = s3(world, WEST)
    assert west.get_bucket_location(Bucket=REPLICA)["LocationConstraint"] == WEST
    assert west.get_bucket_versioning(Bucket=REPLICA)["Status"] == "Enabled"
    (rule,) = west.get_bucket_encryption(Bucket=REPLICA)["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["BucketKeyEnabled"] is True
    block = west.get_public_access_block(Bucket=REPLICA)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    for bucket, region, destination in ((SOURCE, EAST, REPLICA), (REPLICA, WEST, SOURCE)):
        found = s3(world, region).get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
        assert found["Role"] == ROLE
        (only,) = found["Rules"]
        assert only["ID"] == "deployer-state-replica" and only["Status"] == "Enabled"
        assert only["Filter"] == {"Prefix": ""}  # the whole bucket
        assert only["DeleteMarkerReplication"] == {"Status": "Enabled"}
        assert only["Destination"]["Bucket"] == f"arn:aws:s3:::{destination}"
    iam = delivery(world, "iam", EAST)
    role = iam.get_role(RoleName="acme-shop-delivery-tfstate-replication")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(unquote(trust)) if isinstance(trust, str) else trust
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "111111111111"}
    policy = iam.get_role_policy(
        RoleName="acme-shop-delivery-tfstate-replication", PolicyName="replicate-terraform-state"
    )["PolicyDocument"]
    policy = json.loads(unquote(policy)) if isinstance(policy, str) else policy
    granted = {a: s["Resource"] for s in policy["Statement"] for a in s["Action"]}
    assert granted["s3:ReplicateObject"] == [
        f"arn:aws:s3:::{SOURCE}/*",
        f"arn:aws:s3:::{REPLICA}/*",
    ]
    assert granted["s3:GetReplicationConfiguration"] == [
        f"arn:aws:s3:::{SOURCE}",
        f"arn:aws:s3:::{REPLICA}",
    ]
    for kind, attribute, document in (
        ("aws_iam_role_policy", "policy", policy),
        ("aws_iam_role", "assume_role_policy", trust),
    ):
        assert policies.problems(policies.Document("replication", kind, attribute, document)) == []
    assert any(f"creating the Terraform state replica {REPLICA} in {WEST}" in m for m in messages)


def test_a_second_apply_reads_two_rules_and_changes_nothing(
    cfg: Config, world: ClientFactory
) -> None:
    made(cfg, world)
    recorder = Recorder(world)
    assert state_replica.ensure(cfg, recorder, TARGET, print) is False
    assert recorder.calls == [f"{EAST}:get_bucket_replication", f"{WEST}:get_bucket_replication"]
    # Read-only (the plan role) makes nothing and reads nothing.
    recorder.calls.clear()
    assert state_replica.ensure(cfg, recorder, replace(TARGET, read_only=True), print) is False
    assert recorder.calls == []


def test_an_existing_project_gets_its_replica_with_the_state_already_there(
    cfg: Config, world: ClientFactory
) -> None:
    messages = made(cfg, world, state_objects=True)
    copy = s3(world, WEST).get_object(Bucket=REPLICA, Key=PROD_EAST.state_key())
    assert copy["Body"].read() == STATE
    assert copy["ServerSideEncryption"] == "AES256"
    assert any("1 existing state object(s) copied" in m for m in messages)
    found = state_replica.check(cfg, world, TARGET, [PROD_EAST])
    assert (found.verdict, found.current) == (CURRENT, True), found.detail


def test_a_setup_that_stopped_half_way_is_completed(cfg: Config, world: ClientFactory) -> None:
    made(cfg, world)
    s3(world, WEST).delete_bucket_replication(Bucket=REPLICA)
    assert state_replica.check(cfg, world, TARGET).verdict == NOT_SET_UP
    recorder = Recorder(world)
    assert state_replica.ensure(cfg, recorder, TARGET, print) is True
    assert f"{WEST}:put_bucket_replication" in recorder.calls
    assert f"{EAST}:put_bucket_replication" not in recorder.calls  # the other rule held
    assert state_replica.check(cfg, world, TARGET).verdict == CURRENT


def test_without_a_dr_region_there_is_nothing_to_make_or_check(
    cfg: Config, world: ClientFactory
) -> None:
    prod = cfg.environments["prod"]
    single = replace(
        cfg, environments={**cfg.environments, "prod": replace(prod, regions=prod.regions[:1])}
    )
    state.ensure_bucket(single, world, TARGET, print)
    assert state_replica.ensure(single, world, TARGET, print) is False
    assert [b["Name"] for b in s3(world, WEST).list_buckets()["Buckets"]] == [SOURCE]
    found = state_replica.check(single, world, TARGET)
    assert (found.verdict, found.current) == (NO_REPLICA, None)


def test_prepare_makes_the_replica_only_for_commands_that_write(
    cfg: Config, world: ClientFactory
) -> None:
    assert state.prepare(cfg, world, TARGET, print, writes=False) is True
    names = [b["Name"] for b in s3(world, EAST).list_buckets()["Buckets"]]
    assert REPLICA not in names
    assert state.prepare(cfg, world, TARGET, print, writes=True) is False
    names = [b["Name"] for b in s3(world, EAST).list_buckets()["Buckets"]]
    assert REPLICA in names


# ---------------------------------------------------------------------------
# Checked
# ---------------------------------------------------------------------------
def test_before_any_apply_the_check_says_the_replica_is_not_set_up(
    cfg: Config, world: ClientFactory
) -> None:
    state.ensure_bucket(cfg, world, TARGET, print)
    found = state_replica.check(cfg, world, TARGET)
    assert (found.verdict, found.current) == (NOT_SET_UP, False)
    assert f"{SOURCE} -> {REPLICA}" in found.detail and f"{REPLICA} -> {SOURCE}" in found.detail
    assert found.fix is not None and found.fix.startswith("deployer apply delivery")


def test_a_state_written_after_the_copy_that_did_not_arrive_is_behind(
    cfg: Config, world: ClientFactory
) -> None:
    made(cfg, world, state_objects=True)
    # A new version in the state bucket that (moto replicating nothing) never arrives.
    s3(world, EAST).put_object(
        Bucket=SOURCE,
        Key=PROD_EAST.state_key(),
        Body=b'{"version": 4, "serial": 2}',
        ServerSideEncryption="AES256",
    )
    found = state_replica.check(cfg, world, TARGET, [PROD_EAST, Workspace("runtime", "dev", EAST)])
    assert (found.verdict, found.current) == (BEHIND, False)
    by_workspace = {f.workspace: f for f in found.objects}
    assert by_workspace["prod-us-east-1"].status == BEHIND
    assert by_workspace["dev-us-east-1"].status == "absent"  # never applied: not a gap
    assert "prod-us-east-1: the replica holds another version" in found.detail
    assert found.fix is not None and f"s3://{REPLICA}/KEY" in found.fix
    assert found.to_json()["objects"][0]["replica_version"] is not None


@pytest.mark.parametrize(
    ("status", "verdict", "detail"),
    [
        ("PENDING", BEHIND, "under way (PENDING)"),
        ("FAILED", BEHIND, "FAILED"),
        ("COMPLETED", CURRENT, "same version"),
    ],
)
def test_the_sources_replication_status_says_why_a_copy_differs(
    status: str, verdict: str, detail: str
) -> None:
    source = {"VersionId": "v2", "ETag": '"b"', "ReplicationStatus": status}
    copy = {"VersionId": "v2" if status == "COMPLETED" else "v1", "ETag": '"a"'}
    found = state_replica._compare(PROD_EAST, source, copy)
    assert (found.status, detail in found.detail) == (verdict, True)


def test_with_the_state_region_down_the_check_says_what_the_replica_holds(
    cfg: Config, world: ClientFactory
) -> None:
    made(cfg, world, state_objects=True)
    found = state_replica.check(cfg, Down(world, EAST), TARGET, [PROD_EAST])
    assert (found.verdict, found.current) == (STATE_REGION_DOWN, None)
    (only,) = found.objects
    assert only.status == "unknown" and only.replica_written is not None
    assert f"last written {only.replica_written}" in found.detail
    assert "the state region us-east-1 does not answer" in found.detail
    # Neither region answers: a verdict, not a traceback.
    both = state_replica.check(cfg, Down(world, EAST, WEST), TARGET, [PROD_EAST])
    assert both.current is False and "nor the replica's" in both.detail


# ---------------------------------------------------------------------------
# Used
# ---------------------------------------------------------------------------
def test_a_state_region_that_answers_503_is_state_region_down_naming_the_replica(
    cfg: Config, world: ClientFactory
) -> None:
    with pytest.raises(state.StateRegionDown) as info:
        state.ensure_bucket(cfg, Down(world, EAST), TARGET, print)
    assert "does not answer in us-east-1 (S3 answers 503 ServiceUnavailable)" in info.value.message
    assert info.value.hint is not None
    assert REPLICA in info.value.hint and "--state-replica" in info.value.hint


def test_a_state_region_that_cannot_be_reached_is_state_region_down_too(
    cfg: Config, world: ClientFactory
) -> None:
    with pytest.raises(state.StateRegionDown, match="S3 cannot be reached: Could not connect"):
        state.ensure_bucket(cfg, Down(world, EAST, unreachable=True), TARGET, print)


def test_an_apply_goes_on_when_the_replicas_region_does_not_answer(
    cfg: Config, world: ClientFactory
) -> None:
    state.ensure_bucket(cfg, world, TARGET, print)
    messages: list[str] = []
    assert state.prepare(cfg, Down(world, WEST), TARGET, messages.append, writes=True) is False
    assert messages == [
        "the state's replication was not checked (503: Service Unavailable): "
        "the next apply checks it again"
    ]
    # And the replica's region itself is then a gap of dr status's, named.
    made(cfg, world)
    found = state_replica.check(cfg, Down(world, WEST), TARGET)
    assert (
        found.current is False and "the replica's region us-west-2 did not answer" in found.detail
    )


def test_plan_falls_back_to_the_replica_and_apply_only_when_allowed(
    cfg: Config, world: ClientFactory
) -> None:
    made(cfg, world)
    down = Down(world, EAST)
    with pytest.raises(state.StateRegionDown) as info:
        state.ensure_bucket(cfg, down, TARGET, print)
    messages: list[str] = []
    replica = state_replica.fallback(
        cfg, down, TARGET, info.value, writes=False, allowed=False, progress=messages.append
    )
    assert (replica.bucket, replica.region) == (REPLICA, WEST)
    assert messages == [
        f"the state region us-east-1 does not answer (S3 answers 503 ServiceUnavailable): "
        f"Terraform's state is read from the replica {REPLICA} in {WEST}"
    ]
    with pytest.raises(UsageError, match="this command writes state") as refused:
        state_replica.fallback(
            cfg, down, TARGET, info.value, writes=True, allowed=False, progress=print
        )
    assert refused.value.hint is not None and "--state-replica" in refused.value.hint
    messages.clear()
    assert (
        state_replica.fallback(
            cfg, down, TARGET, info.value, writes=True, allowed=True, progress=messages.append
        )
        == replica
    )
    assert "read from and written to the replica" in messages[0]


def test_no_fallback_without_a_replica_bucket_or_its_region(
    cfg: Config, world: ClientFactory
) -> None:
    state.ensure_bucket(cfg, world, TARGET, print)  # no apply yet: no replica
    down = state.StateRegionDown(cfg, "S3 answers 503 ServiceUnavailable")
    with pytest.raises(DeployerError, match=f"its replica {REPLICA} does not exist"):
        state_replica.fallback(
            cfg, Down(world, EAST), TARGET, down, writes=False, allowed=False, progress=print
        )
    with pytest.raises(DeployerError, match="the replica's region us-west-2"):
        state_replica.fallback(
            cfg, Down(world, EAST, WEST), TARGET, down, writes=False, allowed=False,
            progress=print,
        )  # fmt: skip


def test_terraforms_backend_on_the_replica_keeps_the_key_and_the_lock_file(cfg: Config) -> None:
    replica = state_replica.replica_of(cfg)
    assert replica is not None
    usual = backend_settings(cfg, TARGET, PROD_EAST)
    moved = backend_settings(cfg, TARGET, PROD_EAST, replica)
    assert (usual["bucket"], usual["region"]) == (SOURCE, EAST)
    assert (moved["bucket"], moved["region"]) == (REPLICA, WEST)
    assert {k: v for k, v in moved.items() if k not in ("bucket", "region")} == {
        k: v for k, v in usual.items() if k not in ("bucket", "region")
    }
    assert moved["use_lockfile"] is True and moved["key"] == "runtime.tfstate"


def test_the_state_store_on_the_replica_writes_its_marker_and_history_there(
    cfg: Config, world: ClientFactory
) -> None:
    made(cfg, world)
    replica = state_replica.replica_of(cfg)
    store = state.StateStore(cfg, Down(world, EAST), TARGET, PROD_EAST, replica)
    store.mark_inflight("20261202T000000Z-local")
    assert store.unfinished_run() == "20261202T000000Z-local"
    marker = s3(world, WEST).head_object(Bucket=REPLICA, Key=store.marker_key)
    assert marker["ServerSideEncryption"] == "AES256"  # replicated back (not SSE-KMS)
    run = state.RunRecord("20261202T000000Z-local", "apply", "ok", {}, "me@host", "now")
    store.record(run)
    assert [r.run_id for r in store.history()] == [run.run_id]


def test_the_orchestrator_runs_terraform_on_the_replica_once_the_state_region_is_down(
    cfg: Config, tmp_path: Any
) -> None:
    """deployer/orchestrator.py: the state store's preparation says the state region is
    down; the command's fallback (here: allowed) gives the replica, which the workspace's
    backend file and its state store (in-flight marker, run history) then use. Without a
    fallback the error stands."""
    from deployer.orchestrator import Orchestrator, write_workspace_files
    from deployer.output import Reporter
    from deployer.project import Project
    from deployer.scope import Scope

    down = state.StateRegionDown(cfg, "ServiceUnavailable")
    replica = state_replica.replica_of(cfg)
    assert replica is not None

    def prepare() -> bool:
        raise down

    given: list[state.StateRegionDown] = []

    def fallback(error: state.StateRegionDown) -> state_replica.Replica:
        given.append(error)
        return replica

    project = Project(cfg.root, tmp_path)
    orchestrator = Orchestrator(project, None, Reporter(verbosity=-1),  # type: ignore[arg-type]
                                prepare_state=prepare, state_fallback=fallback)  # fmt: skip
    try:
        assert orchestrator._wait_for_state() is True  # the backend changed: init again
        assert orchestrator._wait_for_state() is True and given == [down]  # asked once
    finally:
        orchestrator.close()
    assert orchestrator.replica == replica
    scope = Scope(cfg, cfg.environment("prod"), EAST, TARGET, ClientFactory(TARGET))
    backend_file, _ = write_workspace_files(scope, tmp_path, orchestrator.replica)
    text = backend_file.read_text()
    assert f'bucket = "{replica.bucket}"' in text and f'region = "{replica.region}"' in text
    assert orchestrator.state_of(scope).bucket == replica.bucket
    assert scope.state.bucket == cfg.state.bucket

    alone = Orchestrator(project, None, Reporter(verbosity=-1), prepare_state=prepare)  # type: ignore[arg-type]
    try:
        with pytest.raises(state.StateRegionDown):
            alone._wait_for_state()
    finally:
        alone.close()
