"""ECR's data plane on the local target: the registry behind ECR's host names.

``docker login``, ``docker push`` and ``docker pull`` by a repository's exact
``repositoryUri`` (``<account>.dkr.ecr.<region>.amazonaws.com/<name>:<tag>``)
reach this registry: the emulator serves the Docker Registry HTTP API V2 on a
loopback address (port 80; see ``hosts.py`` for how the names get there), and
the repositories, images, tags and digests are moto's ECR backends, so what a
push stores is what ``DescribeImages``, ``BatchGetImage`` and ``ListImages``
report, and the reverse.

What it reproduces, after ECR's documentation (private registry
authentication, image push, tag mutability, repository policies, private image
replication):

* Authentication: HTTP Basic with user ``AWS`` and the password of a token from
  ``GetAuthorizationToken`` (patch ``ecr_authorization_tokens``: each call
  issues a new random token, valid 12 hours, for the caller). No credentials:
  401 with ECR's ``WWW-Authenticate: Basic`` challenge (docker: "no basic auth
  credentials"); a token that is not ``AWS:<password>``: 400; an unknown or
  expired token: 403 ``DENIED`` "Your authorization token has expired.
  Reauthenticate and try again." A token is the caller's, good for every
  registry the caller may use, as on AWS.
* Authorization: the token's account may push and pull in its own registries.
  Another account's repository allows only what its repository policy allows
  that account (an ``Allow`` for the principal ``*``, the account, its root or a
  role or user of it, on ``ecr:BatchGetImage`` and ``ecr:GetDownloadUrlForLayer``
  to pull; ``ecr:InitiateLayerUpload``, ``ecr:UploadLayerPart``,
  ``ecr:CompleteLayerUpload`` and ``ecr:PutImage`` to push; wildcards in
  actions; an explicit ``Deny`` wins): otherwise 403 ``DENIED`` "User: <arn> is
  not authorized to perform: ecr:<action> on resource: <repository arn> ...".
* Blobs: monolithic and chunked uploads, cross-repository mounts within a
  registry, digest verification (400 ``DIGEST_INVALID``), HEAD and GET; a
  repository sees only the layers pushed to it (404 ``BLOB_UNKNOWN``).
* Manifests: Docker schema 2 and OCI manifests and indexes, up to 4 MiB, every
  referenced blob or manifest present (400 ``MANIFEST_BLOB_UNKNOWN``); the
  image digest is the sha256 of the manifest as pushed; ``imageSizeInBytes`` is
  the sum of its layers' (compressed) sizes (patch ``ecr_image_size``). A tag of an ``IMMUTABLE``
  repository that exists already cannot be pushed again, even with the same
  image: 400 ``TAG_INVALID`` "The image tag '<tag>' already exists in the
  '<name>' repository and cannot be overwritten because the repository is
  immutable." A missing repository: 404 ``NAME_UNKNOWN``.
* Replication: a manifest pushed to a registry whose replication configuration
  has a rule matching the repository (``PREFIX_MATCH`` filters, or none) is
  copied, with its blobs and tag, to each destination (region, registry),
  creating the repository there with default settings when it is missing.
  Cross-account destinations need the destination registry's policy to allow
  ``ecr:ReplicateImage`` to the source account. Only pushes after the
  configuration exists replicate; lifecycle policies and repository settings do
  not.

Left out: layer downloads redirect to S3 on AWS (here the registry answers
them itself); identity-based IAM policies are not evaluated (moto does not
evaluate IAM), only repository and registry policies; no pull-through cache,
no image signing, no manifest deletion through the registry API (ECR does not
offer it either: use ``BatchDeleteImage``); replication happens before the push
is answered, not within minutes, and ``DescribeImageReplicationStatus`` is not
served; blobs are kept on disk under the emulator's state folder for its life,
without garbage collection.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hashlib
import json
import re
import secrets
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: ECR's registry host names: <account>.dkr.ecr.<region>.amazonaws.com
HOST_RE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com"
    r"(?::\d+)?$"
)
TOKEN_LIFETIME_S = 12 * 3600
MANIFEST_LIMIT = 4 * 1024 * 1024
CHUNK = 1024 * 1024

PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
PUSH_ACTIONS = (
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)
_INDEX_TYPES = MANIFEST_TYPES[1::2]
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_NAME = r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
_ROUTES = [
    ("blob", re.compile(rf"^/v2/(?P<name>{_NAME})/blobs/(?P<digest>[^/]+)$")),
    ("uploads", re.compile(rf"^/v2/(?P<name>{_NAME})/blobs/uploads/?$")),
    ("upload", re.compile(rf"^/v2/(?P<name>{_NAME})/blobs/uploads/(?P<uuid>[0-9a-f-]+)$")),
    ("manifest", re.compile(rf"^/v2/(?P<name>{_NAME})/manifests/(?P<reference>[^/]+)$")),
    ("tags", re.compile(rf"^/v2/(?P<name>{_NAME})/tags/list$")),
]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Called with (account, region) when a repository is created there (patch
#: ``ecr_registry_names``): the runtime makes that registry's host name resolve.
REPOSITORY_HOOKS: list[Callable[[str, str], None]] = []
#: Called after each image a push stored (the lifecycle engine evaluates soon).
PUSH_HOOKS: list[Callable[[], None]] = []


class RegistryError(Exception):
    """An error the registry answers with, in the Registry API's JSON shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or []


