"""``deployer release --source DIR``: put a working tree where the pipeline takes it from.

The pipeline's Source stage reads the monorepo from the delivery account's CodeCommit
repository (``{delivery prefix}-monorepo``, branch ``pipeline.branch``): a commit there
starts it. This module commits a working tree to that branch through CodeCommit's API,
the same calls on AWS and on the local emulator (whose ``codecommit_commits`` patch keeps
commits with git's own ids):

1. the tree: every file under DIR, except ``.git`` and, when DIR is a git work tree, what
   git ignores (``git ls-files --cached --others --exclude-standard``); symbolic links are
   committed as links (mode 120000, their target as content), executables as 100755;
2. the branch's tip (GetBranch; a repository without the branch gets its first commit)
   and its tree, read as blob ids and modes (GetDifferences from nothing to the tip);
3. only what differs: files whose git blob id or mode changed are put, files the branch
   has and the tree does not are deleted. Nothing differs: nothing is committed;
4. CodeCommit takes at most 100 file entries and 7 MB of content a commit (6 MB a file,
   and a folder), so a larger change is split into consecutive commits on the branch,
   each the parent of the next; the last one is the release.

With ``pipeline.source: S3`` the pipeline reads one zip instead (the delivery stack's
``{delivery prefix}-source-{region}`` bucket, key ``monorepo.zip``, versioned): the same
tree is zipped (the same bytes for the same files: sorted entries, fixed times, modes
kept) and uploaded as a new version, unless the current version's ``sha256`` metadata
says it holds that tree already.

Bad input changes nothing: a missing or empty folder, one without ``services/`` (the
monorepo's layout the Build actions build; :func:`require_services`), a file over
CodeCommit's 6 MB limit, or a branch another commit moved in the meantime
(``ParentCommitIdOutdatedException``: run it again) is reported before or instead of a
commit.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from deployer.aws import translate
from deployer.config import Config
from deployer.errors import DeployerError, UsageError
from deployer.image_settings import DEFAULT_SOURCE
from deployer.scope import Scope

#: CodeCommit's limits (AWS CodeCommit quotas): file entries and content per commit, per file.
MAX_ENTRIES = 100
MAX_FILE_BYTES = 6 * 1024 * 1024
#: What a part of a commit may carry: under the 7 MB a commit (and 6 MB a folder) takes.
PART_BYTES = 5 * 1024 * 1024
REGULAR, EXECUTABLE, SYMLINK = "100644", "100755", "120000"
#: CodeCommit's modes by the names CreateCommit's ``fileMode`` takes.
FILE_MODES = {REGULAR: "NORMAL", EXECUTABLE: "EXECUTABLE", SYMLINK: "SYMLINK"}
DEFAULT_MESSAGE = "deployer release"
SKIPPED_DIRS = {".git"}


class ReleaseError(DeployerError):
    """The tree could not be committed."""


@dataclass(frozen=True)
class LocalFile:
    path: str  # relative, with forward slashes
    mode: str  # 100644, 100755 or 120000
    content: bytes

    @property
    def blob_id(self) -> str:
        return blob_id(self.content)


def blob_id(content: bytes) -> str:
    """git's blob id of ``content`` (what CodeCommit reports as blobId)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def read_tree(source: Path) -> dict[str, LocalFile]:
    """The files to commit from ``source``, by relative path."""
    if not source.is_dir():
        raise UsageError(f"--source {source}: no such folder")
    files: dict[str, LocalFile] = {}
    for relative in _listed(source):
        path = source / relative
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            mode, content = SYMLINK, os.readlink(path).encode()
        elif stat.S_ISREG(info.st_mode):
            mode = EXECUTABLE if info.st_mode & 0o111 else REGULAR
            content = path.read_bytes()
        else:
            continue
        if len(content) > MAX_FILE_BYTES:
            raise ReleaseError(
                f"{path}: {len(content):,} bytes, over CodeCommit's {MAX_FILE_BYTES:,}-byte "
                "limit for a file committed through its API",
                hint="keep large files out of the monorepo (an artifact store, or git LFS "
                "elsewhere), or list them in .gitignore",
            )
        files[relative] = LocalFile(relative, mode, content)
    return files


