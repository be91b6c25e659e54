"""The Terraform state's replica in the DR region (issue 15): made, checked, used.

**Where.** The state bucket (``deployer.state``) lives in the delivery account in
``terraform.state.region``. Its replica is ``names.state_replica_bucket(bucket, region)``
in the same account, in the DR region of the pipeline's production environment (its
second region; if that is the state's own region, its first): the region a failover moves
production to, which must not depend on the state region. A project whose production
environment has one region has no DR region and no replica.

**Made** (:func:`ensure`, on apply): the replica bucket versioned, encrypted (SSE-KMS,
the AWS managed key, with an S3 Bucket Key) and private like the state bucket; an IAM
role S3 assumes to replicate; and live replication both ways, one rule on each bucket:
the whole bucket, delete markers replicated, so that what is written to either bucket
(the replica while the state region is down) reaches the other. As AWS's S3 User Guide
describes it:

- "Setting up permissions for live replication", step 2: the role trusts
  ``s3.amazonaws.com`` (conditions ``aws:SourceAccount`` and ``aws:SourceArn``, against
  the confused deputy), and its policy grants, on each bucket as a source,
  ``s3:GetReplicationConfiguration`` and ``s3:ListBucket`` (bucket) and
  ``s3:GetObjectVersionForReplication``, ``s3:GetObjectVersionAcl``,
  ``s3:GetObjectVersionTagging`` (objects), and on each as a destination
  ``s3:ReplicateObject``, ``s3:ReplicateDelete``, ``s3:ReplicateTags`` (objects). Both
  buckets are in one account: no bucket policy is needed.
- "Requirements for live replication": versioning on both buckets before the
  configuration is put; the destination exists.
- "Replicating delete markers between buckets": with a V2 rule (``Filter``),
  ``DeleteMarkerReplication`` is Disabled unless set; it is Enabled here, so a lock
  file Terraform deletes in one bucket is deleted in the other.
- "Replicating existing objects": live replication copies only what is written after
  the configuration exists. When the deployer sets replication up it copies the state
  objects already there (``workspaces/``) that the replica lacks, before the replica's
  own rule exists (so the copies do not travel back).
- "Replicating encrypted objects": objects under SSE-KMS are not replicated unless the
  rule selects them and names a customer managed key for the replicas. The deployer's
  objects are not: Terraform writes state and lock files with SSE-S3 (``encrypt =
  true`` without ``kms_key_id``), and the deployer writes its in-flight marker so too.

**Checked** (:func:`check`, for ``deployer dr status``): each workspace's state object,
its newest version in the state bucket against the replica's (version ID, which
replication keeps, or ETag; and the source's ``ReplicationStatus``), and both buckets'
rules. When the state region does not answer, it says what the replica holds and when
each object was last written there.

**Used** (:func:`fallback`): when the state region's S3 answers 503 or cannot be reached
(``deployer.state.StateRegionDown``), Terraform's backend is the replica (same key, its
lock file there; ``deployer.workspaces.backend_settings``). Reading (plan) falls back by
itself, with a message; writing (apply, destroy) only with ``--state-replica``: the
writes reach the state bucket through the replica's rule once the region is back, but
until then a lock held in one bucket does not hold in the other.

Left out: S3 Replication Time Control and its metrics, Batch Replication, a customer
managed KMS key for the state, replica modification sync (the deployer changes no
metadata on replicas), a cross-account replica.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deployer import identity
from deployer.aws import Clients, Target, translate
from deployer.config import Config
from deployer.errors import DeployerError, UsageError
from deployer.names import iam_role_arn, state_replica_bucket
from deployer.workspaces import WORKSPACE_KEY_PREFIX, Workspace

if TYPE_CHECKING:
    from deployer.state import StateRegionDown

#: The ID of the replication rule the deployer puts on each bucket.
RULE_ID = "deployer-state-replica"
#: The replication role's inline policy.
ROLE_POLICY_NAME = "replicate-terraform-state"
#: The longest S3 bucket name.
MAX_BUCKET_NAME = 63
#: The ``--state-replica`` flag's name, for messages (the CLI adds the flag).
ALLOW_FLAG = "--state-replica"

#: A check's verdicts.
CURRENT = "current"
BEHIND = "behind"
NOT_SET_UP = "not set up"
NO_REPLICA = "no replica"
STATE_REGION_DOWN = "state region down"
UNREADABLE = "unreadable"

VERSION = "2012-10-17"


@dataclass(frozen=True)
class Replica:
    """The state bucket and its replica: names, regions, the replication role."""

    account_id: str
    source_bucket: str
    source_region: str
    bucket: str
    region: str
    role_name: str

    @property
    def role_arn(self) -> str:
        return iam_role_arn(self.account_id, self.role_name)

    @property
    def source_arn(self) -> str:
        return f"arn:aws:s3:::{self.source_bucket}"

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}"


# ---------------------------------------------------------------------------
# What and where
# ---------------------------------------------------------------------------
def replica_region(config: Config) -> str | None:
    """The replica's region: the production environment's DR region (its first region
    when the DR region holds the state itself); None without a second region."""
    production = config.environments.get(config.pipeline.production)
    if production is None or production.dr_region is None:
        return None
    for region in (production.dr_region, production.primary_region):
        if region != config.state.region:
            return region
    return None


def replication_role_name(config: Config) -> str:
    """``{delivery prefix}-tfstate-replication`` (IAM is global: one role, both ways)."""
    return f"{config.name_prefix(config.delivery_environment)}-tfstate-replication"


def replica_of(config: Config) -> Replica | None:
    """The project's replica, or None (no DR region)."""
    region = replica_region(config)
    if region is None:
        return None
    return Replica(
        account_id=config.delivery.account_id,
        source_bucket=config.state.bucket,
        source_region=config.state.region,
        bucket=state_replica_bucket(config.state.bucket, region),
        region=region,
        role_name=replication_role_name(config),
    )