# -- tokens ------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    account: str
    arn: str


class Tokens:
    """The authorization tokens GetAuthorizationToken issued, by password."""

    def __init__(self, lifetime: float = TOKEN_LIFETIME_S) -> None:
        self.lifetime = lifetime
        self._by_password: dict[str, tuple[Caller, float]] = {}
        self._lock = threading.Lock()

    def issue(self, account: str, arn: str) -> tuple[str, float]:
        """A new token for the caller: (authorizationToken, expiresAt epoch seconds)."""
        password = secrets.token_urlsafe(48)
        expires = time.time() + self.lifetime
        with self._lock:
            now = time.time()
            for key in [k for k, (_c, t) in self._by_password.items() if t <= now]:
                del self._by_password[key]
            self._by_password[password] = (Caller(account, arn), expires)
        token = base64.b64encode(f"AWS:{password}".encode()).decode()
        return token, expires

    def caller(self, authorization: str | None, host: str) -> Caller:
        """Who sent a request with this ``Authorization`` header, or the error ECR answers."""
        if not authorization:
            raise RegistryError(
                401,
                "UNAUTHORIZED",
                "Not Authorized",
                [
                    (
                        "WWW-Authenticate",
                        f'Basic realm="https://{host}/",service="ecr.amazonaws.com"',
                    )
                ],
            )
        scheme, _, value = authorization.partition(" ")
        try:
            user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        if scheme.lower() != "basic" or user != "AWS" or not password:
            raise RegistryError(400, "UNSUPPORTED", "Bad Request: use the user AWS and a token")
        with self._lock:
            entry = self._by_password.get(password)
        if entry is None or entry[1] <= time.time():
            raise RegistryError(
                403, "DENIED", "Your authorization token has expired. Reauthenticate and try again."
            )
        return entry[0]


#: The emulator's one token table, shared by the GetAuthorizationToken patch.
TOKENS = Tokens()