def _listed(source: Path) -> list[str]:
    """Relative paths of the files of ``source``: git's view when it is a work tree."""
    if (source / ".git").exists():
        found = subprocess.run(
            ["git", "-C", str(source), "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"],
            capture_output=True,
            check=False,
        )  # fmt: skip
        if found.returncode == 0:
            names = [p for p in found.stdout.decode().split("\0") if p]
            # Tracked files deleted from the work tree, and submodules, are not files here.
            return sorted(p for p in names if (source / p).is_symlink() or (source / p).is_file())
    paths = []
    for folder, dirs, names in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in names:
            paths.append(Path(folder, name).relative_to(source).as_posix())
        for name in list(dirs):
            if Path(folder, name).is_symlink():  # a link to a folder is a file to git
                paths.append(Path(folder, name).relative_to(source).as_posix())
                dirs.remove(name)
    return sorted(paths)


@dataclass
class Part:
    put: list[LocalFile] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    size: int = 0

    @property
    def entries(self) -> int:
        return len(self.put) + len(self.delete)


def plan_parts(put: list[LocalFile], delete: list[str]) -> list[Part]:
    """The change in commits CodeCommit takes: at most MAX_ENTRIES entries and PART_BYTES
    of content each (deletions first, so a path that turns from a file into a folder is
    free before it is written)."""
    parts = [Part()]
    for path in delete:
        if parts[-1].entries >= MAX_ENTRIES:
            parts.append(Part())
        parts[-1].delete.append(path)
    for local in put:
        part = parts[-1]
        if part.entries >= MAX_ENTRIES or (
            part.put and part.size + len(local.content) > PART_BYTES
        ):
            parts.append(part := Part())
        part.put.append(local)
        part.size += len(local.content)
    return [p for p in parts if p.entries]


@dataclass
class Released:
    repository: str
    branch: str
    account_id: str
    region: str
    before: str | None  # the branch's tip before, None for a first commit
    commits: list[str]
    added: list[str]
    updated: list[str]
    deleted: list[str]
    files: int

    @property
    def commit(self) -> str | None:
        """The release: the branch's tip after (None when nothing changed)."""
        return self.commits[-1] if self.commits else None

    def to_json(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "branch": self.branch,
            "account_id": self.account_id,
            "region": self.region,
            "changed": bool(self.commits),
            "commit": self.commit or self.before,
            "parent": self.before,
            "commits": self.commits,
            "files": self.files,
            "added": self.added,
            "updated": self.updated,
            "deleted": self.deleted,
        }

    def to_text(self) -> str:
        where = f"{self.repository} {self.branch} ({self.account_id} {self.region})"
        if not self.commits:
            return (
                f"{where}: already at this tree ({self.files} files) in commit {self.before}; "
                "nothing committed"
            )
        parts = f" in {len(self.commits)} commits" if len(self.commits) > 1 else ""
        return (
            f"{where}: commit {self.commit}{parts} (parent {self.before or 'none: first commit'}): "
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.deleted)} deleted "
            f"of {self.files} files"
        )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _remote_tree(codecommit: Any, repository: str, tip: str) -> dict[str, tuple[str, str]]:
    """path -> (blob id, mode) of the tree at ``tip``."""
    tree: dict[str, tuple[str, str]] = {}
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"repositoryName": repository, "afterCommitSpecifier": tip}
        if token:
            kwargs["NextToken"] = token
        page = codecommit.get_differences(**kwargs)
        for difference in page.get("differences", []):
            after = difference.get("afterBlob")
            if after:
                tree[str(after["path"]).lstrip("/")] = (str(after["blobId"]), str(after["mode"]))
        token = page.get("NextToken")
        if not token:
            return tree


