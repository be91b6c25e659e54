"""S3 replication: new object versions copied to the destination buckets of a bucket's rules.

Reproduces live replication within one account (same- and cross-region, SRR and CRR),
after the S3 User Guide's "Replicating objects within and across Regions", "Setting up
live replication" and its "Requirements and considerations for replication", "What
does Amazon S3 replicate?", "Replicating delete markers between buckets", "Getting
replication status information" and "Amazon S3 replication failure reasons", and the
API reference's ``ReplicationRule``:

* a version a client writes (``PutObject``, ``CopyObject``,
  ``CompleteMultipartUpload``, a form ``POST``) to a bucket with a replication
  configuration is replicated to each destination bucket one of its ``Enabled`` rules
  selects it for: a V2 rule's ``Filter`` (``Prefix``, ``Tag``, or ``And`` of a prefix
  and tags; empty: every object), a V1 rule's ``Prefix`` (no ``Filter``); of the rules
  with the same destination the one with the highest ``Priority`` decides. Objects
  encrypted with SSE-KMS (or DSSE-KMS) only by a rule whose
  ``SourceSelectionCriteria.SseKmsEncryptedObjects`` is ``Enabled``; their replica is
  encrypted with the rule's ``ReplicaKmsKeyID``;
* the replica has the same key, body, version ID, user metadata and system metadata
  (``Content-Type`` and the other headers), tags, ACL and storage class (the rule's
  ``StorageClass`` if it names one);
* ``x-amz-replication-status`` on ``GetObject``/``HeadObject``: ``PENDING`` for an
  eligible source version from the end of the request that wrote it,
  ``COMPLETED`` once every destination has its replica, ``FAILED`` when one cannot
  (the destination bucket does not exist, ``DstBucketNotFound``, or is not
  versioned, ``DstBucketUnversioned``); ``REPLICA`` on a replica. A source version that
  no rule selects has no header;
* replicas are not replicated again, so two buckets that replicate to each other (two
  rules, one on each) do not loop;
* a delete marker (``DeleteObject`` without a version ID) is replicated when the
  rule's ``DeleteMarkerReplication`` is ``Enabled`` (V2; never for a rule with tags in
  its filter) and always under a V1 rule; the replica marker keeps its version ID.
  Deleting a specific version is never replicated;
* a temporary failure leaves the version ``PENDING`` and is retried: while the
  destination's region, or the source's, is down (``controls.py``,
  ``POST /_deployer/regions/down``) nothing is copied; when the region comes back (and
  every minute) the pending versions are replicated, in the order they were written.

AWS replicates "most objects within 15 minutes", some in seconds. Here a write is
replicated a fifth of an emulated second after its request (``DELAY_S``), on the
emulator's clock (``--time-scale``): a reader sees ``PENDING`` briefly, then
``COMPLETED``.

What the API side needs is patch ``s3_replication``: it hands this engine every
version written (:func:`object_written`, :func:`delete_marker_written`), settles which
are eligible at the end of each S3 request (:func:`settle`), serves the header, checks
``PutBucketReplication``'s destinations and answers ``GetBucketReplication`` with the
rules as put.

Left out: S3 Replication Time Control and replication metrics, Batch Replication and
existing-object replication, replica modification sync (changes to a replica's
metadata are not copied back), tag or ACL changes after the write, the replication
role's permissions (not evaluated), ownership override (``AccessControlTranslation``)
and other accounts' destinations, KMS choices beyond the replica's key (keys are not
checked), Object Lock settings, S3 event notifications of replication, and the
replica's ``Last-Modified`` (the time it was written here).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deployer.emulator.scheduler import BACKEND_LOCK, Scheduler

log = logging.getLogger(__name__)

#: Emulated seconds from a write to its replication (AWS: seconds to 15 minutes).
DELAY_S = 0.2
#: Emulated seconds between retries of what a region down left pending.
RETRY_S = 60.0

PENDING, COMPLETED, FAILED, REPLICA = "PENDING", "COMPLETED", "FAILED", "REPLICA"
#: The attribute of moto's ``FakeKey`` holding its replication status (None: no header).
STATUS = "replication_status"
KMS = ("aws:kms", "aws:kms:dsse")


@dataclass
class Task:
    """One version (object or delete marker) to copy to one destination bucket."""

    account: str
    partition: str
    source: str
    version: Any
    destination: str
    rule: dict[str, Any]
    marker: bool


#: Versions written but not yet matched against the rules: (account, partition, bucket,
#: key). Settled at the end of the request that wrote them, when their tags are set.
_fresh: list[tuple[str, str, str, Any]] = []
#: What waits to be copied, oldest first.
_tasks: list[Task] = []
#: Called after each write (the running engine's ``soon``).
WRITE_HOOKS: list[Callable[[], None]] = []


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _status(element: Any) -> str:
    return str((element or {}).get("Status") or "")


def _tags_of(filter_: dict[str, Any]) -> list[tuple[str, str]]:
    tags = _as_list(filter_.get("Tag")) + _as_list((filter_.get("And") or {}).get("Tag"))
    return [(str(t.get("Key") or ""), str(t.get("Value") or "")) for t in tags]


def _prefix_of(rule: dict[str, Any]) -> str:
    if "Filter" not in rule:  # V1
        return str(rule.get("Prefix") or "")
    filter_ = rule["Filter"] or {}
    return str(filter_.get("Prefix") or (filter_.get("And") or {}).get("Prefix") or "")


def destination_bucket(rule: dict[str, Any]) -> str:
    """The bucket name of a rule's ``Destination.Bucket`` ARN (``arn:aws:s3:::name``)."""
    return str((rule.get("Destination") or {}).get("Bucket") or "").rpartition(":")[2]