# -- policies ----------------------------------------------------------------------


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_matches(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for entry in _listed(principal.get("AWS", [])):
        entry = str(entry)
        if entry in ("*", caller.account, caller.arn):
            return True
        if re.fullmatch(rf"arn:aws[a-z-]*:iam::{caller.account}:root", entry):
            return True
        # A role's ARN names the sessions of that role.
        role = re.fullmatch(rf"arn:aws[a-z-]*:iam::{caller.account}:role/(?:.*/)?([^/]+)", entry)
        session = re.fullmatch(r"arn:aws[a-z-]*:sts::\d{12}:assumed-role/([^/]+)/.+", caller.arn)
        if role and session and role.group(1) == session.group(1):
            return True
    return False


def policy_allows(policy_text: str | None, caller: Caller, action: str) -> bool:
    """Whether a resource policy allows ``caller`` ``action`` (an explicit Deny wins)."""
    if not policy_text:
        return False
    try:
        policy = json.loads(policy_text)
    except ValueError:
        return False
    allowed = False
    for statement in _listed(policy.get("Statement", [])):
        if not isinstance(statement, dict):
            continue
        actions = [str(a).lower() for a in _listed(statement.get("Action", []))]
        if not any(fnmatch.fnmatchcase(action.lower(), a) for a in actions):
            continue
        if not _principal_matches(statement.get("Principal"), caller):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


# -- storage -----------------------------------------------------------------------


@dataclass
class Upload:
    repository: tuple[str, str, str]
    path: Path
    hasher: Any
    size: int = 0


class Store:
    """Blobs on disk, content-addressed; which repository holds which, in memory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.incoming = root / "uploads"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.incoming.mkdir(parents=True, exist_ok=True)
        self._held: dict[tuple[str, str, str], set[str]] = {}
        self._uploads: dict[str, Upload] = {}
        self._lock = threading.Lock()

    def path(self, digest: str) -> Path:
        return self.blobs / digest.replace(":", "-")

    def holds(self, repository: tuple[str, str, str], digest: str) -> bool:
        with self._lock:
            return digest in self._held.get(repository, set()) and self.path(digest).is_file()

    def link(self, repository: tuple[str, str, str], digests: Iterable[str]) -> None:
        with self._lock:
            self._held.setdefault(repository, set()).update(digests)

    def start(self, repository: tuple[str, str, str]) -> str:
        ident = str(uuid.uuid4())
        upload = Upload(repository, self.incoming / ident, hashlib.sha256())
        upload.path.touch()
        with self._lock:
            self._uploads[ident] = upload
        return ident

    def upload(self, ident: str, repository: tuple[str, str, str]) -> Upload:
        with self._lock:
            upload = self._uploads.get(ident)
        if upload is None or upload.repository != repository:
            raise RegistryError(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
        return upload

    def append(self, upload: Upload, chunks: Iterator[bytes]) -> None:
        with open(upload.path, "ab") as out:
            for chunk in chunks:
                upload.hasher.update(chunk)
                upload.size += len(chunk)
                out.write(chunk)

    def finish(self, ident: str, upload: Upload, digest: str) -> None:
        """Store a finished upload as the blob ``digest`` if its content has that digest."""
        with self._lock:
            self._uploads.pop(ident, None)
        actual = "sha256:" + upload.hasher.hexdigest()
        if actual != digest:
            upload.path.unlink(missing_ok=True)
            raise RegistryError(
                400, "DIGEST_INVALID", f"provided digest {digest} did not match uploaded content"
            )
        upload.path.replace(self.path(digest))
        self.link(upload.repository, [digest])

    def drop(self, ident: str) -> None:
        with self._lock:
            upload = self._uploads.pop(ident, None)
        if upload is not None:
            upload.path.unlink(missing_ok=True)

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


# -- the registry ------------------------------------------------------------------


class Registry:
    """The Registry API over moto's ECR backends (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        tokens: Tokens = TOKENS,
        lock: Any = None,
        on_registry: Callable[[str], None] | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        from deployer.emulator.scheduler import BACKEND_LOCK

        self.store = store
        self.tokens = tokens
        self.lock = lock if lock is not None else BACKEND_LOCK
        #: Called with a registry host name that must resolve (replication targets).
        self.on_registry = on_registry or (lambda _host: None)
        #: The emulator's clock (emulated epoch seconds): an image's push time.
        self.now = now

    # -- WSGI ------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            status, headers, body = self.handle(environ)
        except RegistryError as exc:
            status = exc.status
            body = json.dumps(
                {"errors": [{"code": exc.code, "message": exc.message, "detail": None}]}
            ).encode()
            headers = [("Content-Type", "application/json; charset=utf-8"), *exc.headers]
        given = next((v for k, v in headers if k == "Content-Length"), None)
        if isinstance(body, Path):
            length = str(body.stat().st_size)
        else:
            length = given if given is not None and not body else str(len(body))
        if environ.get("REQUEST_METHOD") == "HEAD":
            body = b""
        headers = [(k, v) for k, v in headers if k != "Content-Length"]
        headers += [
            ("Content-Length", length),
            ("Docker-Distribution-API-Version", "registry/2.0"),
        ]
        start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
        if isinstance(body, Path):
            return _file_chunks(body)
        return [body]

    def handle(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], Any]:
        host = str(environ.get("HTTP_HOST", ""))
        match = HOST_RE.match(host)
        if not match:
            raise RegistryError(404, "NAME_UNKNOWN", f"{host} is not an ECR registry host name")
        account, region = match.group("account"), match.group("region")
        caller = self.tokens.caller(environ.get("HTTP_AUTHORIZATION"), host)
        path = str(environ.get("PATH_INFO", ""))
        method = str(environ.get("REQUEST_METHOD", "GET"))
        if path in ("/v2/", "/v2"):
            return 200, [("Content-Type", "application/json")], b"{}"
        for route, pattern in _ROUTES:
            found = pattern.match(path)
            if found:
                args = found.groupdict()
                repository = (account, region, args["name"])
                return self._route(route, method, repository, caller, args, environ)
        raise RegistryError(404, "NAME_INVALID", f"no such registry path: {path}")

    def _route(
        self,
        route: str,
        method: str,
        repository: tuple[str, str, str],
        caller: Caller,
        args: dict[str, str],
        environ: dict[str, Any],
    ) -> tuple[int, list[tuple[str, str]], Any]:
        reading = method in ("GET", "HEAD")
        self._authorize(repository, caller, PULL_ACTIONS if reading else PUSH_ACTIONS)
        query = _query(environ)
        if route == "blob" and reading:
            return self._get_blob(repository, args["digest"])
        if route == "uploads" and method == "POST":
            return self._start_upload(repository, caller, query, environ)
        if route == "upload" and method == "PATCH":
            upload = self.store.upload(args["uuid"], repository)
            self.store.append(upload, _body(environ))
            return 202, self._upload_headers(repository, args["uuid"], upload.size), b""
        if route == "upload" and method == "PUT":
            return self._finish_upload(repository, args["uuid"], query, environ)
        if route == "upload" and method == "DELETE":
            self.store.upload(args["uuid"], repository)
            self.store.drop(args["uuid"])
            return 204, [], b""
        if route == "upload" and method == "GET":
            upload = self.store.upload(args["uuid"], repository)
            return 204, self._upload_headers(repository, args["uuid"], upload.size), b""
        if route == "manifest" and reading:
            return self._get_manifest(repository, args["reference"])
        if route == "manifest" and method == "PUT":
            return self._put_manifest(repository, args["reference"], environ)
        if route == "tags" and method == "GET":
            with self.lock:
                repo = self._repository(repository)
                tags = sorted({t for image in repo.images for t in image.image_tags if t})
            body = json.dumps({"name": repository[2], "tags": tags}).encode()
            return 200, [("Content-Type", "application/json")], body
        raise RegistryError(405, "UNSUPPORTED", f"The operation is unsupported: {method}")

    # -- authorization ----------------------------------------------------------
    def _backend(self, account: str, region: str) -> Any:
        from moto.ecr.models import ecr_backends

        return ecr_backends[account][region]

    def _repository(self, repository: tuple[str, str, str]) -> Any:
        account, region, name = repository
        repo = self._backend(account, region).repositories.get(name)
        if repo is None:
            raise RegistryError(
                404,
                "NAME_UNKNOWN",
                f"The repository with name '{name}' does not exist in the registry "
                f"with id '{account}'",
            )
        return repo

    def _authorize(
        self, repository: tuple[str, str, str], caller: Caller, actions: tuple[str, ...]
    ) -> None:
        with self.lock:
            repo = self._repository(repository)
            policy = repo.policy
            arn = repo.arn
        if caller.account == repository[0]:
            return
        for action in actions:
            if not policy_allows(policy, caller, action):
                raise RegistryError(
                    403,
                    "DENIED",
                    f"User: {caller.arn} is not authorized to perform: {action} on resource: "
                    f"{arn} because no resource-based policy allows the {action} action",
                )

    # -- blobs -------------------------------------------------------------------
    def _get_blob(
        self, repository: tuple[str, str, str], digest: str
    ) -> tuple[int, list[tuple[str, str]], Any]:
        if not _DIGEST_RE.match(digest) or not self.store.holds(repository, digest):
            raise RegistryError(404, "BLOB_UNKNOWN", "blob unknown to registry")
        path = self.store.path(digest)
        headers = [
            ("Content-Type", "application/octet-stream"),
            ("Docker-Content-Digest", digest),
            ("Content-Length", str(path.stat().st_size)),
        ]
        return 200, headers, path

    def _start_upload(
        self,
        repository: tuple[str, str, str],
        caller: Caller,
        query: dict[str, str],
        environ: dict[str, Any],
    ) -> tuple[int, list[tuple[str, str]], Any]:
        mount, source = query.get("mount"), query.get("from")
        if mount and source and _DIGEST_RE.match(mount):
            origin = (repository[0], repository[1], source)
            try:
                self._authorize(origin, caller, PULL_ACTIONS)
                mountable = self.store.holds(origin, mount)
            except RegistryError:
                mountable = False
            if mountable:
                self.store.link(repository, [mount])
                return 201, self._blob_headers(repository, mount), b""
        ident = self.store.start(repository)
        if query.get("digest"):  # a monolithic upload
            upload = self.store.upload(ident, repository)
            self.store.append(upload, _body(environ))
            self.store.finish(ident, upload, query["digest"])
            return 201, self._blob_headers(repository, query["digest"]), b""
        return 202, self._upload_headers(repository, ident, 0), b""

    def _finish_upload(
        self,
        repository: tuple[str, str, str],
        ident: str,
        query: dict[str, str],
        environ: dict[str, Any],
    ) -> tuple[int, list[tuple[str, str]], Any]:
        upload = self.store.upload(ident, repository)
        digest = query.get("digest", "")
        if not _DIGEST_RE.match(digest):
            raise RegistryError(400, "DIGEST_INVALID", f"invalid digest: {digest!r}")
        self.store.append(upload, _body(environ))
        self.store.finish(ident, upload, digest)
        return 201, self._blob_headers(repository, digest), b""

    @staticmethod
    def _upload_headers(
        repository: tuple[str, str, str], ident: str, size: int
    ) -> list[tuple[str, str]]:
        return [
            ("Location", f"/v2/{repository[2]}/blobs/uploads/{ident}"),
            ("Range", f"0-{max(size - 1, 0)}"),
            ("Docker-Upload-UUID", ident),
        ]

    @staticmethod
    def _blob_headers(repository: tuple[str, str, str], digest: str) -> list[tuple[str, str]]:
        return [
            ("Location", f"/v2/{repository[2]}/blobs/{digest}"),
            ("Docker-Content-Digest", digest),
        ]

    # -- manifests ----------------------------------------------------------------
    def _find_image(self, repo: Any, reference: str) -> Any:
        for image in repo.images:
            if reference == image.get_image_digest() or reference in image.image_tags:
                return image
        return None

    def _get_manifest(
        self, repository: tuple[str, str, str], reference: str
    ) -> tuple[int, list[tuple[str, str]], Any]:
        with self.lock:
            image = self._find_image(self._repository(repository), reference)
            if image is None:
                raise RegistryError(
                    404,
                    "MANIFEST_UNKNOWN",
                    f"Requested image not found: {repository[2]}:{reference}",
                )
            manifest = image.image_manifest.encode()
            media_type = image.image_manifest_media_type or json.loads(manifest).get(
                "mediaType", MANIFEST_TYPES[0]
            )
            digest = image.get_image_digest()
        headers = [("Content-Type", media_type), ("Docker-Content-Digest", digest)]
        return 200, headers, manifest

    def _put_manifest(
        self, repository: tuple[str, str, str], reference: str, environ: dict[str, Any]
    ) -> tuple[int, list[tuple[str, str]], Any]:
        raw = b"".join(_body(environ, limit=MANIFEST_LIMIT + 1))
        if len(raw) > MANIFEST_LIMIT:
            raise RegistryError(400, "MANIFEST_INVALID", "manifest larger than 4 MiB")
        try:
            manifest = json.loads(raw)
        except ValueError:
            raise RegistryError(400, "MANIFEST_INVALID", "manifest invalid: not JSON") from None
        content_type = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip()
        media_type = manifest.get("mediaType") or content_type
        if media_type not in MANIFEST_TYPES:
            raise RegistryError(
                400, "MANIFEST_INVALID", f"manifest invalid: unsupported media type {media_type!r}"
            )
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        if reference.startswith("sha256:") and reference != digest:
            raise RegistryError(400, "DIGEST_INVALID", f"manifest digest {digest} != {reference}")
        tag = None if reference.startswith("sha256:") else reference
        blobs = [d for d in _referenced_blobs(manifest) if not self.store.holds(repository, d)]
        if blobs:
            raise RegistryError(
                400, "MANIFEST_BLOB_UNKNOWN", f"blob unknown to registry: {blobs[0]}"
            )
        with self.lock:
            repo = self._repository(repository)
            children = [m.get("digest") for m in manifest.get("manifests", [])]
            missing = [d for d in children if self._find_image(repo, str(d)) is None]
            if media_type in _INDEX_TYPES and missing:
                raise RegistryError(
                    400, "MANIFEST_BLOB_UNKNOWN", f"manifest unknown to registry: {missing[0]}"
                )
            self._store_image(repository, raw.decode(), tag, media_type, digest)
            destinations = self._replication_targets(repository)
        for destination in destinations:
            self._replicate(repository, destination, raw.decode(), tag, media_type, digest)
        for hook in list(PUSH_HOOKS):
            hook()
        headers = [
            ("Location", f"/v2/{repository[2]}/manifests/{digest}"),
            ("Docker-Content-Digest", digest),
        ]
        return 201, headers, b""

    def _store_image(
        self,
        repository: tuple[str, str, str],
        manifest: str,
        tag: str | None,
        media_type: str,
        digest: str,
    ) -> None:
        """Record the image in moto's backend (under the lock)."""
        backend = self._backend(repository[0], repository[1])
        name = repository[2]
        repo = self._repository(repository)
        same = self._find_image(repo, digest)
        tagged = self._find_image(repo, tag) if tag else None
        if tag and tagged is not None and repo.is_tag_immutable():
            raise RegistryError(
                400,
                "TAG_INVALID",
                f"The image tag '{tag}' already exists in the '{name}' repository and cannot "
                "be overwritten because the repository is immutable.",
            )
        if same is not None and (tag is None or tag in same.image_tags):
            return  # the registry API is idempotent: nothing changes
        if tagged is not None:
            # The tag moves; the image it named stays, untagged unless it has others
            # (moto's PutImage would delete it).
            tagged.remove_tag(tag)
        if same is not None:
            same.update_tag(tag)
            return
        image = backend.put_image(name, manifest, tag, media_type, digest)
        image.image_pushed_at = int(self.now())

    # -- replication ----------------------------------------------------------------
    def _replication_targets(self, repository: tuple[str, str, str]) -> list[tuple[str, str]]:
        account, region, name = repository
        config = getattr(self._backend(account, region), "replication_config", None) or {}
        targets: list[tuple[str, str]] = []
        for rule in config.get("rules", []):
            filters = rule.get("repositoryFilters") or []
            if filters and not any(
                f.get("filterType", "PREFIX_MATCH") == "PREFIX_MATCH"
                and name.startswith(str(f.get("filter", "")))
                for f in filters
            ):
                continue
            for destination in rule.get("destinations", []):
                target = (str(destination["registryId"]), str(destination["region"]))
                if target != (account, region) and target not in targets:
                    targets.append(target)
        return targets

    def _replicate(
        self,
        source: tuple[str, str, str],
        destination: tuple[str, str],
        manifest: str,
        tag: str | None,
        media_type: str,
        digest: str,
    ) -> None:
        account, region = destination
        name = source[2]
        target = (account, region, name)
        with self.lock:
            backend = self._backend(account, region)
            if account != source[0]:
                policy = (getattr(backend, "registry_policy", None) or {}).get("policyText")
                arn = f"arn:aws:iam::{source[0]}:root"
                if not policy_allows(policy, Caller(source[0], arn), "ecr:ReplicateImage"):
                    return  # AWS: the replication fails; the source push stands
            if name not in backend.repositories:
                backend.create_repository(
                    repository_name=name,
                    registry_id=None,
                    encryption_config=None,
                    image_scan_config=None,
                    image_tag_mutability=None,
                    tags=None,
                )
        self.on_registry(registry_host(account, region))
        self.store.link(target, _referenced_blobs(json.loads(manifest)))
        with self.lock:
            try:
                self._store_image(target, manifest, tag, media_type, digest)
            except RegistryError:
                return  # an immutable tag there: that image's replication fails


def registry_host(account: str, region: str) -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com"


def _referenced_blobs(manifest: dict[str, Any]) -> list[str]:
    found = []
    config = manifest.get("config")
    if isinstance(config, dict) and config.get("digest"):
        found.append(str(config["digest"]))
    found += [str(layer["digest"]) for layer in manifest.get("layers", []) if "digest" in layer]
    return found


def _query(environ: dict[str, Any]) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(str(environ.get("QUERY_STRING", ""))))


def _body(environ: dict[str, Any], limit: int | None = None) -> Iterator[bytes]:
    """The request body in chunks (chunked transfer encoding or Content-Length)."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    remaining = int(length) if length else None
    if remaining is None and not environ.get("wsgi.input_terminated"):
        return
    read = 0
    while remaining is None or remaining > 0:
        size = CHUNK if remaining is None else min(CHUNK, remaining)
        chunk = stream.read(size)
        if not chunk:
            break
        read += len(chunk)
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk
        if limit is not None and read >= limit:
            break


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
}
