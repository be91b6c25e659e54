"""CodeCommit: repositories keep commits, branches, folders and files.

moto 5.2.5's CodeCommit has repositories and nothing in them: CreateCommit,
PutFile, DeleteFile, GetBranch, CreateBranch, ListBranches, GetCommit,
GetFolder, GetFile, GetBlob and GetDifferences are unknown actions (HTTP 500),
so nothing can be committed to the pipeline's source repository, and no
pipeline source action or build has anything to read.

This patch keeps a git object store on each moto repository object, following
the CodeCommit API Reference for each action (request fields, answers, errors):

* ids are real git object ids: a blob id is ``git hash-object`` of the content,
  a tree id that of the git tree (entries sorted as git sorts them, modes
  100644 NORMAL, 100755 EXECUTABLE, 120000 SYMLINK, 40000 folders), a commit id
  that of the git commit (``tree``, ``parent``, ``author``/``committer``
  ``Name <email> 1234567890 +0000``, message), so a client can compare them
  with ``git hash-object``/``git write-tree`` of its working tree;
* CreateCommit (putFiles with ``fileContent`` or ``sourceFile``/``isMove``,
  deleteFiles, setFileModes, keepEmptyFolders with a ``.gitkeep``), PutFile and
  DeleteFile commit on the tip of a branch: ``parentCommitId`` is needed once
  the branch exists and must be its tip (ParentCommitIdRequiredException,
  InvalidParentCommitIdException, ParentCommitDoesNotExistException,
  ParentCommitIdOutdatedException); the first commit of an empty repository
  creates its branch and makes it the repository's ``defaultBranch``; a commit
  to another missing branch is BranchDoesNotExistException. The entry errors:
  FileEntryRequiredException, MaximumFileEntriesExceededException (100 files a
  commit), PathRequiredException, InvalidPathException,
  SamePathRequestException, SourceFileOrContentRequiredException,
  FileContentAndSourceFileSpecifiedException, RestrictedSourceFileException,
  FileDoesNotExistException, InvalidFileModeException,
  FileModeRequiredException, FileContentSizeLimitExceededException (6 MB a
  file, 7 MB a commit), FolderContentSizeLimitExceededException (6 MB added
  to one folder), PutFileEntryConflictException,
  FileNameConflictsWithDirectoryNameException,
  DirectoryNameConflictsWithFileNameException, NoChangeException,
  CommitMessageLengthExceededException (256 KB); PutFile's
  FileContentRequiredException and SameFileContentException;
* GetFolder, GetFile and GetDifferences take a commit specifier: a full commit
  id, a branch name, ``refs/heads/<branch>``, ``HEAD`` or nothing (the default
  branch's tip); CommitDoesNotExistException otherwise. GetDifferences without
  ``beforeCommitSpecifier`` lists the whole after tree as added; differences
  are ``A``/``M``/``D`` (a move is a ``D`` and an ``A``) with ``beforeBlob``
  and ``afterBlob`` (``blobId``, ``path``, ``mode`` as the octal git mode).
  ``beforePath``/``afterPath`` compare the folder at ``beforePath`` in the
  before commit with the one at ``afterPath`` in the after commit (one given
  stands for both), paths relative to them, as the AWS CLI reference's example
  of a renamed folder shows; a path in neither commit is
  PathDoesNotExistException. Pages follow ``MaxResults`` and ``NextToken``
  (100 differences a page when not given: AWS pages the answer but does not
  document its default size);
* GetCommit answers ``commitId``, ``treeId``, ``parents``, ``message``,
  ``author``/``committer`` with ``date`` as ``"1234567890 +0000"`` and an empty
  ``additionalData``; CreateBranch (which sets no default branch),
  UpdateDefaultBranch and DeleteBranch (DefaultBranchCannotBeDeletedException)
  move branches; GetBranch answers the branch's tip.

Every commit (CreateCommit, PutFile, DeleteFile), CreateBranch and DeleteBranch puts a
"CodeCommit Repository State Change" event ("Monitoring CodeCommit events") on the
default event bus of the repository's account and region: source ``aws.codecommit``,
the repository's ARN as resource, detail ``event`` (``referenceCreated`` for a new
branch, ``referenceUpdated`` for a commit on an existing one, ``referenceDeleted``),
``callerUserArn``, ``commitId`` (not for a deletion), ``oldCommitId`` (not for a
creation), ``referenceFullName`` (``refs/heads/<branch>``), ``referenceName``,
``referenceType`` (``branch``), ``repositoryId`` and ``repositoryName``; the event
patches deliver it to the rules that match (the delivery stack's rule starts its
pipeline).

Engines that take a repository's source read it with :func:`read_tree`.
Error messages follow the API Reference's description of each error, with the
path, branch or id concerned; AWS's exact wording is not documented. Commit
dates are wall-clock time, like moto's other timestamps, not the scheduler's
emulated clock.

Left out: the events of tags, merges, pull requests and comments,
``displayName``/``emailAddress`` of session tags in events, git itself (no
clone, push or pull over HTTPS/SSH: the store is only reachable through the
API), tags, merges and pull requests, conflict-resolution actions, abbreviated
commit ids and ``HEAD~n``-style specifiers, submodules (``subModules`` is always
empty: the API cannot create one), the checks of author name length and email
format (their limits are not documented), the wording of the default commit
message (the emulator's own), ListBranches paging (every branch in one answer),
FileTooLargeException (nothing over the 6 MB a file can be written through the
API) and the KMS encryption errors.
Nothing persists across an emulator restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import posixpath
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ._util import add_method

log = logging.getLogger(__name__)

GAP = (
    "CodeCommit stores no commits: CreateCommit, PutFile, DeleteFile, GetBranch, "
    "GetCommit, GetFolder, GetFile and GetDifferences are unknown actions (HTTP 500)."
)

#: CodeCommit's file modes and the git tree modes they stand for.
MODES = {"NORMAL": "100644", "EXECUTABLE": "100755", "SYMLINK": "120000"}
NAMES = {code: name for name, code in MODES.items()}
TREE_MODE = "40000"

#: Quotas in AWS CodeCommit (user guide) and the errors that name them.
MAX_FILE_BYTES = 6 * 1024 * 1024
MAX_COMMIT_CONTENT_BYTES = 7 * 1024 * 1024
MAX_FOLDER_CONTENT_BYTES = 6 * 1024 * 1024
MAX_FILE_ENTRIES = 100
MAX_MESSAGE_BYTES = 256 * 1024
DEFAULT_DIFFERENCES_PAGE = 100

DEFAULT_MESSAGE = "Commit created with the CodeCommit API"
GITKEEP = ".gitkeep"

_HEX40 = re.compile(r"[0-9a-f]{40}")
_REPOSITORY_NAME = re.compile(r"[\w.-]{1,100}")
_BRANCH_FORBIDDEN = re.compile(r"[\s?^*\[\\~:]|\.\.|//|@\{")


def _error(code: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(code, message)  # HTTP 400


# -- the git object model ------------------------------------------------------


def git_object_id(kind: str, body: bytes) -> str:
    """The id git gives an object: SHA-1 of ``<kind> <size>\\0<body>``."""
    return hashlib.sha1(f"{kind} {len(body)}\0".encode() + body, usedforsecurity=False).hexdigest()


def _parent_folder(path: str) -> str:
    return posixpath.dirname(path)


def _ancestors(path: str) -> Iterable[str]:
    """Every folder above ``path``, nearest first, without the root."""
    folder = _parent_folder(path)
    while folder:
        yield folder
        folder = _parent_folder(folder)


def tree_ids(files: dict[str, tuple[str, str]]) -> dict[str, str]:
    """The git tree id of every folder ("" is the root) holding ``files``.

    ``files`` maps a path to its (git mode, blob id). Git sorts a tree's
    entries by name, a folder's name compared as if it ended in ``/``.
    """
    entries: dict[str, list[tuple[str, str, str]]] = {"": []}
    for path, (mode, blob) in files.items():
        entries.setdefault(_parent_folder(path), []).append((posixpath.basename(path), mode, blob))
        for folder in _ancestors(path):
            entries.setdefault(folder, [])
            entries.setdefault(_parent_folder(folder), [])
    subfolders: dict[str, list[str]] = {}
    for folder in entries:
        if folder:
            subfolders.setdefault(_parent_folder(folder), []).append(folder)
    ids: dict[str, str] = {}
    # Deepest folders first, so that every subfolder's id is known.
    for folder in sorted(entries, key=lambda f: -1 if not f else f.count("/"), reverse=True):
        children = list(entries[folder])
        for sub in subfolders.get(folder, []):
            children.append((posixpath.basename(sub), TREE_MODE, ids[sub]))
        children.sort(key=lambda e: e[0] + "/" if e[1] == TREE_MODE else e[0])
        body = b"".join(
            f"{mode} {name}".encode() + b"\0" + bytes.fromhex(sha) for name, mode, sha in children
        )
        ids[folder] = git_object_id("tree", body)
    return ids


@dataclass
class Commit:
    commit_id: str
    tree_id: str
    parents: list[str]
    message: str
    author: dict[str, str]
    committer: dict[str, str]
    files: dict[str, tuple[str, str]]
    trees: dict[str, str]

    def answer(self) -> dict[str, Any]:
        return {
            "commitId": self.commit_id,
            "treeId": self.tree_id,
            "parents": list(self.parents),
            "message": self.message,
            "author": dict(self.author),
            "committer": dict(self.committer),
            "additionalData": "",
        }


@dataclass
class Store:
    """One repository's objects and branches (kept on moto's repository object)."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)

    def add_commit(
        self,
        files: dict[str, tuple[str, str]],
        parents: list[str],
        message: str,
        name: str,
        email: str,
    ) -> Commit:
        trees = tree_ids(files)
        user = {"name": name, "email": email, "date": f"{int(time.time())} +0000"}
        signature = f"{name} <{email}> {user['date']}"
        body = f"tree {trees['']}\n"
        body += "".join(f"parent {parent}\n" for parent in parents)
        body += f"author {signature}\ncommitter {signature}\n\n{message}"
        commit_id = git_object_id("commit", body.encode())
        commit = Commit(commit_id, trees[""], parents, message, user, dict(user), files, trees)
        self.commits[commit_id] = commit
        return commit