def selects(rule: dict[str, Any], name: str, tags: dict[str, str], encryption: str | None,
            *, marker: bool) -> bool:  # fmt: skip
    """Whether an ``Enabled`` rule replicates this version (an object, or a delete marker)."""
    if _status(rule) != "Enabled" or not name.startswith(_prefix_of(rule)):
        return False
    wanted = _tags_of(rule.get("Filter") or {})
    if marker:
        v1 = "Filter" not in rule
        return v1 or (_status(rule.get("DeleteMarkerReplication")) == "Enabled" and not wanted)
    if any(tags.get(key) != value for key, value in wanted):
        return False
    if encryption in KMS:
        criteria = rule.get("SourceSelectionCriteria") or {}
        return _status(criteria.get("SseKmsEncryptedObjects")) == "Enabled"
    return True


def plan(config: dict[str, Any] | None, name: str, tags: dict[str, str],
         encryption: str | None, *, marker: bool) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Destination bucket -> the rule replicating the version there: of the rules with the
    same destination, the highest ``Priority`` that selects it."""
    chosen: dict[str, dict[str, Any]] = {}
    for rule in _as_list((config or {}).get("Rule")):
        if not selects(rule, name, tags, encryption, marker=marker):
            continue
        destination = destination_bucket(rule)
        best = chosen.get(destination)
        if best is None or int(rule.get("Priority") or 0) > int(best.get("Priority") or 0):
            chosen[destination] = rule
    return chosen


def _has_rules(bucket: Any) -> bool:
    config = getattr(bucket, "replication", None) or {}
    return any(_status(rule) == "Enabled" for rule in _as_list(config.get("Rule")))


def object_written(backend: Any, bucket: Any, key: Any) -> None:
    """A client wrote ``key`` (a new version) to ``bucket``; matched at :func:`settle`."""
    if _has_rules(bucket):
        _fresh.append((backend.account_id, backend.partition, bucket.name, key))
        _notify()


def delete_marker_written(backend: Any, bucket: Any, marker: Any) -> None:
    """A client's ``DeleteObject`` without a version ID put ``marker`` in ``bucket``."""
    config = getattr(bucket, "replication", None)
    chosen = plan(config, marker.name, {}, None, marker=True)
    for destination, rule in chosen.items():
        _tasks.append(
            Task(backend.account_id, backend.partition, bucket.name, marker, destination, rule,
                 marker=True)
        )  # fmt: skip
    if chosen:
        _notify()


def settle() -> None:
    """Match the versions written since the last call against their bucket's rules: the
    eligible become ``PENDING`` with a task for each destination. Called under the lock."""
    from moto.s3.models import s3_backends

    while _fresh:
        account, partition, name, key = _fresh.pop(0)
        backend = s3_backends[account][partition]
        bucket = backend.buckets.get(name)
        if bucket is None:
            continue
        tags = backend.tagger.get_tag_dict_for_resource(key.arn)
        config = getattr(bucket, "replication", None)
        chosen = plan(config, key.name, tags, key.encryption, marker=False)
        if chosen:
            setattr(key, STATUS, PENDING)
        for destination, rule in chosen.items():
            _tasks.append(Task(account, partition, name, key, destination, rule, marker=False))


def _notify() -> None:
    for hook in list(WRITE_HOOKS):
        hook()


def _still_there(bucket: Any, version: Any) -> bool:
    return any(v is version for v in bucket.keys.getlist(version.name, []))


