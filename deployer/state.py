"""The state store: what the deployer keeps about a workspace, in the delivery account.

* **The state bucket** holds Terraform's state and its S3-native lock file
  (``use_lockfile``, no DynamoDB) at ``workspaces/<workspace>/<stack>.tfstate``
  (``.tflock``). The deployer creates the bucket when missing (on the emulator
  every time the emulator is fresh; on AWS once per project), versioned,
  encrypted and private.
* **The in-flight marker** ``<state key>.inflight`` next to the state: written
  before an apply, removed when it succeeds. A marker still there means an
  apply that did not finish (see ``deployer.recovery``).
* **The run history**: each apply or destroy has a run ID
  (``YYYYMMDDTHHMMSSZ-<short commit or 'local'>``); the last runs of each
  workspace are recorded, with what happened, in the SSM parameter
  ``/deployer/runs/<stack>/<workspace>`` (a JSON list). Not as a tag on
  resources: that would make every apply change everything.
* **The replica** (``deployer.state_replica``): the state bucket copied both ways to a
  bucket in the DR region. When the state region does not answer, ``ensure_bucket``
  raises :class:`StateRegionDown`; a ``StateStore`` (and the backend settings) given the
  replica then work there, the run history included (in the replica region's SSM).
"""

from __future__ import annotations

import getpass
import json
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from deployer import identity
from deployer.aws import Clients, Target, translate
from deployer.config import Config
from deployer.errors import DeployerError, UsageError
from deployer.workspaces import Workspace

if TYPE_CHECKING:
    import botocore.exceptions
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ssm import SSMClient

    from deployer.state_replica import Replica

#: Runs kept per workspace in its history.
KEEP_RUNS = 10
RUNS_PREFIX = "/deployer/runs"


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    command: str
    status: str
    changes: dict[str, int]
    by: str
    finished_at: str


def operator() -> str:
    """Who runs the deployer, as recorded in the run history: ``user@host``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _missing(exc: botocore.exceptions.ClientError, *codes: str) -> bool:
    return exc.response.get("Error", {}).get("Code") in codes


def _delivery_client(
    config: Config, clients: Clients, target: Target, service: str, region: str | None = None
) -> Any:
    """A client in the delivery account, in the state's region (or ``region``: the
    replica's): where the state lives."""
    return clients.client(
        service,
        region or config.state.region,
        account_id=config.delivery.account_id,
        role_name=identity.state_role_name(config, target),
    )


class StateRegionDown(DeployerError):
    """The state bucket's region does not answer (S3 503, or no connection): the
    command may run against the replica (``deployer.state_replica.fallback``)."""

    def __init__(self, config: Config, cause: str) -> None:
        from deployer.state_replica import ALLOW_FLAG, replica_of

        self.cause = cause
        replica = replica_of(config)
        super().__init__(
            f"the Terraform state bucket {config.state.bucket} does not answer in "
            f"{config.state.region} ({cause})",
            hint=(
                f"plan reads the replica {replica.bucket} in {replica.region} by itself; "
                f"apply and destroy with {ALLOW_FLAG}"
                if replica is not None
                else "the state has no replica (the production environment has one "
                "region): wait for the region to answer"
            ),
        )


def ensure_bucket(
    config: Config, clients: Clients, target: Target, progress: Callable[[str], None]
) -> bool:
    """Create the state bucket if it does not exist. Returns True when created.

    Read-only, a missing bucket is an error: nothing has been applied, and the
    plan role may not create it. A state region that does not answer is
    :class:`StateRegionDown`.
    """
    import botocore.exceptions

    from deployer import state_replica

    s3: S3Client = _delivery_client(config, clients, target, "s3")
    bucket = config.state.bucket
    try:
        s3.head_bucket(Bucket=bucket)
        return False
    except botocore.exceptions.ClientError as exc:
        if state_replica.unavailable(exc):
            raise StateRegionDown(config, "S3 answers 503 ServiceUnavailable") from exc
        if not _missing(exc, "404", "NoSuchBucket", "NotFound"):
            raise translate(exc, f"check state bucket {bucket}") from exc
    except botocore.exceptions.BotoCoreError as exc:
        if state_replica.unavailable(exc):
            raise StateRegionDown(config, f"S3 cannot be reached: {exc}") from exc
        raise
    if target.read_only:
        raise UsageError(
            f"the Terraform state bucket {bucket} does not exist in account "
            f"{config.delivery.account_id}: nothing has been applied, and --read-only "
            "creates nothing",
            hint="apply the delivery environment first: "
            f"deployer apply {config.delivery_environment}",
        )
    progress(f"creating Terraform state bucket {bucket} in account {config.delivery.account_id}")
    make_bucket(s3, bucket, config.state.region)
    return True


def prepare(
    config: Config,
    clients: Clients,
    target: Target,
    progress: Callable[[str], None],
    *,
    writes: bool,
) -> bool:
    """The state store's preparation: the state bucket (``ensure_bucket``), and for a
    command that writes state, its replica and replication (``state_replica.ensure``),
    so an existing project gets its replica on its next apply. True when the state
    bucket was created."""
    from deployer import state_replica

    created = ensure_bucket(config, clients, target, progress)
    if writes:
        state_replica.ensure(config, clients, target, progress)
    return created