def _store(repository: Any) -> Store:
    store: Store | None = getattr(repository, "_deployer_git", None)
    if store is None:
        store = Store()
        repository._deployer_git = store
    return store


def read_tree(
    backend: Any, repository_name: str, specifier: str | None = None
) -> tuple[str, dict[str, tuple[str, bytes]]]:
    """The commit ``specifier`` names (None: the default branch's tip) and its files.

    Files map a path to (CodeCommit file mode, content). For the engines that take
    a repository's source (a pipeline's CodeCommit source action, a CODECOMMIT
    build source): call it holding ``BACKEND_LOCK`` and let go before zipping or
    any other slow work. Raises the API's errors (RepositoryDoesNotExistException,
    CommitDoesNotExistException).
    """
    repository = _repository(backend, repository_name)
    store = _store(repository)
    commit = _resolve(repository, store, specifier)
    files = {path: (NAMES[mode], store.blobs[blob]) for path, (mode, blob) in commit.files.items()}
    return commit.commit_id, files


# -- request checks --------------------------------------------------------------


def _repository(backend: Any, name: Any) -> Any:
    from moto.codecommit.exceptions import RepositoryDoesNotExistException

    if not name:
        raise _error(
            "RepositoryNameRequiredException",
            "A repository name is required, but was not specified.",
        )
    if not isinstance(name, str) or not _REPOSITORY_NAME.fullmatch(name):
        raise _error("InvalidRepositoryNameException", "The repository name is not valid.")
    repository = backend.repositories.get(name)
    if repository is None:
        raise RepositoryDoesNotExistException(name)
    return repository