def _copy_object(backend: Any, task: Task, destination: Any) -> None:
    from moto.s3.models import FakeKey

    key = task.version
    if any(v.version_id == key.version_id for v in destination.keys.getlist(key.name, [])):
        return  # copied before
    target = task.rule.get("Destination") or {}
    encryption, kms_key = key.encryption, key.kms_key_id
    if encryption in KMS:
        kms_key = (target.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
    replica = FakeKey(
        name=key.name,
        value=key.value,
        account_id=destination.account_id,
        region_name=destination.region_name,
        storage=target.get("StorageClass") or key.storage_class,
        etag=key.etag.strip('"'),
        is_versioned=True,
        version_id=key.version_id,
        bucket_name=destination.name,
        encryption=encryption,
        kms_key_id=kms_key,
        bucket_key_enabled=key.bucket_key_enabled,
        checksum_value=key.checksum_value,
        checksum_type=key.checksum_type,
    )
    replica.checksum_algorithm = key.checksum_algorithm
    replica.set_metadata(dict(key.metadata))  # Content-Type and the user metadata
    replica.set_acl(key.acl)
    replica.website_redirect_location = key.website_redirect_location
    setattr(replica, STATUS, REPLICA)
    backend.tagger.copy_tags(key.arn, replica.arn)
    destination.keys[key.name] = replica  # appended: the current version


def _copy_marker(task: Task, destination: Any) -> None:
    from moto.s3.models import FakeDeleteMarker

    marker = task.version
    versions = destination.keys.getlist(marker.name, [])
    if any(v.version_id == marker.version_id for v in versions):
        return
    replica = FakeDeleteMarker(key=versions[-1] if versions else marker.key)
    vars(replica)["_version_id"] = marker.version_id  # the source marker's version ID
    replica.last_modified = marker.last_modified
    destination.keys[marker.name] = replica


class S3Replication:
    """The engine (see the module docstring)."""

    name = "s3-replication"

    def __init__(self, delay: float = DELAY_S, retry_every: float = RETRY_S,
                 lock: Any = BACKEND_LOCK) -> None:  # fmt: skip
        self.delay = delay
        self.retry_every = retry_every
        self.lock = lock
        self.replicated = 0
        self.failed = 0
        self._down: frozenset[str] = frozenset()
        self._scheduler: Scheduler | None = None
        self._soon = threading.Event()  # a run is scheduled

    def start(self, scheduler: Scheduler) -> None:
        from deployer.emulator import controls

        self._scheduler = scheduler
        WRITE_HOOKS.append(self.soon)
        scheduler.every(self.retry_every, self.run, name="s3-replication retries")
        controls.watch_regions(self.set_regions_down)

    def set_regions_down(self, regions: frozenset[str]) -> None:
        """The regions down now (``controls.watch_regions``); a region back resumes at once."""
        back = self._down - regions
        self._down = regions
        if back:
            self.soon()

    def soon(self) -> None:
        """Replicate shortly (after a write), without waiting for the next retry."""
        if self._scheduler is not None and not self._soon.is_set():
            self._soon.set()
            self._scheduler.call_later(self.delay, self.run, name="s3-replication after a write")

    def run(self) -> None:
        from moto.s3.models import s3_backends

        self._soon.clear()
        with self.lock:
            settle()
            batch, copied = list(_tasks), []
            _tasks.clear()
            for task in batch:
                outcome = self._attempt(s3_backends[task.account][task.partition], task)
                if outcome == "wait":
                    _tasks.append(task)
                elif not task.marker:
                    copied.append(task.version)
            # A version is COMPLETED once no destination waits for it (and none failed).
            waiting = {id(task.version) for task in _tasks}
            for version in copied:
                if id(version) not in waiting and getattr(version, STATUS, None) == PENDING:
                    setattr(version, STATUS, COMPLETED)

    def _attempt(self, backend: Any, task: Task) -> str:
        """Copy one version: "done", "failed" (for good), or "wait" (retried later)."""
        source = backend.buckets.get(task.source)
        if source is None or not _still_there(source, task.version):
            return "done"  # nothing left to copy
        destination = backend.buckets.get(task.destination)
        if source.region_name in self._down or (
            destination is not None and destination.region_name in self._down
        ):
            return "wait"
        reason = (
            "DstBucketNotFound" if destination is None
            else None if destination.is_versioned
            else "DstBucketUnversioned"
        )  # fmt: skip
        if reason is not None:
            self.failed += 1
            if not task.marker:
                setattr(task.version, STATUS, FAILED)
            where = f"{task.source}/{task.version.name} {task.version.version_id}"
            log.warning("s3-replication: %s to %s failed: %s", where, task.destination, reason)
            return "failed"
        if task.marker:
            _copy_marker(task, destination)
        else:
            _copy_object(backend, task, destination)
        self.replicated += 1
        log.info("s3-replication: %s/%s %s replicated to %s", task.source, task.version.name,
                 task.version.version_id, task.destination)  # fmt: skip
        return "done"

    def status(self) -> dict[str, Any]:
        return {
            "pending": len(_tasks),
            "replicated": self.replicated,
            "failed": self.failed,
            "retry_every_s": self.retry_every,
        }