def make_bucket(s3: S3Client, bucket: str, region: str) -> None:
    """A state bucket (the state's, or its replica): versioned, encrypted by default with
    the AWS managed key and an S3 Bucket Key, every public access blocked."""
    import botocore.exceptions

    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={
                    "LocationConstraint": region  # type: ignore[typeddict-item]
                },
            )
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    except botocore.exceptions.ClientError as exc:
        raise translate(exc, f"create state bucket {bucket}") from exc


class StateStore:
    """A workspace's objects in the state bucket, and its run history; with ``replica``
    (the state region does not answer), in the replica and its region."""

    def __init__(
        self,
        config: Config,
        clients: Clients,
        target: Target,
        workspace: Workspace,
        replica: Replica | None = None,
    ) -> None:
        self.config = config
        self.clients = clients
        self.target = target
        self.workspace = workspace
        self.bucket = replica.bucket if replica else config.state.bucket
        self.region = replica.region if replica else config.state.region

    @property
    def s3(self) -> S3Client:
        client: S3Client = _delivery_client(
            self.config, self.clients, self.target, "s3", self.region
        )
        return client

    @property
    def ssm(self) -> SSMClient:
        client: SSMClient = _delivery_client(
            self.config, self.clients, self.target, "ssm", self.region
        )
        return client

    def _read(self, key: str, what: str) -> bytes | None:
        """An object next to the state; None when there is none."""
        import botocore.exceptions

        try:
            body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except botocore.exceptions.ClientError as exc:
            if _missing(exc, "NoSuchKey", "404"):
                return None
            raise translate(exc, f"read {what}") from None
        return body

    # -- the in-flight marker -------------------------------------------------------
    @property
    def marker_key(self) -> str:
        return self.workspace.state_key() + ".inflight"

    def mark_inflight(self, run_id: str) -> None:
        import botocore.exceptions

        body = json.dumps({"run_id": run_id, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ")})
        try:
            # SSE-S3, as Terraform writes the state next to it: S3 replicates it to the
            # replica (an SSE-KMS object would need a rule of its own: deployer.state_replica).
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self.marker_key,
                Body=body.encode(),
                ServerSideEncryption="AES256",
            )
        except botocore.exceptions.ClientError as exc:
            raise translate(exc, f"mark the apply of {self.workspace.name} in flight") from None

    def clear_inflight(self) -> None:
        import botocore.exceptions

        try:
            self.s3.delete_object(Bucket=self.bucket, Key=self.marker_key)
        except botocore.exceptions.ClientError as exc:
            raise translate(exc, f"clear the in-flight marker of {self.workspace.name}") from None

    def unfinished_run(self) -> str | None:
        """The run ID of an earlier apply of this workspace that did not finish, if any."""
        body = self._read(self.marker_key, f"the in-flight marker of {self.workspace.name}")
        if body is None:
            return None
        try:
            return str(json.loads(body).get("run_id", "unknown"))
        except ValueError:
            return "unknown"

    # -- the lock ---------------------------------------------------------------------
    def current_lock(self) -> dict[str, str] | None:
        """Terraform's lock on the workspace's state (its lock info), if one is held."""
        body = self._read(self.workspace.lock_key(), f"the state lock of {self.workspace.name}")
        if body is None:
            return None
        try:
            lock = json.loads(body)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in lock.items()} if isinstance(lock, dict) else {}

    # -- the run history ----------------------------------------------------------------
    @property
    def history_parameter(self) -> str:
        return f"{RUNS_PREFIX}/{self.workspace.stack}/{self.workspace.name}"

    def history(self) -> list[RunRecord]:
        import botocore.exceptions

        try:
            raw = self.ssm.get_parameter(Name=self.history_parameter)
        except botocore.exceptions.ClientError as exc:
            if _missing(exc, "ParameterNotFound"):
                return []
            raise translate(exc, f"read run history of {self.workspace.name}") from None
        try:
            items = json.loads(raw["Parameter"]["Value"])
        except (ValueError, KeyError):
            return []
        records = []
        for item in items if isinstance(items, list) else []:
            try:
                records.append(RunRecord(**item))
            except TypeError:
                continue
        return records

    def record(self, run: RunRecord) -> list[RunRecord]:
        """Prepend ``run`` to the workspace's history (keeping the last KEEP_RUNS)."""
        import botocore.exceptions

        runs = [run] + [r for r in self.history() if r.run_id != run.run_id]
        runs = runs[:KEEP_RUNS]
        value = json.dumps([asdict(r) for r in runs], separators=(",", ":"))
        try:
            self.ssm.put_parameter(
                Name=self.history_parameter,
                Value=value,
                Type="String",
                Overwrite=True,
                Description=(
                    f"Last {KEEP_RUNS} deployer runs of {self.workspace.stack} "
                    f"workspace {self.workspace.name}"
                ),
            )
        except botocore.exceptions.ClientError as exc:
            raise translate(exc, f"record run {run.run_id}") from None
        return runs