def _branch_name(name: Any) -> str:
    """A branch name as the CodeCommit quotas allow it (after git-check-ref-format)."""
    if not name:
        raise _error(
            "BranchNameRequiredException", "A branch name is required, but was not specified."
        )
    if (
        not isinstance(name, str)
        or len(name) > 256
        or _HEX40.fullmatch(name)
        or name == "@"
        or name[0] in "/."
        or name[-1] in "/."
        or _BRANCH_FORBIDDEN.search(name)
    ):
        raise _error(
            "InvalidBranchNameException", f"The specified reference name is not valid: {name}"
        )
    return name


def _path(raw: Any, *, folder: bool = False) -> str:
    """A repository path without its leading slash ("" is the root folder)."""
    if raw is None or (raw == "" and not folder):
        raise _error("PathRequiredException", "The folderPath for a location cannot be null.")
    if not isinstance(raw, str):
        raise _error("InvalidPathException", "The specified path is not valid.")
    path = raw.strip("/") if folder else raw.lstrip("/")
    if not path:
        if folder:
            return ""
        raise _error("InvalidPathException", f"The specified path is not valid: {raw}")
    parts = path.split("/")
    if any(part in ("", ".", "..", ".git") or "\0" in part for part in parts):
        raise _error("InvalidPathException", f"The specified path is not valid: {raw}")
    return path


def _mode(name: Any) -> str:
    if name not in MODES:
        raise _error(
            "InvalidFileModeException",
            f"The specified file mode permission is not valid: {name}. "
            "Valid values are EXECUTABLE, NORMAL and SYMLINK.",
        )
    return MODES[name]


def _content(encoded: Any) -> bytes:
    try:
        return base64.b64decode(encoded or "")
    except (binascii.Error, ValueError, TypeError) as exc:
        raise _error("SerializationException", "fileContent is not valid base64.") from exc


def _message(message: Any) -> str:
    text = message if isinstance(message, str) and message else DEFAULT_MESSAGE
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        raise _error(
            "CommitMessageLengthExceededException",
            "The commit message is too long. Commit messages are limited to 256 KB.",
        )
    return text


def _parent(store: Store, branch: str, parent_id: Any) -> Commit | None:
    """The commit a new commit on ``branch`` goes on (None: the repository is empty)."""
    tip = store.branches.get(branch)
    if tip is None and store.branches:
        raise _error(
            "BranchDoesNotExistException", f"The specified branch does not exist: {branch}"
        )
    if tip is not None and not parent_id:
        raise _error(
            "ParentCommitIdRequiredException",
            "A parent commit ID is required. To view the full commit ID of a branch in a "
            "repository, use GetBranch or a Git command (for example, git pull or git log).",
        )
    if parent_id:
        if not isinstance(parent_id, str) or not _HEX40.fullmatch(parent_id):
            raise _error(
                "InvalidParentCommitIdException",
                f"The parent commit ID is not valid: {parent_id}",
            )
        if parent_id not in store.commits:
            raise _error(
                "ParentCommitDoesNotExistException",
                f"The parent commit ID does not exist: {parent_id}",
            )
        if parent_id != tip:
            raise _error(
                "ParentCommitIdOutdatedException",
                f"The parent commit ID {parent_id} is not the current tip of branch {branch}. "
                "To view the full commit ID of the current head of the branch, use GetBranch.",
            )
    return None if tip is None else store.commits[tip]