def prepare(config: Config, source: Path) -> dict[str, LocalFile]:
    """What the release commits, checked before anything is asked of AWS."""
    if config.pipeline.source not in ("CodeCommit", "S3"):  # pragma: no cover - config checks
        raise UsageError(f"pipeline.source {config.pipeline.source!r} cannot be released to")
    local = read_tree(source.resolve())
    if not local:
        raise UsageError(
            f"--source {source}: no files to commit (an empty folder, or git ignores all)"
        )
    return local


#: The monorepo's layout the pipeline builds: services/<microservice>/ (and tests/integration/).
SERVICES_DIR = "services"


def require_services(source: Path, files: dict[str, LocalFile]) -> None:
    """Refuse a tree without ``services/``: the pipeline would build nothing of it (each
    Build action builds services/<microservice>/)."""
    if not any(path.startswith(f"{SERVICES_DIR}/") for path in files):
        raise UsageError(
            f"--source {source}: no {SERVICES_DIR}/ folder; the pipeline builds "
            f"{SERVICES_DIR}/<microservice>/ of the monorepo, so this is not one",
            hint=f"name the monorepo's folder with --source (the sample: {DEFAULT_SOURCE})",
        )


def zip_tree(files: dict[str, LocalFile]) -> bytes:
    """The tree as a zip, the same bytes for the same files: sorted, fixed times, each
    entry's mode (symbolic links as links) in its external attributes."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            local = files[path]
            entry = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3  # unix: the mode below is read
            mode = {REGULAR: 0o100644, EXECUTABLE: 0o100755, SYMLINK: 0o120777}[local.mode]
            entry.external_attr = mode << 16
            archive.writestr(entry, local.content)
    return buffer.getvalue()


@dataclass
class Uploaded:
    """An S3 source release: the zip's object version."""

    bucket: str
    key: str
    account_id: str
    region: str
    sha256: str
    size: int
    files: int
    version_id: str | None
    changed: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "source": "S3",
            "bucket": self.bucket,
            "key": self.key,
            "account_id": self.account_id,
            "region": self.region,
            "changed": self.changed,
            "version_id": self.version_id,
            "sha256": self.sha256,
            "size": self.size,
            "files": self.files,
        }

    def to_text(self) -> str:
        where = f"s3://{self.bucket}/{self.key} ({self.account_id} {self.region})"
        if not self.changed:
            return (
                f"{where}: already this tree ({self.files} files, sha256 {self.sha256[:12]}) in "
                f"version {self.version_id}; nothing uploaded"
            )
        return (
            f"{where}: version {self.version_id}, {self.files} files, {self.size:,} bytes "
            f"(sha256 {self.sha256[:12]})"
        )


#: The object metadata that names the zip's content (x-amz-meta-sha256).
SHA256_METADATA = "sha256"


def upload(scope: Scope, local: dict[str, LocalFile], say: Callable[[str], None]) -> Uploaded:
    """The S3 source: the tree's zip as a new version of the pipeline's source object,
    unless the current version holds the same tree."""
    names = scope.config.names.delivery
    bucket, key = names.source_bucket, names.source_object_key
    body = zip_tree(local)
    digest = hashlib.sha256(body).hexdigest()
    s3 = scope.client("s3")
    result = Uploaded(
        bucket, key, scope.account_id, scope.region, digest, len(body), len(local), None, False
    )
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if _code(exc) not in ("404", "NoSuchKey", "NotFound", "NoSuchBucket"):
            raise translate(exc, f"read s3://{bucket}/{key}") from None
        if not _bucket_exists(s3, bucket):
            raise ReleaseError(
                f"the pipeline's source bucket {bucket} does not exist in the delivery account "
                f"({scope.account_id} {scope.region})",
                hint="apply the delivery stack with pipeline.source: S3 first: "
                f"deployer apply {scope.env.name}",
            ) from None
    else:
        if (head.get("Metadata") or {}).get(SHA256_METADATA) == digest:
            result.version_id = head.get("VersionId")
            say(f"release: s3://{bucket}/{key} already holds this tree")
            return result
    say(f"release: uploading {len(body):,} bytes to s3://{bucket}/{key}")
    try:
        put = s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType="application/zip",
            Metadata={SHA256_METADATA: digest, "files": str(len(local))},
        )
    except ClientError as exc:
        raise translate(exc, f"upload s3://{bucket}/{key}") from None
    result.version_id, result.changed = put.get("VersionId"), True
    return result


