"""S3: the API side of replication; the copying is the ``s3-replication`` engine's.

moto 5.2.5 stores a bucket's replication configuration and does nothing with it: no
version is copied, no object answers ``x-amz-replication-status``, ``PutBucketReplication``
accepts a destination bucket that does not exist or is not versioned, and
``GetBucketReplication`` answers every rule with ``DeleteMarkerReplication`` ``Disabled``
and an empty prefix filter, whatever was put (so a configuration that replicates delete
markers, or filters, reads back as one that does not). This patch, after the API
reference's ``PutBucketReplication``, ``GetBucketReplication``, ``HeadObject`` and the
User Guide's "Requirements and considerations for replication":

* hands each version a client writes (``S3Backend.put_object``, which ``PutObject``,
  ``CopyObject``, ``CompleteMultipartUpload`` and form uploads go through) and each
  delete marker (``DeleteObject`` without a version ID) to the engine
  (``engines/s3_replication.py``), and has it settle, at the end of every S3 request,
  which of the versions written are eligible (their tags are set by then);
* answers ``GetObject`` and ``HeadObject`` with ``x-amz-replication-status`` for a
  version that has one (``PENDING``, ``COMPLETED``, ``FAILED``, ``REPLICA``);
* ``PutBucketReplication``: after moto's own check of the source's versioning
  (``InvalidRequest`` "Versioning must be 'Enabled' on the bucket to apply a replication
  configuration"), each rule's destination must exist (``InvalidRequest`` "Destination
  bucket must exist.") and be versioned (``InvalidRequest`` "Destination bucket must have
  versioning enabled."); a destination in another account is not checked;
* ``GetBucketReplication`` answers each rule as put: its ``Filter`` (``Prefix``, ``Tag``,
  ``And`` with its ``Tags``) or V1 ``Prefix``, ``DeleteMarkerReplication``,
  ``SourceSelectionCriteria``, ``ExistingObjectReplication`` and ``Destination``.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "S3 replicates nothing: no version reaches a replication rule's destination bucket, "
    "objects have no x-amz-replication-status, PutBucketReplication accepts a destination "
    "that does not exist or is not versioned, and GetBucketReplication answers every rule "
    "with DeleteMarkerReplication Disabled and an empty prefix filter."
)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _filter_out(filter_: dict[str, Any] | None) -> dict[str, Any]:
    """A rule's ``Filter`` as stored (``xmltodict``'s) in the shape the serializer writes."""
    filter_ = filter_ or {}
    if "And" in filter_:
        both = filter_["And"] or {}
        out: dict[str, Any] = {"Tags": _as_list(both.get("Tag"))}
        if "Prefix" in both:
            out["Prefix"] = both["Prefix"] or ""
        return {"And": out}
    if "Tag" in filter_:
        return {"Tag": filter_["Tag"]}
    return {"Prefix": filter_.get("Prefix") or ""}


def rule_out(rule: dict[str, Any]) -> dict[str, Any]:
    """One stored rule as ``GetBucketReplication`` answers it."""
    out: dict[str, Any] = {
        "ID": rule["ID"],
        "Priority": int(rule["Priority"]),
        "Status": rule["Status"],
        "Destination": rule["Destination"],
    }
    if "Filter" in rule:
        out["Filter"] = _filter_out(rule["Filter"])
    else:  # V1
        out["Prefix"] = rule.get("Prefix") or ""
    for name in ("DeleteMarkerReplication", "SourceSelectionCriteria", "ExistingObjectReplication"):
        if rule.get(name) is not None:
            out[name] = rule[name]
    return out


def apply() -> None:
    from moto.core.common_types import TYPE_RESPONSE
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError, S3ClientError
    from moto.s3.models import FakeKey, S3Backend, s3_backends
    from moto.s3.responses import S3Response

    from deployer.emulator.engines import s3_replication as engine

    def put_object_factory(original: Any) -> Any:
        def put_object(self: Any, *args: Any, **kwargs: Any) -> Any:
            key = original(self, *args, **kwargs)
            engine.object_written(self, self.get_bucket(key.bucket_name), key)
            return key

        return put_object

    def delete_marker_factory(original: Any) -> Any:
        def _set_delete_marker(self: Any, bucket_name: str, key_name: str) -> Any:
            marker = original(self, bucket_name, key_name)
            engine.delete_marker_written(self, self.get_bucket(bucket_name), marker)
            return marker

        return _set_delete_marker

    def settled_factory(original: Any) -> Any:
        def response(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return original(self, *args, **kwargs)
            finally:
                engine.settle()

        return response

    def response_dict_factory(original: property) -> property:
        def response_dict(self: Any) -> dict[str, Any]:
            headers: dict[str, Any] = original.fget(self)  # type: ignore[misc]
            status = getattr(self, engine.STATUS, None)
            if status is not None:
                headers["x-amz-replication-status"] = status
            return headers

        return property(response_dict)

    def put_replication_factory(original: Any) -> Any:
        def put_bucket_replication(self: Any, bucket_name: str, replication: Any) -> None:
            for rule in _as_list(replication.get("Rule")):
                name = engine.destination_bucket(rule)
                destination = self.buckets.get(name)
                if destination is None and name not in s3_backends.bucket_accounts:
                    raise S3ClientError("InvalidRequest", "Destination bucket must exist.")
                if destination is not None and not destination.is_versioned:
                    raise S3ClientError(
                        "InvalidRequest", "Destination bucket must have versioning enabled."
                    )
            original(self, bucket_name, replication)

        return put_bucket_replication

    def get_replication_factory(_original: Any) -> Any:
        def get_bucket_replication(self: Any) -> str | TYPE_RESPONSE:
            self.data["Action"] = "GetBucketReplication"
            replication = self.backend.get_bucket_replication(self.bucket_name)
            if not replication:
                raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
            rules = [rule_out(rule) for rule in replication["Rule"]]
            document = {"Role": replication["Role"], "Rules": rules}
            answer: str | TYPE_RESPONSE = self.serialized(
                ActionResult({"ReplicationConfiguration": document})
            )
            return answer

        return get_bucket_replication

    replace(S3Backend, "put_object", put_object_factory)
    replace(S3Backend, "_set_delete_marker", delete_marker_factory)
    replace(S3Backend, "put_bucket_replication", put_replication_factory)
    replace(S3Response, "key_response", settled_factory)
    replace(S3Response, "bucket_response", settled_factory)
    replace(S3Response, "get_bucket_replication", get_replication_factory)
    replace(FakeKey, "response_dict", response_dict_factory)