def _resolve(repository: Any, store: Store, specifier: Any) -> Commit:
    """The commit a commit specifier names: commit id, branch, refs/heads/..., HEAD or none."""
    if not specifier or specifier == "HEAD":
        default = repository.repository_metadata.get("defaultBranch")
        if default in store.branches:
            return store.commits[store.branches[default]]
    elif isinstance(specifier, str):
        if specifier in store.commits:
            return store.commits[specifier]
        branch = specifier.removeprefix("refs/heads/")
        if branch in store.branches:
            return store.commits[store.branches[branch]]
    raise _error(
        "CommitDoesNotExistException",
        f"The specified commit does not exist or no commit was specified, and the specified "
        f"repository has no default branch: {specifier or 'HEAD'}",
    )


def _metadata(path: str, entry: tuple[str, str]) -> dict[str, str]:
    return {"absolutePath": path, "blobId": entry[1], "fileMode": NAMES[entry[0]]}


# -- committing ----------------------------------------------------------------


@dataclass
class Change:
    """What a commit request asks for, before it is checked against the tree."""

    puts: list[dict[str, Any]]
    deletes: list[dict[str, Any]]
    modes: list[dict[str, Any]]
    keep_empty_folders: bool = False


def _apply(
    store: Store, old: dict[str, tuple[str, str]], change: Change
) -> tuple[dict[str, tuple[str, str]], dict[str, bytes]]:
    """The tree ``change`` makes of ``old``, and the new blobs it needs."""
    entries = len(change.puts) + len(change.deletes) + len(change.modes)
    if entries == 0:
        raise _error(
            "FileEntryRequiredException",
            "The commit cannot be created because no files have been specified as added, "
            "updated, or changed (PutFile or DeleteFile) for the commit.",
        )
    if entries > MAX_FILE_ENTRIES:
        raise _error(
            "MaximumFileEntriesExceededException",
            f"The number of specified files to change as part of this commit ({entries}) exceeds "
            f"the maximum number of files that can be changed in a single commit "
            f"({MAX_FILE_ENTRIES}). Consider using a Git client for these changes.",
        )
    new = dict(old)
    blobs: dict[str, bytes] = {}
    claimed: set[str] = set()

    def claim(path: str) -> None:
        if path in claimed:
            raise _error(
                "SamePathRequestException",
                f"The commit cannot be created because more than one change in this commit "
                f"applies to the same file path: {path}",
            )
        claimed.add(path)

    def existing(path: str) -> tuple[str, str]:
        if path not in old:
            raise _error(
                "FileDoesNotExistException",
                f"The specified file does not exist: {path}. Verify that you have used the "
                "correct file name, full path, and extension.",
            )
        return old[path]

    for entry in change.deletes:
        path = _path(entry.get("filePath"))
        claim(path)
        existing(path)
        del new[path]

    put_paths: set[str] = set()
    total = 0
    per_folder: Counter[str] = Counter()
    for entry in change.puts:
        path = _path(entry.get("filePath"))
        claim(path)
        put_paths.add(path)
        encoded, source = entry.get("fileContent"), entry.get("sourceFile")
        if encoded is None and source is None:
            raise _error(
                "SourceFileOrContentRequiredException",
                "The commit cannot be created because no source files or file content have "
                f"been specified for the commit: {path}",
            )
        if encoded is not None and source is not None:
            raise _error(
                "FileContentAndSourceFileSpecifiedException",
                "The commit cannot be created because both a source file and file content "
                f"have been specified for the same file: {path}",
            )
        requested = entry.get("fileMode")
        mode = _mode(requested) if requested is not None else None
        if source is not None:
            source_path = _path(source.get("filePath") if isinstance(source, dict) else None)
            if posixpath.basename(source_path) == GITKEEP:
                raise _error(
                    "RestrictedSourceFileException",
                    "The commit cannot be created because one of the changes specifies "
                    f"copying or moving a .gitkeep file: {source_path}",
                )
            source_mode, blob = existing(source_path)
            if source.get("isMove"):
                claim(source_path)
                new.pop(source_path, None)
            default_mode = source_mode
        else:
            content = _content(encoded)
            if len(content) > MAX_FILE_BYTES:
                raise _error(
                    "FileContentSizeLimitExceededException",
                    f"The file cannot be added because it is too large: {path}. The maximum "
                    "file size is 6 MB, and the combined file content change size is 7 MB. "
                    "Consider making these changes using a Git client.",
                )
            total += len(content)
            per_folder[_parent_folder(path)] += len(content)
            blob = git_object_id("blob", content)
            blobs[blob] = content
            default_mode = old[path][0] if path in old else MODES["NORMAL"]
        new[path] = (mode or default_mode, blob)
    if total > MAX_COMMIT_CONTENT_BYTES:
        raise _error(
            "FileContentSizeLimitExceededException",
            "The commit cannot be created because the combined file content change size "
            f"({total} bytes) exceeds 7 MB. Consider making these changes using a Git client.",
        )
    for folder, size in per_folder.items():
        if size > MAX_FOLDER_CONTENT_BYTES:
            raise _error(
                "FolderContentSizeLimitExceededException",
                f"The commit cannot be created because the changes to folder '/{folder}' "
                f"exceed the limit of 6 MB ({size} bytes). Either reduce the number and size of "
                "your changes, or split the changes across multiple folders.",
            )

    for entry in change.modes:
        path = _path(entry.get("filePath"))
        claim(path)
        if not entry.get("fileMode"):
            raise _error(
                "FileModeRequiredException",
                "The commit cannot be created because no file mode has been specified for "
                f"{path}. A file mode is required to update mode permissions for a file.",
            )
        mode = _mode(entry["fileMode"])
        new[path] = (mode, existing(path)[1])

    _check_conflicts(new, put_paths)
    if change.keep_empty_folders:
        _keep_empty_folders(old, new, blobs)
    return new, blobs