def trust_policy(replica: Replica) -> dict[str, Any]:
    """S3 may assume the role, for these two buckets of this account only."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "S3Replication",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": replica.account_id},
                    "ArnLike": {"aws:SourceArn": [replica.source_arn, replica.arn]},
                },
            }
        ],
    }


def role_policy(replica: Replica) -> dict[str, Any]:
    """Each bucket is the other's source and destination (AWS's step 2, both ways)."""
    buckets = [replica.source_arn, replica.arn]
    objects = [f"{arn}/*" for arn in buckets]
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ReadReplicationConfiguration",
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": buckets,
            },
            {
                "Sid": "ReadSourceVersions",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionTagging",
                ],
                "Resource": objects,
            },
            {
                "Sid": "WriteReplicas",
                "Effect": "Allow",
                "Action": ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
                "Resource": objects,
            },
        ],
    }


def replication_configuration(replica: Replica, destination_arn: str) -> dict[str, Any]:
    """One rule: the whole bucket, delete markers too, to ``destination_arn``."""
    return {
        "Role": replica.role_arn,
        "Rules": [
            {
                "ID": RULE_ID,
                "Priority": 1,
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "DeleteMarkerReplication": {"Status": "Enabled"},
                "Destination": {"Bucket": destination_arn, "StorageClass": "STANDARD"},
            }
        ],
    }


# ---------------------------------------------------------------------------
# Clients and errors
# ---------------------------------------------------------------------------
def _client(config: Config, clients: Clients, target: Target, service: str, region: str) -> Any:
    """A client in the delivery account, as the state store is reached (deployer.identity)."""
    return clients.client(
        service,
        region,
        account_id=config.delivery.account_id,
        role_name=identity.state_role_name(config, target),
    )


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def unavailable(exc: Exception) -> bool:
    """Whether an S3 call failed because its region does not answer: HTTP 503
    (``ServiceUnavailable``; a HEAD's 503 has no body, so its code is "503") or no
    connection at all. The emulator's region control answers exactly so."""
    import botocore.exceptions

    if isinstance(
        exc,
        (
            botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectTimeoutError,
            botocore.exceptions.ReadTimeoutError,
            botocore.exceptions.ConnectionClosedError,
        ),
    ):
        return True
    if isinstance(exc, botocore.exceptions.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status == 503 and _code(exc) in ("503", "ServiceUnavailable")
    return False


def _describe(exc: Exception) -> str:
    code = _code(exc)
    if code:
        message = getattr(exc, "response", {}).get("Error", {}).get("Message", "")
        return f"{code}: {message}".rstrip(": ") if message else code
    return str(exc)


# ---------------------------------------------------------------------------
# Made
# ---------------------------------------------------------------------------
def _rule_in_place(s3: Any, bucket: str, replica: Replica, destination_arn: str) -> bool:
    """Whether ``bucket`` replicates to ``destination_arn`` with the deployer's rule."""
    import botocore.exceptions

    try:
        found = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
    except botocore.exceptions.ClientError as exc:
        if _code(exc) in ("ReplicationConfigurationNotFoundError", "NoSuchBucket", "404"):
            return False
        raise translate(exc, f"read the replication configuration of {bucket}") from exc
    return found.get("Role") == replica.role_arn and any(
        rule.get("ID") == RULE_ID
        and rule.get("Status") == "Enabled"
        and rule.get("DeleteMarkerReplication", {}).get("Status") == "Enabled"
        and rule.get("Destination", {}).get("Bucket") == destination_arn
        for rule in found.get("Rules", [])
    )


def _ensure_role(iam: Any, replica: Replica, progress: Callable[[str], None]) -> None:
    import json

    import botocore.exceptions

    trust = json.dumps(trust_policy(replica))
    try:
        iam.create_role(
            RoleName=replica.role_name,
            AssumeRolePolicyDocument=trust,
            Description="S3 replicates the Terraform state bucket and its replica both ways",
        )
        progress(f"created the state replication role {replica.role_name}")
    except botocore.exceptions.ClientError as exc:
        if _code(exc) != "EntityAlreadyExists":
            raise translate(exc, f"create role {replica.role_name}") from exc
        try:
            iam.update_assume_role_policy(RoleName=replica.role_name, PolicyDocument=trust)
        except botocore.exceptions.ClientError as inner:
            raise translate(inner, f"update the trust policy of {replica.role_name}") from inner
    try:
        iam.put_role_policy(
            RoleName=replica.role_name,
            PolicyName=ROLE_POLICY_NAME,
            PolicyDocument=json.dumps(role_policy(replica)),
        )
    except botocore.exceptions.ClientError as exc:
        raise translate(exc, f"put the policy of role {replica.role_name}") from exc


def _ensure_replica_bucket(s3: Any, replica: Replica, progress: Callable[[str], None]) -> None:
    """The replica bucket, as the state bucket is made (deployer.state.make_bucket)."""
    import botocore.exceptions

    from deployer.state import make_bucket

    try:
        s3.head_bucket(Bucket=replica.bucket)
    except botocore.exceptions.ClientError as exc:
        if _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise translate(exc, f"check the state replica bucket {replica.bucket}") from exc
        progress(
            f"creating the Terraform state replica {replica.bucket} in {replica.region} "
            f"(account {replica.account_id})"
        )
        make_bucket(s3, replica.bucket, replica.region)
    else:
        # An earlier run may have stopped after creating it: versioning is what
        # replication needs (both settings are idempotent).
        try:
            s3.put_bucket_versioning(
                Bucket=replica.bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        except botocore.exceptions.ClientError as exc:
            raise translate(exc, f"enable versioning on {replica.bucket}") from exc


def _copy_existing(source: Any, destination: Any, replica: Replica) -> int:
    """Copy the state objects the replica lacks (or holds another version of): live
    replication copies only what is written after it is set up. Returns how many."""
    import botocore.exceptions

    copied = 0
    paginator = source.get_paginator("list_objects_v2")
    try:
        pages = list(
            paginator.paginate(Bucket=replica.source_bucket, Prefix=f"{WORKSPACE_KEY_PREFIX}/")
        )
    except botocore.exceptions.ClientError as exc:
        raise translate(exc, f"list {replica.source_bucket}") from exc
    for page in pages:
        for item in page.get("Contents", []):
            key = item["Key"]
            there = _head(destination, replica.bucket, key)
            if there is not None and there.get("ETag") == item.get("ETag"):
                continue
            try:
                destination.copy_object(
                    Bucket=replica.bucket,
                    Key=key,
                    CopySource={"Bucket": replica.source_bucket, "Key": key},
                    ServerSideEncryption="AES256",
                )
            except botocore.exceptions.ClientError as exc:
                raise translate(exc, f"copy {key} to {replica.bucket}") from exc
            copied += 1
    return copied


def ensure(
    config: Config, clients: Clients, target: Target, progress: Callable[[str], None]
) -> bool:
    """Make the replica and replication both ways when missing. Returns True when it
    changed anything. Read-only, or without a DR region, nothing is done.

    Idempotent, and cheap when in place: one GetBucketReplication per bucket. Run it
    after ``deployer.state.ensure_bucket`` (the state bucket exists) on commands that
    apply, so an existing project gets its replica on its next apply.
    """
    replica = replica_of(config)
    if replica is None or target.read_only:
        return False
    if len(replica.bucket) > MAX_BUCKET_NAME:
        raise UsageError(
            f"the state replica's bucket name {replica.bucket} is longer than "
            f"{MAX_BUCKET_NAME} characters",
            hint="choose a shorter terraform.state.bucket in environments/project.yaml",
        )
    import botocore.exceptions

    try:
        return _make(config, clients, target, replica, progress)
    except (DeployerError, botocore.exceptions.BotoCoreError) as exc:
        # A region that does not answer (the DR region on a bad day) must not stop an
        # apply: the replica is checked again on the next one.
        cause = exc.__cause__ if isinstance(exc, DeployerError) else exc
        if not isinstance(cause, Exception) or not unavailable(cause):
            raise
        progress(
            f"the state's replication was not checked ({_describe(cause)}): "
            "the next apply checks it again"
        )
        return False


def _make(
    config: Config,
    clients: Clients,
    target: Target,
    replica: Replica,
    progress: Callable[[str], None],
) -> bool:
    import botocore.exceptions

    source = _client(config, clients, target, "s3", replica.source_region)
    destination = _client(config, clients, target, "s3", replica.region)
    forward = _rule_in_place(source, replica.source_bucket, replica, replica.arn)
    backward = forward and _rule_in_place(destination, replica.bucket, replica, replica.source_arn)
    if forward and backward:
        return False
    _ensure_replica_bucket(destination, replica, progress)
    _ensure_role(_client(config, clients, target, "iam", replica.source_region), replica, progress)
    try:
        if not forward:
            source.put_bucket_replication(
                Bucket=replica.source_bucket,
                ReplicationConfiguration=replication_configuration(replica, replica.arn),
            )
            copied = _copy_existing(source, destination, replica)
            progress(
                f"replicating {replica.source_bucket} to {replica.bucket}"
                + (f" ({copied} existing state object(s) copied)" if copied else "")
            )
        destination.put_bucket_replication(
            Bucket=replica.bucket,
            ReplicationConfiguration=replication_configuration(replica, replica.source_arn),
        )
    except botocore.exceptions.ClientError as exc:
        raise translate(exc, "set up the state bucket's replication") from exc
    progress(f"replicating {replica.bucket} back to {replica.source_bucket}")
    return True


# ---------------------------------------------------------------------------
# Checked
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ObjectFinding:
    """One workspace's state object in both buckets."""

    workspace: str
    key: str
    status: str  # CURRENT, BEHIND, or "ahead" / "absent" / "unknown"
    detail: str
    source_version: str | None = None
    replica_version: str | None = None
    replica_written: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "workspace": self.workspace,
            "key": self.key,
            "status": self.status,
            "detail": self.detail,
            "source_version": self.source_version,
            "replica_version": self.replica_version,
            "replica_written": self.replica_written,
        }


@dataclass
class ReplicaCheck:
    """The verdict: ``current`` is True, False, or None (cannot tell: the state region
    does not answer); ``fix`` says what to do when it is not current."""

    verdict: str
    current: bool | None
    detail: str
    fix: str | None = None
    bucket: str | None = None
    region: str | None = None
    objects: list[ObjectFinding] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "current": self.current,
            "detail": self.detail,
            "fix": self.fix,
            "bucket": self.bucket,
            "region": self.region,
            "objects": [o.to_json() for o in self.objects],
        }


def _head(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    """HeadObject's answer; None when there is no such object (or its newest version is
    a delete marker). Other errors propagate (botocore's)."""
    import botocore.exceptions

    try:
        answer: dict[str, Any] = s3.head_object(Bucket=bucket, Key=key)
    except botocore.exceptions.ClientError as exc:
        if _code(exc) in ("404", "NoSuchKey", "NotFound", "405", "MethodNotAllowed"):
            return None
        raise
    return answer


def _when(head: dict[str, Any]) -> str | None:
    written = head.get("LastModified")
    if isinstance(written, datetime.datetime):
        return written.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return None


def _compare(
    ws: Workspace, source: dict[str, Any] | None, copy: dict[str, Any] | None
) -> ObjectFinding:
    key = ws.state_key()
    if source is None and copy is None:
        return ObjectFinding(ws.name, key, "absent", "no state yet (never applied)")
    src_version = source.get("VersionId") if source else None
    rep_version = copy.get("VersionId") if copy else None
    written = _when(copy) if copy else None
    common = {"source_version": src_version, "replica_version": rep_version,
              "replica_written": written}  # fmt: skip
    if source is None:
        return ObjectFinding(
            ws.name, key, "ahead",
            "the replica holds state the state bucket lacks (written there while the "
            "state region was down, not yet replicated back)",
            **common,
        )  # fmt: skip
    status = source.get("ReplicationStatus")
    same = copy is not None and (
        (src_version is not None and src_version == rep_version)
        or (source.get("ETag") is not None and source.get("ETag") == copy.get("ETag"))
    )
    if same:
        return ObjectFinding(ws.name, key, CURRENT, "same version in both", **common)
    if status == "PENDING":
        why = "replication of its newest version is under way (PENDING)"
    elif status == "FAILED":
        why = "replication of its newest version FAILED"
    elif status == "REPLICA" and copy is not None:
        written_at, source_at = copy.get("LastModified"), source.get("LastModified")
        if written_at and source_at and written_at > source_at:
            return ObjectFinding(
                ws.name, key, "ahead",
                "the replica holds a newer version (written there, not yet replicated back)",
                **common,
            )  # fmt: skip
        why = "the replica holds another version"
    elif copy is None:
        why = "the replica has no copy"
    else:
        why = "the replica holds another version"
    return ObjectFinding(ws.name, key, BEHIND, why, **common)


def every_workspace(config: Config) -> list[Workspace]:
    """Every workspace of the project, whose state the replica must hold."""
    return [
        Workspace(env.stack, env.name, region.name)
        for env in sorted(config.environments.values(), key=lambda e: e.name)
        for region in env.regions
    ]


def _replica_only(
    destination: Any, replica: Replica, workspaces: Iterable[Workspace], why: str
) -> ReplicaCheck:
    """The state region does not answer: what the replica holds, and since when."""
    findings = []
    for ws in workspaces:
        copy = _head(destination, replica.bucket, ws.state_key())
        if copy is None:
            findings.append(ObjectFinding(ws.name, ws.state_key(), "absent", "not in the replica"))
        else:
            written = _when(copy)
            findings.append(
                ObjectFinding(
                    ws.name,
                    ws.state_key(),
                    "unknown",
                    f"in the replica, last written {written}",
                    replica_version=copy.get("VersionId"),
                    replica_written=written,
                )
            )
    held = [f for f in findings if f.status == "unknown"]
    latest = max((f.replica_written or "" for f in held), default="")
    detail = (
        f"the state region {replica.source_region} does not answer ({why}); the replica "
        f"{replica.bucket} holds the state of {len(held)} workspace(s)"
        + (f", last written {latest}" if latest else "")
    )
    return ReplicaCheck(
        STATE_REGION_DOWN, None, detail, None, replica.bucket, replica.region, findings
    )


def check(
    config: Config,
    clients: Clients,
    target: Target,
    workspaces: Iterable[Workspace] | None = None,
) -> ReplicaCheck:
    """Is the replica current? Per workspace (default: every workspace of the project),
    the newest version of its state in the state bucket against the replica's; and both
    replication rules. Never raises for an AWS failure: it is the verdict."""
    import botocore.exceptions

    replica = replica_of(config)
    if replica is None:
        return ReplicaCheck(
            NO_REPLICA,
            None,
            f"the production environment {config.pipeline.production} has no second region: "
            "the state has no replica",
        )
    chosen = list(workspaces) if workspaces is not None else every_workspace(config)
    apply_delivery = f"deployer apply {config.delivery_environment}"
    source = _client(config, clients, target, "s3", replica.source_region)
    destination = _client(config, clients, target, "s3", replica.region)
    try:
        forward = _rule_in_place(source, replica.source_bucket, replica, replica.arn)
    except DeployerError as exc:
        cause = exc.__cause__
        if isinstance(cause, Exception) and unavailable(cause):
            return _down(destination, replica, chosen, _describe(cause), apply_delivery)
        return ReplicaCheck(
            UNREADABLE, False, exc.message, "retry", bucket=replica.bucket, region=replica.region
        )
    except botocore.exceptions.BotoCoreError as exc:
        if unavailable(exc):
            return _down(destination, replica, chosen, _describe(exc), apply_delivery)
        return ReplicaCheck(
            UNREADABLE, False, str(exc), "retry", bucket=replica.bucket, region=replica.region
        )
    try:
        backward = _rule_in_place(destination, replica.bucket, replica, replica.source_arn)
    except (DeployerError, botocore.exceptions.BotoCoreError) as exc:
        return ReplicaCheck(
            UNREADABLE,
            False,
            f"the replica's region {replica.region} did not answer: {exc}",
            f"retry; a failover needs {replica.region}'s S3",
            bucket=replica.bucket,
            region=replica.region,
        )
    if not forward or not backward:
        missing = [
            f"{a} -> {b}"
            for ok, a, b in (
                (forward, replica.source_bucket, replica.bucket),
                (backward, replica.bucket, replica.source_bucket),
            )
            if not ok
        ]
        return ReplicaCheck(
            NOT_SET_UP,
            False,
            f"no replication {', '.join(missing)}",
            f"{apply_delivery} (any apply sets up the replica and both rules)",
            bucket=replica.bucket,
            region=replica.region,
        )
    findings = []
    try:
        for ws in chosen:
            findings.append(
                _compare(
                    ws,
                    _head(source, replica.source_bucket, ws.state_key()),
                    _head(destination, replica.bucket, ws.state_key()),
                )
            )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        if unavailable(exc):
            return _down(destination, replica, chosen, _describe(exc), apply_delivery)
        return ReplicaCheck(UNREADABLE, False, f"reading the state failed: {_describe(exc)}",
                            "retry", bucket=replica.bucket, region=replica.region)  # fmt: skip
    behind = [f for f in findings if f.status == BEHIND]
    ahead = [f for f in findings if f.status == "ahead"]
    held = [f for f in findings if f.status == CURRENT]
    if not behind and not ahead:
        return ReplicaCheck(
            CURRENT,
            True,
            f"{replica.bucket} ({replica.region}) holds the newest state of {len(held)} "
            "workspace(s); replication on both ways",
            objects=findings,
            bucket=replica.bucket,
            region=replica.region,
        )
    parts = [f"{f.workspace}: {f.detail}" for f in behind + ahead]
    if any("FAILED" in f.detail for f in behind):
        fix = (
            f"check the replication role {replica.role_name} and both buckets; "
            f"{apply_delivery} puts them back"
        )
    elif behind and all("PENDING" in f.detail for f in behind):
        fix = "wait: S3 replicates most objects within minutes; run dr status again"
    elif behind:
        keys = " ".join(f.key for f in behind if "PENDING" not in f.detail)
        fix = (
            f"copy what was written before replication was set up: for each of {keys}, "
            f"aws s3 cp s3://{replica.source_bucket}/KEY s3://{replica.bucket}/KEY "
            f"--sse AES256 --source-region {replica.source_region} --region {replica.region}"
        )
    else:
        fix = "wait: the replica's own rule replicates it back while the state region answers"
    return ReplicaCheck(
        BEHIND,
        False,
        "; ".join(parts),
        fix,
        objects=findings,
        bucket=replica.bucket,
        region=replica.region,
    )


def _down(
    destination: Any, replica: Replica, workspaces: list[Workspace], why: str, fix: str
) -> ReplicaCheck:
    import botocore.exceptions

    try:
        return _replica_only(destination, replica, workspaces, why)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        return ReplicaCheck(
            UNREADABLE,
            False,
            f"neither the state region {replica.source_region} ({why}) nor the replica's "
            f"{replica.region} ({_describe(exc)}) answers",
            f"retry; {fix} once a region answers",
            replica.bucket,
            replica.region,
        )


# ---------------------------------------------------------------------------
# Used
# ---------------------------------------------------------------------------
def fallback(
    config: Config,
    clients: Clients,
    target: Target,
    down: StateRegionDown,
    *,
    writes: bool,
    allowed: bool,
    progress: Callable[[str], None],
) -> Replica:
    """The replica to run Terraform against now that the state region does not answer.

    ``writes``: the command changes state (apply, destroy, unlock); it falls back only
    when ``allowed`` (the user passed ``--state-replica``). Reading falls back by itself.
    Raises ``down`` itself when there is no replica, a UsageError when a write is not
    allowed, and an error when the replica does not answer either or lacks the bucket.
    """
    import botocore.exceptions

    replica = replica_of(config)
    if replica is None:
        raise down
    if writes and not allowed:
        raise UsageError(
            f"{down.message}; the state's replica {replica.bucket} in {replica.region} could "
            "stand in, but this command writes state, and a lock held there does not hold "
            f"in {replica.source_bucket}",
            hint=f"make sure no one else applies now, then re-run with {ALLOW_FLAG}: its "
            f"writes reach {replica.source_bucket} by replication once "
            f"{replica.source_region} is back",
        )
    s3 = _client(config, clients, target, "s3", replica.region)
    try:
        s3.head_bucket(Bucket=replica.bucket)
    except botocore.exceptions.ClientError as exc:
        if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
            raise DeployerError(
                f"{down.message}, and its replica {replica.bucket} does not exist in "
                f"{replica.region}",
                hint="the replica is made by an apply while the state region answers "
                f"(deployer apply {config.delivery_environment}); until then, wait",
            ) from exc
        if unavailable(exc):
            raise DeployerError(
                f"{down.message}, and the replica's region {replica.region} does not answer "
                f"either: {_describe(exc)}"
            ) from exc
        raise translate(exc, f"check the state replica {replica.bucket}") from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise DeployerError(
            f"{down.message}, and the replica's region {replica.region} does not answer "
            f"either: {exc}"
        ) from exc
    progress(
        f"the state region {replica.source_region} does not answer ({down.cause}): "
        f"Terraform's state is read from{' and written to' if writes else ''} the replica "
        f"{replica.bucket} in {replica.region}"
    )
    return replica