def _bucket_exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        return False
    return True


def release(
    scope: Scope,
    source: Path,
    *,
    message: str | None = None,
    progress: Callable[[str], None] | None = None,
    files: dict[str, LocalFile] | None = None,
) -> Released | Uploaded:
    """Commit ``source`` (its ``files`` when already read by :func:`prepare`) to the
    pipeline's branch, or upload it as the S3 source's zip; ``scope`` is the delivery
    environment's."""
    config = scope.config
    say = progress or (lambda _line: None)
    local = files if files is not None else prepare(config, source)
    if config.pipeline.source == "S3":
        say(f"release: {len(local)} files under {source} -> the pipeline's S3 source")
        return upload(scope, local, say)
    repository = config.names.delivery.repository_name
    branch = config.pipeline.branch
    say(f"release: {len(local)} files under {source} -> {repository} {branch}")
    codecommit = scope.client("codecommit")
    try:
        tip: str | None = codecommit.get_branch(repositoryName=repository, branchName=branch)[
            "branch"
        ]["commitId"]
    except ClientError as exc:
        if _code(exc) == "BranchDoesNotExistException":
            tip = None
        elif _code(exc) == "RepositoryDoesNotExistException":
            raise ReleaseError(
                f"CodeCommit repository {repository} does not exist in the delivery account "
                f"({scope.account_id} {scope.region})",
                hint=f"apply the delivery stack first: deployer apply {scope.env.name}",
            ) from None
        else:
            raise translate(exc, f"read branch {branch} of {repository}") from None
    try:
        remote = _remote_tree(codecommit, repository, tip) if tip else {}
    except ClientError as exc:
        raise translate(exc, f"read the tree of {repository} at {tip}") from None
    put = [f for path, f in sorted(local.items()) if remote.get(path) != (f.blob_id, f.mode)]
    delete = sorted(set(remote) - set(local))
    added = [f.path for f in put if f.path not in remote]
    updated = [f.path for f in put if f.path in remote]
    result = Released(
        repository, branch, scope.account_id, scope.region, tip, [], added, updated, delete,
        len(local),
    )  # fmt: skip
    if not put and not delete:
        say(f"release: {branch} already has this tree (commit {tip})")
        return result
    parts = plan_parts(put, delete)
    text = message or DEFAULT_MESSAGE
    parent = tip
    for number, part in enumerate(parts, 1):
        label = text if len(parts) == 1 else f"{text} (part {number} of {len(parts)})"
        request: dict[str, Any] = {
            "repositoryName": repository,
            "branchName": branch,
            "commitMessage": label,
            "authorName": "deployer",
            "putFiles": [
                {"filePath": f.path, "fileContent": f.content, "fileMode": FILE_MODES[f.mode]}
                for f in part.put
            ],
            "deleteFiles": [{"filePath": path} for path in part.delete],
        }
        if parent:
            request["parentCommitId"] = parent
        try:
            answer = codecommit.create_commit(**request)
        except ClientError as exc:
            done = f" (parts 1-{number - 1} committed: {parent})" if number > 1 else ""
            if _code(exc) in ("ParentCommitIdOutdatedException", "ParentCommitIdRequiredException"):
                raise ReleaseError(
                    f"{branch} of {repository} moved while releasing{done}: "
                    f"{exc.response['Error'].get('Message', '')}",
                    hint="run the release again: it commits what still differs",
                ) from None
            raise translate(
                exc, f"commit part {number} of {len(parts)} to {repository}{done}"
            ) from None
        parent = str(answer["commitId"])
        result.commits.append(parent)
        say(
            f"release: commit {parent}"
            + (f" (part {number} of {len(parts)})" if len(parts) > 1 else "")
            + f": {len(part.put)} put, {len(part.delete)} deleted"
        )
    return result