def _check_conflicts(new: dict[str, tuple[str, str]], put_paths: set[str]) -> None:
    """A file put where the tree (or another put) has a folder, or the reverse."""
    folders = {folder for path in new for folder in _ancestors(path)}
    put_folders = {folder for path in put_paths for folder in _ancestors(path)}
    for path in sorted(put_paths):
        if path in put_folders or put_paths.intersection(_ancestors(path)):
            raise _error(
                "PutFileEntryConflictException",
                "The commit cannot be created because one or more files specified in the "
                f"commit reference both a file and a folder: {path}",
            )
        clash = next((folder for folder in _ancestors(path) if folder in new), None)
        if clash is not None:
            raise _error(
                "DirectoryNameConflictsWithFileNameException",
                f"A file cannot be added to the repository because its path {path} has a "
                f"folder with the same name as the file {clash} that already exists in this "
                "repository.",
            )
        if path in folders:
            raise _error(
                "FileNameConflictsWithDirectoryNameException",
                f"A file cannot be added to the repository because the file name {path} is "
                "the name of a directory in this repository.",
            )


def _keep_empty_folders(
    old: dict[str, tuple[str, str]], new: dict[str, tuple[str, str]], blobs: dict[str, bytes]
) -> None:
    """A ``.gitkeep`` in each deepest folder the change left empty."""
    before = {folder for path in old for folder in _ancestors(path)}
    after = {folder for path in new for folder in _ancestors(path)}
    emptied = before - after
    empty_blob = git_object_id("blob", b"")
    for folder in emptied:
        if not any(other.startswith(folder + "/") for other in emptied):
            new[f"{folder}/{GITKEEP}"] = (MODES["NORMAL"], empty_blob)
            blobs[empty_blob] = b""


def _commit(
    backend: Any,
    repository: Any,
    params: dict[str, Any],
    change: Change,
    name_param: str,
) -> tuple[Commit, dict[str, tuple[str, str]]]:
    """Commit ``change`` on the request's branch; the commit and the tree it replaced."""
    store = _store(repository)
    branch = _branch_name(params.get("branchName"))
    parent = _parent(store, branch, params.get("parentCommitId"))
    message = _message(params.get("commitMessage"))
    old = parent.files if parent else {}
    new, blobs = _apply(store, old, change)
    if new == old:
        raise _error(
            "NoChangeException",
            "The commit cannot be created because no changes will be made to the repository "
            "as a result of this commit. A commit must contain at least one change.",
        )
    name = params.get(name_param) or f"arn:aws:iam::{backend.account_id}:root"
    store.blobs.update(blobs)
    commit = store.add_commit(
        new,
        [parent.commit_id] if parent else [],
        message,
        str(name),
        str(params.get("email") or ""),
    )
    store.branches[branch] = commit.commit_id
    metadata = repository.repository_metadata
    if not metadata.get("defaultBranch"):
        metadata["defaultBranch"] = branch
    return commit, old


