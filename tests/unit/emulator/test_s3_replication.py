"""S3 replication (issue 15: the state bucket's replica in the DR region).

Through the patched emulator's API (the session's ``patched`` server: every patch, the
engines on its clock): engine ``s3-replication`` copies what patch ``s3_replication``
hands it. Each test makes its own buckets, in us-east-1 (the state bucket's region) and
us-west-2 (the DR region), and reads what a user of S3 would: ``HeadObject``'s
``ReplicationStatus``, the objects and versions in the destination, the API's errors.
The region-down test takes us-west-2 down on the shared server and always brings it back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from deployer.emulator import controls
from deployer.emulator.engines.s3_replication import DELAY_S

from ._helpers import unique
from .conftest import Server

EAST, WEST = "us-east-1", "us-west-2"
ROLE = "arn:aws:iam::123456789012:role/s3-replication"
WAIT_S = 15.0


def client(server: Server, region: str) -> Any:
    return boto3.client(
        "s3", region_name=region, endpoint_url=server.endpoint,
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )  # fmt: skip


@pytest.fixture(scope="module")
def s3(patched: Server) -> dict[str, Any]:
    return {EAST: client(patched, EAST), WEST: client(patched, WEST)}


def bucket(s3: dict[str, Any], region: str, *, versioned: bool = True) -> str:
    name = unique(f"state-{region}")
    where = {} if region == EAST else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3[region].create_bucket(Bucket=name, **where)
    if versioned:
        s3[region].put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def rule(destination: str, *, prefix: str = "", delete_markers: bool = True, priority: int = 1,
         **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "ID": unique("rule"),
        "Priority": priority,
        "Status": "Enabled",
        "Filter": {"Prefix": prefix},
        "DeleteMarkerReplication": {"Status": "Enabled" if delete_markers else "Disabled"},
        "Destination": {"Bucket": f"arn:aws:s3:::{destination}"},
        **extra,
    }


def replicate(s3: Any, source: str, *rules: dict[str, Any]) -> None:
    s3.put_bucket_replication(
        Bucket=source, ReplicationConfiguration={"Role": ROLE, "Rules": list(rules)}
    )


def status(s3: Any, name: str, key: str, version: str | None = None) -> str | None:
    extra = {"VersionId": version} if version else {}
    found: str | None = s3.head_object(Bucket=name, Key=key, **extra).get("ReplicationStatus")
    return found


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {WAIT_S:g} s: {what}")


def completed(s3: Any, name: str, key: str) -> str:
    wait_for(lambda: status(s3, name, key) == "COMPLETED", f"{name}/{key} COMPLETED")
    return "COMPLETED"


def versions(s3: Any, name: str) -> list[tuple[str, str, bool]]:
    """(key, version ID, is a delete marker) of every version in ``name``."""
    listing = s3.list_object_versions(Bucket=name)
    found = [(v["Key"], v["VersionId"], False) for v in listing.get("Versions", [])]
    found += [(m["Key"], m["VersionId"], True) for m in listing.get("DeleteMarkers", [])]
    return sorted(found)


def code_and_message(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error: Any = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_a_put_is_replicated_with_its_version_metadata_and_status(s3: dict[str, Any]) -> None:
    source, replica = bucket(s3, EAST), bucket(s3, WEST)
    replicate(s3[EAST], source, rule(replica))
    put = s3[EAST].put_object(
        Bucket=source, Key="env:/prod-us-east-1/runtime.tfstate", Body=b'{"serial": 7}',
        ContentType="application/json", Metadata={"serial": "7"}, Tagging="team=platform",
    )  # fmt: skip
    key, version = "env:/prod-us-east-1/runtime.tfstate", put["VersionId"]
    # Eligible from the end of its request: PENDING until the engine's turn (DELAY_S
    # emulated seconds on), then COMPLETED.
    assert status(s3[EAST], source, key) in ("PENDING", "COMPLETED")
    assert completed(s3[EAST], source, key) == "COMPLETED"

    copy = s3[WEST].get_object(Bucket=replica, Key=key)
    assert copy["ReplicationStatus"] == "REPLICA"
    assert copy["VersionId"] == version
    assert copy["Body"].read() == b'{"serial": 7}'
    assert copy["ContentType"] == "application/json" and copy["Metadata"] == {"serial": "7"}
    assert copy["ETag"] == put["ETag"]
    tags = s3[WEST].get_object_tagging(Bucket=replica, Key=key)["TagSet"]
    assert tags == [{"Key": "team", "Value": "platform"}]
    # A multipart upload and a copy are new versions too.
    upload = s3[EAST].create_multipart_upload(Bucket=source, Key="big")["UploadId"]
    part = s3[EAST].upload_part(Bucket=source, Key="big", UploadId=upload, PartNumber=1,
                                Body=b"x" * 10)  # fmt: skip
    s3[EAST].complete_multipart_upload(
        Bucket=source, Key="big", UploadId=upload,
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )  # fmt: skip
    s3[EAST].copy_object(Bucket=source, Key="copied", CopySource={"Bucket": source, "Key": key})
    completed(s3[EAST], source, "big")
    completed(s3[EAST], source, "copied")
    assert s3[WEST].get_object(Bucket=replica, Key="big")["Body"].read() == b"x" * 10
    assert s3[WEST].get_object(Bucket=replica, Key="copied")["Body"].read() == b'{"serial": 7}'


def test_only_what_a_rule_selects_is_replicated(s3: dict[str, Any]) -> None:
    source, replica = bucket(s3, EAST), bucket(s3, WEST)
    tagged = {"And": {"Prefix": "state/", "Tags": [{"Key": "replicate", "Value": "yes"}]}}
    replicate(s3[EAST], source, {**rule(replica, delete_markers=False), "Filter": tagged})
    s3[EAST].put_object(Bucket=source, Key="other/a", Body=b"a", Tagging="replicate=yes")
    s3[EAST].put_object(Bucket=source, Key="state/b", Body=b"b", Tagging="replicate=no")
    # SSE-KMS objects need the rule's SseKmsEncryptedObjects (this rule has none).
    s3[EAST].put_object(Bucket=source, Key="state/k", Body=b"k", Tagging="replicate=yes",
                        ServerSideEncryption="aws:kms")  # fmt: skip
    s3[EAST].put_object(Bucket=source, Key="state/c", Body=b"c", Tagging="replicate=yes")
    completed(s3[EAST], source, "state/c")  # the engine has had its turn at all four
    assert [key for key, _, _ in versions(s3[WEST], replica)] == ["state/c"]
    for key in ("other/a", "state/b", "state/k"):
        assert status(s3[EAST], source, key) is None, key  # no header: not eligible


def test_sse_kms_objects_are_replicated_with_the_replica_key_when_the_rule_says_so(
    s3: dict[str, Any],
) -> None:
    source, replica = bucket(s3, EAST), bucket(s3, WEST)
    replica_key = "arn:aws:kms:us-west-2:123456789012:key/replica"
    replicate(s3[EAST], source, rule(
        replica,
        SourceSelectionCriteria={"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        Destination={"Bucket": f"arn:aws:s3:::{replica}",
                     "EncryptionConfiguration": {"ReplicaKmsKeyID": replica_key}},
    ))  # fmt: skip
    s3[EAST].put_object(Bucket=source, Key="state", Body=b"s", ServerSideEncryption="aws:kms")
    completed(s3[EAST], source, "state")
    head = s3[WEST].head_object(Bucket=replica, Key="state")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == replica_key


def test_the_highest_priority_rule_for_a_destination_decides(s3: dict[str, Any]) -> None:
    source, replica = bucket(s3, EAST), bucket(s3, WEST)
    replicate(s3[EAST], source,
              rule(replica, priority=1),
              rule(replica, priority=2, Destination={"Bucket": f"arn:aws:s3:::{replica}",
                                                     "StorageClass": "STANDARD_IA"}))  # fmt: skip
    s3[EAST].put_object(Bucket=source, Key="state", Body=b"s")
    completed(s3[EAST], source, "state")
    assert s3[WEST].head_object(Bucket=replica, Key="state")["StorageClass"] == "STANDARD_IA"


def test_two_buckets_replicating_to_each_other_do_not_loop(s3: dict[str, Any]) -> None:
    primary, dr = bucket(s3, EAST), bucket(s3, WEST)
    replicate(s3[EAST], primary, rule(dr))
    replicate(s3[WEST], dr, rule(primary))
    east = s3[EAST].put_object(Bucket=primary, Key="written-in-east", Body=b"e")["VersionId"]
    west = s3[WEST].put_object(Bucket=dr, Key="written-in-west", Body=b"w")["VersionId"]
    completed(s3[EAST], primary, "written-in-east")
    completed(s3[WEST], dr, "written-in-west")
    expected = sorted([("written-in-east", east, False), ("written-in-west", west, False)])
    time.sleep(3 * DELAY_S)  # another turn of the engine: a replica copied back shows now
    assert versions(s3[EAST], primary) == expected
    assert versions(s3[WEST], dr) == expected
    assert status(s3[EAST], primary, "written-in-west") == "REPLICA"
    assert status(s3[WEST], dr, "written-in-east") == "REPLICA"


def test_delete_markers_are_replicated_only_when_the_rule_says_so(s3: dict[str, Any]) -> None:
    source, with_markers, without = bucket(s3, EAST), bucket(s3, WEST), bucket(s3, WEST)
    replicate(s3[EAST], source,
              rule(with_markers, prefix="a/", delete_markers=True),
              rule(without, prefix="b/", delete_markers=False))  # fmt: skip
    for key in ("a/state", "b/state"):
        s3[EAST].put_object(Bucket=source, Key=key, Body=b"s")
        completed(s3[EAST], source, key)
    marker_a = s3[EAST].delete_object(Bucket=source, Key="a/state")["VersionId"]
    s3[EAST].delete_object(Bucket=source, Key="b/state")

    def marker_replicated() -> bool:
        return ("a/state", marker_a, True) in versions(s3[WEST], with_markers)

    wait_for(marker_replicated, "the delete marker replicated")
    with pytest.raises(ClientError):  # deleted there too: the marker is the current version
        s3[WEST].head_object(Bucket=with_markers, Key="a/state")
    # Without delete marker replication the replica keeps the object.
    assert s3[WEST].get_object(Bucket=without, Key="b/state")["Body"].read() == b"s"
    assert [m for m in versions(s3[WEST], without) if m[2]] == []


def test_deleting_a_version_is_not_replicated(s3: dict[str, Any]) -> None:
    source, replica = bucket(s3, EAST), bucket(s3, WEST)
    replicate(s3[EAST], source, rule(replica))
    version = s3[EAST].put_object(Bucket=source, Key="state", Body=b"s")["VersionId"]
    completed(s3[EAST], source, "state")
    s3[EAST].delete_object(Bucket=source, Key="state", VersionId=version)
    s3[EAST].put_object(Bucket=source, Key="later", Body=b"l")  # replicated after any delete
    completed(s3[EAST], source, "later")
    assert ("state", version, False) in versions(s3[WEST], replica)
    assert ("state", version, False) not in versions(s3[EAST], source)


@pytest.fixture
def west(patched: Server) -> Iterator[Callable[[str], None]]:
    """Takes us-west-2 "down" or brings it "up"; it is up again when the test ends."""

    def region(state: str) -> None:
        controls.post(patched.endpoint, f"regions/{state}", {"region": WEST})

    try:
        yield region
    finally:
        region("up")


def test_a_destination_region_down_leaves_versions_pending_until_it_is_back(
    s3: dict[str, Any], west: Callable[[str], None]
) -> None:
    source, replica = bucket(s3, EAST), bucket(s3, WEST)
    replicate(s3[EAST], source, rule(replica))
    west("down")
    version = s3[EAST].put_object(Bucket=source, Key="state", Body=b"s")["VersionId"]
    time.sleep(3 * DELAY_S)  # the engine has had its turn, and waits
    assert status(s3[EAST], source, "state") == "PENDING"
    code, _ = code_and_message(lambda: s3[WEST].head_object(Bucket=replica, Key="state"))
    assert code == "503"  # the region's API is down too
    west("up")  # replicated at once, not at the next retry a minute on
    completed(s3[EAST], source, "state")
    assert s3[WEST].head_object(Bucket=replica, Key="state")["VersionId"] == version


def test_replication_needs_versioned_buckets_that_exist(s3: dict[str, Any], stock: Server) -> None:
    source, replica = bucket(s3, EAST), bucket(s3, WEST)
    unversioned, plain = bucket(s3, EAST, versioned=False), bucket(s3, WEST, versioned=False)

    def refused(name: str, destination: str) -> tuple[str, str]:
        config = {"Role": ROLE, "Rules": [rule(destination)]}
        return code_and_message(
            lambda: s3[EAST].put_bucket_replication(Bucket=name, ReplicationConfiguration=config)
        )

    assert refused(unversioned, replica) == (
        "InvalidRequest",
        "Versioning must be 'Enabled' on the bucket to apply a replication configuration",
    )
    assert refused(source, plain) == (
        "InvalidRequest",
        "Destination bucket must have versioning enabled.",
    )
    assert refused(source, unique("no-such-bucket")) == (
        "InvalidRequest",
        "Destination bucket must exist.",
    )
    # moto as released accepts an unversioned destination.
    stock_s3 = {EAST: client(stock, EAST), WEST: client(stock, WEST)}
    stock_source, stock_plain = bucket(stock_s3, EAST), bucket(stock_s3, WEST, versioned=False)
    replicate(stock_s3[EAST], stock_source, rule(stock_plain))

    # A destination that goes away afterwards: the version FAILED, for good.
    replicate(s3[EAST], source, rule(replica))
    s3[WEST].delete_bucket(Bucket=replica)
    s3[EAST].put_object(Bucket=source, Key="state", Body=b"s")
    wait_for(lambda: status(s3[EAST], source, "state") == "FAILED", "the version FAILED")


def test_get_bucket_replication_answers_the_rules_as_put(s3: dict[str, Any], stock: Server) -> None:
    tagged = {"And": {"Prefix": "state/", "Tags": [{"Key": "replicate", "Value": "yes"}]}}
    rules = [
        rule("REPLICA", prefix="env:/", delete_markers=True, priority=2,
             SourceSelectionCriteria={"SseKmsEncryptedObjects": {"Status": "Enabled"}}),
        {**rule("REPLICA", delete_markers=False), "Filter": tagged},
    ]  # fmt: skip

    def round_trip(region_s3: dict[str, Any]) -> list[dict[str, Any]]:
        source, replica = bucket(region_s3, EAST), bucket(region_s3, WEST)
        mine = [{**r, "Destination": {"Bucket": f"arn:aws:s3:::{replica}"}} for r in rules]
        replicate(region_s3[EAST], source, *mine)
        got: list[dict[str, Any]] = region_s3[EAST].get_bucket_replication(Bucket=source)[
            "ReplicationConfiguration"]["Rules"]  # fmt: skip
        return [{k: v for k, v in r.items() if k != "Destination"} for r in got]

    expected = [{k: v for k, v in r.items() if k != "Destination"} for r in rules]
    assert round_trip(s3) == expected
    # moto as released: every rule Disabled for delete markers, every filter an empty prefix.
    stock_rules = round_trip({EAST: client(stock, EAST), WEST: client(stock, WEST)})
    assert {r["DeleteMarkerReplication"]["Status"] for r in stock_rules} == {"Disabled"}
    assert [r["Filter"] for r in stock_rules] == [{"Prefix": ""}, {"Prefix": ""}]
