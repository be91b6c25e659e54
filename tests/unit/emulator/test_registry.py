"""The registry's API (ECR's data plane) without Docker: Registry API V2 requests as the
Docker engine sends them, against moto's ECR backends in this process.

The Docker CLI's view of the same registry is tests/runtime/test_registry.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws
from werkzeug.test import Client

from deployer.emulator import registry

A = "111111111111"  # the registry's account
B = "222222222222"  # named by the repository policy
C = "333333333333"  # a stranger
HOST = f"{A}.dkr.ecr.us-east-1.amazonaws.com"


class Session:
    def __init__(self, app: registry.Registry, tokens: registry.Tokens) -> None:
        self.client = Client(app)
        self.tokens = tokens

    def auth(self, account: str) -> str:
        token, _ = self.tokens.issue(account, f"arn:aws:iam::{account}:user/tester")
        return f"Basic {token}"

    def call(
        self,
        method: str,
        path: str,
        account: str | None = A,
        host: str = HOST,
        data: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = {"Host": host, **(headers or {})}
        if account:
            sent["Authorization"] = self.auth(account)
        return self.client.open(path, method=method, headers=sent, data=data)

    def push_blob(self, name: str, content: bytes, account: str = A, chunks: int = 2) -> str:
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        started = self.call("POST", f"/v2/{name}/blobs/uploads/", account)
        assert started.status_code == 202, started.get_data()
        location = started.headers["Location"]
        step = max(1, len(content) // chunks)
        for i in range(0, len(content), step):
            part = self.call("PATCH", location, account, data=content[i : i + step])
            assert part.status_code == 202
            assert part.headers["Range"] == f"0-{min(i + step, len(content)) - 1}"
        done = self.call("PUT", f"{location}?digest={digest}", account)
        assert done.status_code == 201, done.get_data()
        assert done.headers["Docker-Content-Digest"] == digest
        return digest

    def put_image(self, name: str, tag: str, layer: bytes, account: str = A) -> tuple[Any, bytes]:
        """Push an image's blobs, then its manifest: (the manifest PUT's response, manifest)."""
        config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        body = manifest_for(
            self.push_blob(name, config, account), len(config),
            self.push_blob(name, layer, account), len(layer),
        )  # fmt: skip
        put = self.call(
            "PUT", f"/v2/{name}/manifests/{tag}", account, data=body,
            headers={"Content-Type": registry.MANIFEST_TYPES[0]},
        )  # fmt: skip
        return put, body

    def push_image(self, name: str, tag: str, layer: bytes, account: str = A) -> tuple[str, bytes]:
        put, body = self.put_image(name, tag, layer, account)
        assert put.status_code == 201, put.get_data()
        return put.headers["Docker-Content-Digest"], body


def manifest_for(config: str, config_size: int, layer: str, layer_size: int) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": registry.MANIFEST_TYPES[0],
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": config_size,
                "digest": config,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": layer_size,
                    "digest": layer,
                }
            ],
        },
        indent=3,
    ).encode()


def error(response: Any) -> tuple[int, str, str]:
    [entry] = json.loads(response.get_data())["errors"]
    return response.status_code, entry["code"], entry["message"]


@pytest.fixture
def ecr() -> Iterator[Any]:
    with mock_aws():
        from moto.ecr.models import ecr_backends

        yield ecr_backends


@pytest.fixture
def session(ecr: Any, tmp_path: Path) -> Session:
    tokens = registry.Tokens()
    app = registry.Registry(registry.Store(tmp_path / "registry"), tokens, threading.RLock())
    return Session(app, tokens)


def create(ecr: Any, name: str = "acme-api", *, account: str = A, **extra: Any) -> Any:
    backend = ecr[account]["us-east-1"]
    defaults: dict[str, Any] = {
        "registry_id": None, "encryption_config": None, "image_scan_config": None,
        "image_tag_mutability": None, "tags": None,
    }  # fmt: skip
    return backend.create_repository(repository_name=name, **{**defaults, **extra})


def test_authentication_follows_ecr(session: Session) -> None:
    ping = session.call("GET", "/v2/", account=None)
    assert ping.status_code == 401
    assert ping.headers["WWW-Authenticate"] == (
        f'Basic realm="https://{HOST}/",service="ecr.amazonaws.com"'
    )
    assert ping.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert session.call("GET", "/v2/").status_code == 200
    forged = base64.b64encode(b"AWS:not-a-token").decode()
    refused = session.call("GET", "/v2/", None, headers={"Authorization": f"Basic {forged}"})
    assert error(refused) == (
        403, "DENIED", "Your authorization token has expired. Reauthenticate and try again."
    )  # fmt: skip
    wrong_user = base64.b64encode(b"admin:x").decode()
    bad = session.call("GET", "/v2/", None, headers={"Authorization": f"Basic {wrong_user}"})
    assert bad.status_code == 400


def test_an_expired_token_is_refused(ecr: Any, tmp_path: Path) -> None:
    tokens = registry.Tokens(lifetime=-1)
    app = registry.Registry(registry.Store(tmp_path / "r"), tokens, threading.RLock())
    token, _ = tokens.issue(A, "arn")
    answer = Client(app).open("/v2/", headers={"Host": HOST, "Authorization": f"Basic {token}"})
    assert error(answer)[:2] == (403, "DENIED")


def test_push_then_pull_the_same_bytes_and_describe_reports_the_push(
    session: Session, ecr: Any
) -> None:
    create(ecr)
    digest, body = session.push_image("acme-api", "v1", b"layer-bytes" * 100)
    assert digest == "sha256:" + hashlib.sha256(body).hexdigest()
    got = session.call("GET", "/v2/acme-api/manifests/v1")
    assert got.status_code == 200 and got.get_data() == body
    assert got.headers["Docker-Content-Digest"] == digest
    assert got.headers["Content-Type"] == registry.MANIFEST_TYPES[0]
    by_digest = session.call("HEAD", f"/v2/acme-api/manifests/{digest}")
    assert by_digest.status_code == 200 and by_digest.headers["Content-Length"] == str(len(body))
    layer = json.loads(body)["layers"][0]["digest"]
    blob = session.call("GET", f"/v2/acme-api/blobs/{layer}")
    assert blob.get_data() == b"layer-bytes" * 100
    [image] = ecr[A]["us-east-1"].describe_images("acme-api")
    assert image.get_image_digest() == digest and image.image_tags == ["v1"]
    tags = session.call("GET", "/v2/acme-api/tags/list")
    assert json.loads(tags.get_data()) == {"name": "acme-api", "tags": ["v1"]}


def test_uploads_are_checked(session: Session, ecr: Any) -> None:
    create(ecr)
    started = session.call("POST", "/v2/acme-api/blobs/uploads/")
    location = started.headers["Location"]
    session.call("PATCH", location, data=b"abc")
    wrong = "sha256:" + "0" * 64
    assert error(session.call("PUT", f"{location}?digest={wrong}"))[:2] == (400, "DIGEST_INVALID")
    assert error(session.call("PATCH", location, data=b"x"))[:2] == (404, "BLOB_UPLOAD_UNKNOWN")
    # A manifest naming a blob the repository does not hold.
    body = manifest_for(wrong, 1, wrong, 1)
    put = session.call("PUT", "/v2/acme-api/manifests/v1", data=body)
    assert error(put)[:2] == (400, "MANIFEST_BLOB_UNKNOWN")
    # Monolithic upload, and a missing repository.
    content = b"one-shot"
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    once = session.call("POST", f"/v2/acme-api/blobs/uploads/?digest={digest}", data=content)
    assert once.status_code == 201
    missing = session.call("GET", "/v2/nothing-here/manifests/v1")
    assert error(missing) == (
        404, "NAME_UNKNOWN",
        f"The repository with name 'nothing-here' does not exist in the registry with id '{A}'",
    )  # fmt: skip


def test_a_blob_is_seen_only_by_repositories_that_hold_it(session: Session, ecr: Any) -> None:
    create(ecr, "acme-api")
    create(ecr, "acme-auth")
    digest = session.push_blob("acme-api", b"shared layer")
    assert session.call("HEAD", f"/v2/acme-auth/blobs/{digest}").status_code == 404
    mount = session.call("POST", f"/v2/acme-auth/blobs/uploads/?mount={digest}&from=acme-api")
    assert mount.status_code == 201
    assert session.call("HEAD", f"/v2/acme-auth/blobs/{digest}").status_code == 200


def test_tags_of_an_immutable_repository_cannot_be_pushed_again(session: Session, ecr: Any) -> None:
    create(ecr, image_tag_mutability="IMMUTABLE")
    session.push_image("acme-api", "v1", b"first")
    for layer in (b"first", b"second"):  # the same image too
        put, _ = session.put_image("acme-api", "v1", layer)
        assert error(put) == (
            400, "TAG_INVALID",
            "The image tag 'v1' already exists in the 'acme-api' repository and cannot be "
            "overwritten because the repository is immutable.",
        )  # fmt: skip
    assert len(ecr[A]["us-east-1"].list_images("acme-api")) == 1


def test_a_mutable_tag_moves_and_leaves_the_old_image_untagged(session: Session, ecr: Any) -> None:
    create(ecr)
    first, _ = session.push_image("acme-api", "latest", b"first")
    again, _ = session.push_image("acme-api", "latest", b"first")  # idempotent
    assert again == first
    second, _ = session.push_image("acme-api", "latest", b"second")
    listed = ecr[A]["us-east-1"].list_images("acme-api")
    images = {image.get_image_digest(): image.image_tags for image in listed}
    assert images == {first: [], second: ["latest"]}


def test_other_accounts_get_what_the_repository_policy_allows(session: Session, ecr: Any) -> None:
    repo = create(ecr)
    session.push_image("acme-api", "v1", b"layer")
    repo.policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                    "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                }
            ],
        }
    )
    assert session.call("GET", "/v2/acme-api/manifests/v1", account=B).status_code == 200
    status, code, message = error(session.call("GET", "/v2/acme-api/manifests/v1", account=C))
    assert (status, code) == (403, "DENIED")
    assert message == (
        f"User: arn:aws:iam::{C}:user/tester is not authorized to perform: ecr:BatchGetImage "
        f"on resource: {repo.arn} because no resource-based policy allows the "
        "ecr:BatchGetImage action"
    )
    pushed = session.call("POST", "/v2/acme-api/blobs/uploads/", account=B)
    assert error(pushed)[:2] == (403, "DENIED")
    assert "ecr:InitiateLayerUpload" in error(pushed)[2]


def test_policy_evaluation() -> None:
    caller = registry.Caller(B, f"arn:aws:sts::{B}:assumed-role/deployer/session")
    allow = {"Effect": "Allow", "Action": "ecr:*"}
    cases = [
        ({**allow, "Principal": "*"}, True),
        ({**allow, "Principal": {"AWS": B}}, True),
        ({**allow, "Principal": {"AWS": [f"arn:aws:iam::{B}:role/deployer"]}}, True),
        ({**allow, "Principal": {"AWS": [f"arn:aws:iam::{B}:role/other"]}}, False),
        ({**allow, "Principal": {"AWS": f"arn:aws:iam::{C}:root"}}, False),
        ({**allow, "Principal": {"AWS": "*"}, "Action": "ecr:Put*"}, False),
    ]
    for statement, expected in cases:
        policy = json.dumps({"Statement": [statement]})
        assert registry.policy_allows(policy, caller, "ecr:BatchGetImage") is expected, statement
    deny = {"Effect": "Deny", "Principal": "*", "Action": "ecr:BatchGetImage"}
    both = json.dumps({"Statement": [{**allow, "Principal": "*"}, deny]})
    assert registry.policy_allows(both, caller, "ecr:BatchGetImage") is False
    assert registry.policy_allows(None, caller, "ecr:BatchGetImage") is False


def test_replication_copies_pushes_to_the_destinations(session: Session, ecr: Any) -> None:
    create(ecr, "acme-api")
    create(ecr, "other-api")
    ecr[A]["us-east-1"].put_replication_configuration(
        {
            "rules": [
                {
                    "destinations": [{"region": "us-west-2", "registryId": A}],
                    "repositoryFilters": [{"filter": "acme-", "filterType": "PREFIX_MATCH"}],
                }
            ]
        }
    )
    digest, body = session.push_image("acme-api", "v1", b"replicated")
    session.push_image("other-api", "v1", b"not replicated")
    west = ecr[A]["us-west-2"]
    assert set(west.repositories) == {"acme-api"}  # created there, the filter decides
    [image] = west.describe_images("acme-api")
    assert image.get_image_digest() == digest and image.image_tags == ["v1"]
    west_host = f"{A}.dkr.ecr.us-west-2.amazonaws.com"
    got = session.call("GET", "/v2/acme-api/manifests/v1", host=west_host)
    assert got.get_data() == body
    layer = json.loads(body)["layers"][0]["digest"]
    assert session.call("GET", f"/v2/acme-api/blobs/{layer}", host=west_host).status_code == 200