def _entries(params: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = params.get(key) or []
    return [entry if isinstance(entry, dict) else {} for entry in value]


# -- the events -------------------------------------------------------------------


def _caller(response: Any, account: str, region: str) -> str:
    """The ARN of the request's caller (an IAM user, the root, or an assumed role's session)."""
    from moto.sts.models import sts_backends

    try:
        backend = sts_backends[account][response.partition]
        return str(backend.get_caller_identity(response.get_access_key(), region)[1])
    except Exception:  # no signed request (an engine's call): the account's root
        return f"arn:aws:iam::{account}:root"


def reference_event(
    response: Any,
    repository: Any,
    branch: str,
    commit_id: str | None,
    old_commit_id: str | None,
) -> None:
    """A "CodeCommit Repository State Change" event on the default bus of the repository's
    account and region ("Monitoring CodeCommit events"): the branch created
    (``referenceCreated``, no ``oldCommitId``), moved (``referenceUpdated``) or deleted
    (``referenceDeleted``, no ``commitId``)."""
    from moto.events.models import events_backends

    metadata = repository.repository_metadata
    backend = response.codecommit_backend
    account, region = str(backend.account_id), str(backend.region_name)
    event = (
        "referenceDeleted"
        if commit_id is None
        else "referenceUpdated"
        if old_commit_id
        else "referenceCreated"
    )
    detail: dict[str, Any] = {
        "callerUserArn": _caller(response, account, region),
        "event": event,
        "referenceFullName": f"refs/heads/{branch}",
        "referenceName": branch,
        "referenceType": "branch",
        "repositoryId": metadata.get("repositoryId"),
        "repositoryName": metadata.get("repositoryName"),
    }
    if commit_id is not None:
        detail["commitId"] = commit_id
    if old_commit_id:
        detail["oldCommitId"] = old_commit_id
    entry = {
        "Source": "aws.codecommit",
        "DetailType": "CodeCommit Repository State Change",
        "Detail": json.dumps(detail),
        "Resources": [metadata.get("Arn") or f"arn:aws:codecommit:{region}:{account}:"
                      f"{metadata.get('repositoryName')}"],
    }  # fmt: skip
    try:
        events_backends[account][region].put_events([entry])
    except Exception:  # a target that fails must not fail the commit
        log.exception("codecommit: the %s event of %s failed", event, detail["repositoryName"])


def _committed(response: Any, repository: Any, params: dict[str, Any], commit: Commit) -> None:
    branch = _branch_name(params.get("branchName"))
    reference_event(
        response,
        repository,
        branch,
        commit.commit_id,
        commit.parents[0] if commit.parents else None,
    )


# -- the actions ------------------------------------------------------------------


def _params(response: Any) -> dict[str, Any]:
    body = response.body or "{}"
    try:
        params = json.loads(body)
    except ValueError as exc:
        raise _error("SerializationException", "The request body is not valid JSON.") from exc
    return params if isinstance(params, dict) else {}


def create_commit(self: Any) -> str:
    params = _params(self)
    backend = self.codecommit_backend
    repository = _repository(backend, params.get("repositoryName"))
    change = Change(
        _entries(params, "putFiles"),
        _entries(params, "deleteFiles"),
        _entries(params, "setFileModes"),
        bool(params.get("keepEmptyFolders")),
    )
    commit, old = _commit(backend, repository, params, change, "authorName")
    _committed(self, repository, params, commit)
    new = commit.files
    added = [_metadata(p, new[p]) for p in sorted(new) if p not in old]
    updated = [_metadata(p, new[p]) for p in sorted(new) if p in old and old[p] != new[p]]
    deleted = [_metadata(p, old[p]) for p in sorted(old) if p not in new]
    return json.dumps(
        {
            "commitId": commit.commit_id,
            "treeId": commit.tree_id,
            "filesAdded": added,
            "filesUpdated": updated,
            "filesDeleted": deleted,
        }
    )


def put_file(self: Any) -> str:
    params = _params(self)
    backend = self.codecommit_backend
    repository = _repository(backend, params.get("repositoryName"))
    path = _path(params.get("filePath"))
    content = _content(params.get("fileContent"))
    if not content:
        raise _error(
            "FileContentRequiredException",
            "The file cannot be added because it is empty. Empty files cannot be added to the "
            "repository with this API.",
        )
    store = _store(repository)
    tip = store.branches.get(str(params.get("branchName")))
    if tip is not None and params.get("parentCommitId") == tip:
        current = store.commits[tip].files.get(path)
        requested = params.get("fileMode")
        same_mode = requested is None or (
            current is not None and MODES.get(requested) == current[0]
        )
        if current and current[1] == git_object_id("blob", content) and same_mode:
            raise _error(
                "SameFileContentException",
                "The file was not added or updated because the content of the file is exactly "
                "the same as the content of that file in the repository and branch that you "
                f"specified: {path}",
            )
    put: dict[str, Any] = {"filePath": path, "fileContent": params.get("fileContent")}
    if params.get("fileMode") is not None:
        put["fileMode"] = params["fileMode"]
    commit, _ = _commit(backend, repository, params, Change([put], [], []), "name")
    _committed(self, repository, params, commit)
    return json.dumps(
        {"commitId": commit.commit_id, "blobId": commit.files[path][1], "treeId": commit.tree_id}
    )


def delete_file(self: Any) -> str:
    params = _params(self)
    backend = self.codecommit_backend
    repository = _repository(backend, params.get("repositoryName"))
    path = _path(params.get("filePath"))
    change = Change([], [{"filePath": path}], [], bool(params.get("keepEmptyFolders")))
    commit, old = _commit(backend, repository, params, change, "name")
    _committed(self, repository, params, commit)
    return json.dumps(
        {
            "commitId": commit.commit_id,
            "blobId": old[path][1],
            "treeId": commit.tree_id,
            "filePath": path,
        }
    )


def get_branch(self: Any) -> str:
    params = _params(self)
    repository = _repository(self.codecommit_backend, params.get("repositoryName"))
    branch = _branch_name(params.get("branchName"))
    store = _store(repository)
    if branch not in store.branches:
        raise _error(
            "BranchDoesNotExistException", f"The specified branch does not exist: {branch}"
        )
    return json.dumps({"branch": {"branchName": branch, "commitId": store.branches[branch]}})


def list_branches(self: Any) -> str:
    params = _params(self)
    repository = _repository(self.codecommit_backend, params.get("repositoryName"))
    return json.dumps({"branches": sorted(_store(repository).branches)})


def _commit_id(store: Store, commit_id: Any, missing: str) -> str:
    if not commit_id:
        raise _error("CommitIdRequiredException", "A commit ID was not specified.")
    if not isinstance(commit_id, str) or not _HEX40.fullmatch(commit_id):
        raise _error(
            "InvalidCommitIdException", f"The specified commit ID is not valid: {commit_id}"
        )
    if commit_id not in store.commits:
        raise _error(missing, f"The specified commit ID does not exist: {commit_id}")
    return commit_id


def create_branch(self: Any) -> str:
    params = _params(self)
    repository = _repository(self.codecommit_backend, params.get("repositoryName"))
    branch = _branch_name(params.get("branchName"))
    store = _store(repository)
    if branch in store.branches:
        raise _error(
            "BranchNameExistsException",
            f"Cannot create the branch with the specified name because a branch named {branch} "
            "already exists. Branch names must be unique.",
        )
    commit_id = _commit_id(store, params.get("commitId"), "CommitDoesNotExistException")
    store.branches[branch] = commit_id
    reference_event(self, repository, branch, commit_id, None)
    return "{}"


def update_default_branch(self: Any) -> str:
    params = _params(self)
    repository = _repository(self.codecommit_backend, params.get("repositoryName"))
    branch = _branch_name(params.get("defaultBranchName"))
    if branch not in _store(repository).branches:
        raise _error(
            "BranchDoesNotExistException", f"The specified branch does not exist: {branch}"
        )
    repository.repository_metadata["defaultBranch"] = branch
    return "{}"


def delete_branch(self: Any) -> str:
    params = _params(self)
    repository = _repository(self.codecommit_backend, params.get("repositoryName"))
    branch = _branch_name(params.get("branchName"))
    store = _store(repository)
    if branch == repository.repository_metadata.get("defaultBranch"):
        raise _error(
            "DefaultBranchCannotBeDeletedException",
            f"The branch {branch} is the default branch for the repository, and cannot be "
            "deleted. To delete this branch, you must first set another branch as the default "
            "branch.",
        )
    commit_id = store.branches.pop(branch, None)
    if commit_id is None:
        return json.dumps({"deletedBranch": {}})
    reference_event(self, repository, branch, None, commit_id)
    return json.dumps({"deletedBranch": {"branchName": branch, "commitId": commit_id}})


def get_commit(self: Any) -> str:
    params = _params(self)
    store = _store(_repository(self.codecommit_backend, params.get("repositoryName")))
    commit_id = _commit_id(store, params.get("commitId"), "CommitIdDoesNotExistException")
    return json.dumps({"commit": store.commits[commit_id].answer()})


def get_blob(self: Any) -> str:
    params = _params(self)
    store = _store(_repository(self.codecommit_backend, params.get("repositoryName")))
    blob_id = params.get("blobId")
    if not blob_id:
        raise _error("BlobIdRequiredException", "A blob ID is required, but was not specified.")
    if not isinstance(blob_id, str) or not _HEX40.fullmatch(blob_id):
        raise _error("InvalidBlobIdException", f"The specified blob is not valid: {blob_id}")
    if blob_id not in store.blobs:
        raise _error("BlobIdDoesNotExistException", f"The specified blob does not exist: {blob_id}")
    return json.dumps({"content": base64.b64encode(store.blobs[blob_id]).decode()})


def get_file(self: Any) -> str:
    params = _params(self)
    repository = _repository(self.codecommit_backend, params.get("repositoryName"))
    store = _store(repository)
    commit = _resolve(repository, store, params.get("commitSpecifier"))
    path = _path(params.get("filePath"))
    if path not in commit.files:
        raise _error(
            "FileDoesNotExistException",
            f"The specified file does not exist: {path}. Verify that you have used the correct "
            "file name, full path, and extension.",
        )
    mode, blob = commit.files[path]
    content = store.blobs[blob]
    return json.dumps(
        {
            "commitId": commit.commit_id,
            "blobId": blob,
            "filePath": path,
            "fileMode": NAMES[mode],
            "fileSize": len(content),
            "fileContent": base64.b64encode(content).decode(),
        }
    )


def get_folder(self: Any) -> str:
    params = _params(self)
    repository = _repository(self.codecommit_backend, params.get("repositoryName"))
    store = _store(repository)
    commit = _resolve(repository, store, params.get("commitSpecifier"))
    folder = _path(params.get("folderPath"), folder=True)
    if folder not in commit.trees:
        raise _error(
            "FolderDoesNotExistException",
            f"The specified folder does not exist: /{folder}. Either the folder name is not "
            "correct, or you did not enter the full path to the folder.",
        )

    def relative(path: str) -> str:
        return posixpath.relpath(path, folder) if folder else path

    files: list[dict[str, str]] = []
    links: list[dict[str, str]] = []
    for path in sorted(commit.files):
        if _parent_folder(path) != folder:
            continue
        mode, blob = commit.files[path]
        entry = {
            "blobId": blob,
            "absolutePath": path,
            "relativePath": relative(path),
            "fileMode": NAMES[mode],
        }
        (links if mode == MODES["SYMLINK"] else files).append(entry)
    subfolders = [
        {"treeId": tree, "absolutePath": sub, "relativePath": relative(sub)}
        for sub, tree in sorted(commit.trees.items())
        if sub and _parent_folder(sub) == folder
    ]
    return json.dumps(
        {
            "commitId": commit.commit_id,
            "folderPath": folder,
            "treeId": commit.trees[folder],
            "subFolders": subfolders,
            "files": files,
            "symbolicLinks": links,
            "subModules": [],
        }
    )


def _subtree(files: dict[str, tuple[str, str]], root: str | None) -> dict[str, tuple[str, str]]:
    """The files under folder ``root`` by their path relative to it; a file is itself."""
    if not root:
        return files
    if root in files:
        return {root: files[root]}
    prefix = root + "/"
    return {path[len(prefix) :]: entry for path, entry in files.items() if path.startswith(prefix)}


def _exists(commit: Commit | None, path: str) -> bool:
    return commit is not None and (path in commit.files or path in commit.trees)


def get_differences(self: Any) -> str:
    params = _params(self)
    repository = _repository(self.codecommit_backend, params.get("repositoryName"))
    store = _store(repository)
    if not params.get("afterCommitSpecifier"):
        raise _error("CommitRequiredException", "A commit was not specified.")
    after = _resolve(repository, store, params["afterCommitSpecifier"])
    before_specifier = params.get("beforeCommitSpecifier")
    before = _resolve(repository, store, before_specifier) if before_specifier else None
    raw_before, raw_after = params.get("beforePath"), params.get("afterPath")
    before_path = _path(raw_before, folder=True) if raw_before is not None else None
    after_path = _path(raw_after, folder=True) if raw_after is not None else None
    for path in (before_path, after_path):
        if path and not (_exists(before, path) or _exists(after, path)):
            raise _error("PathDoesNotExistException", f"The specified path does not exist: {path}")
    if before_path is None:
        before_path = after_path
    if after_path is None:
        after_path = before_path

    old = _subtree(before.files if before else {}, before_path)
    new = _subtree(after.files, after_path)
    differences: list[dict[str, Any]] = []
    for path in sorted(set(old) | set(new)):
        was, now = old.get(path), new.get(path)
        if was == now:
            continue
        difference: dict[str, Any] = {}
        if was is not None:
            difference["beforeBlob"] = {"blobId": was[1], "path": path, "mode": was[0]}
        if now is not None:
            difference["afterBlob"] = {"blobId": now[1], "path": path, "mode": now[0]}
        difference["changeType"] = "M" if was and now else ("A" if now else "D")
        differences.append(difference)

    page = params.get("MaxResults")
    if page is None:
        page = DEFAULT_DIFFERENCES_PAGE
    if not isinstance(page, int) or isinstance(page, bool) or page <= 0:
        raise _error(
            "InvalidMaxResultsException",
            f"The specified number of maximum results is not valid: {page}",
        )
    start = 0
    token = params.get("NextToken")
    if token:
        try:
            start = int(base64.b64decode(token, validate=True).decode())
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise _error(
                "InvalidContinuationTokenException",
                "The specified continuation token is not valid.",
            ) from exc
        if not 0 <= start <= len(differences):
            raise _error(
                "InvalidContinuationTokenException",
                "The specified continuation token is not valid.",
            )
    answer: dict[str, Any] = {"differences": differences[start : start + page]}
    if start + page < len(differences):
        answer["NextToken"] = base64.b64encode(str(start + page).encode()).decode()
    return json.dumps(answer)


ACTIONS = (
    create_commit,
    put_file,
    delete_file,
    get_branch,
    list_branches,
    create_branch,
    update_default_branch,
    delete_branch,
    get_commit,
    get_blob,
    get_file,
    get_folder,
    get_differences,
)


def apply() -> None:
    from moto.codecommit.responses import CodeCommitResponse

    for action in ACTIONS:
        add_method(CodeCommitResponse, action.__name__, action)
