"""codecommit_commits: CodeCommit keeps commits, as git objects."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import urllib.error
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ._helpers import unique
from .conftest import Server

TARGET = "CodeCommit_20150413"

#: The first commit: path -> (content, CodeCommit file mode).
TREE: dict[str, tuple[bytes, str]] = {
    "README.md": (b"# sample monorepo\n", "NORMAL"),
    "services/api/app.py": (b"print('api')\n", "NORMAL"),
    "services/api/run.sh": (b"#!/bin/sh\nexec python app.py\n", "EXECUTABLE"),
    "services/api/__init__.py": (b"", "NORMAL"),
    "services/web/index.html": (b"<h1>web</h1>\n", "NORMAL"),
    "latest": (b"services/api", "SYMLINK"),
    # git sorts a folder as if its name ended in "/": after this file.
    "services.txt": (b"services\n", "NORMAL"),
}


def call(server: Server, action: str, body: dict[str, Any]) -> dict[str, Any]:
    """A raw JSON 1.1 call; an error answer comes back as its JSON (``__type``, ``message``)."""
    try:
        answer: dict[str, Any] = server.raw_json("codecommit", f"{TARGET}.{action}", body)
    except urllib.error.HTTPError as error:
        assert error.code == 400, error.code
        answer = json.loads(error.read())
    return answer


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)}
    done = subprocess.run(
        ["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True, env=env
    )
    return done.stdout.decode().strip()


def git_tree(tmp_path: Path, files: dict[str, tuple[bytes, str]]) -> tuple[str, dict[str, str]]:
    """The tree id and blob ids git itself computes for ``files``."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q")
    for path, (content, mode) in files.items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "SYMLINK":
            os.symlink(content.decode(), target)
        else:
            target.write_bytes(content)
            target.chmod(0o755 if mode == "EXECUTABLE" else 0o644)
    git(work, "add", "-A")
    blobs = {path: git(work, "rev-parse", f":{path}") for path in files}
    return git(work, "write-tree"), blobs


def test_stock_moto_keeps_no_commits(stock: Server) -> None:
    codecommit = stock.client("codecommit")
    name = unique("repo")
    codecommit.create_repository(repositoryName=name)
    with pytest.raises(ClientError):
        codecommit.create_commit(
            repositoryName=name,
            branchName="main",
            putFiles=[{"filePath": "README.md", "fileContent": b"x"}],
        )


def test_commits_folders_files_and_differences(patched: Server, tmp_path: Path) -> None:
    codecommit = patched.client("codecommit")
    name = unique("repo")
    codecommit.create_repository(repositoryName=name)
    assert (
        "defaultBranch" not in codecommit.get_repository(repositoryName=name)["repositoryMetadata"]
    )

    first = codecommit.create_commit(
        repositoryName=name,
        branchName="main",
        authorName="Dev Eloper",
        email="dev@example.com",
        commitMessage="First commit",
        putFiles=[
            {"filePath": path, "fileContent": content, "fileMode": mode}
            for path, (content, mode) in TREE.items()
        ],
    )
    tree_id, blob_ids = git_tree(tmp_path, TREE)
    assert first["treeId"] == tree_id
    assert first["filesAdded"] == [
        {"absolutePath": path, "blobId": blob_ids[path], "fileMode": TREE[path][1]}
        for path in sorted(TREE)
    ]
    assert first["filesUpdated"] == [] and first["filesDeleted"] == []

    # The first commit made the branch and the repository's default branch.
    assert codecommit.get_branch(repositoryName=name, branchName="main")["branch"] == {
        "branchName": "main",
        "commitId": first["commitId"],
    }
    assert codecommit.list_branches(repositoryName=name)["branches"] == ["main"]
    metadata = codecommit.get_repository(repositoryName=name)["repositoryMetadata"]
    assert metadata["defaultBranch"] == "main"

    commit = codecommit.get_commit(repositoryName=name, commitId=first["commitId"])["commit"]
    assert commit["treeId"] == tree_id and commit["parents"] == []
    assert commit["message"] == "First commit"
    assert commit["author"]["name"] == "Dev Eloper"
    assert commit["author"]["email"] == "dev@example.com"
    assert re.fullmatch(r"\d{10} \+0000", commit["author"]["date"])
    assert commit["committer"] == commit["author"]
    # The commit id is git's: the commit object rebuilt from GetCommit hashes to it.
    signature = f"Dev Eloper <dev@example.com> {commit['author']['date']}"
    body = f"tree {tree_id}\nauthor {signature}\ncommitter {signature}\n\nFirst commit"
    assert (
        git(tmp_path, "hash-object", "-t", "commit", "--stdin", stdin=body.encode())
        == first["commitId"]
    )

    root = codecommit.get_folder(repositoryName=name, folderPath="/")
    assert root["commitId"] == first["commitId"] and root["treeId"] == tree_id
    assert [f["absolutePath"] for f in root["files"]] == ["README.md", "services.txt"]
    assert root["symbolicLinks"] == [
        {
            "blobId": blob_ids["latest"],
            "absolutePath": "latest",
            "relativePath": "latest",
            "fileMode": "SYMLINK",
        }
    ]
    assert [(f["absolutePath"], f["relativePath"]) for f in root["subFolders"]] == [
        ("services", "services")
    ]
    assert root["subModules"] == []
    api = codecommit.get_folder(
        repositoryName=name, folderPath="services/api", commitSpecifier=first["commitId"]
    )
    assert [(f["relativePath"], f["fileMode"]) for f in api["files"]] == [
        ("__init__.py", "NORMAL"),
        ("app.py", "NORMAL"),
        ("run.sh", "EXECUTABLE"),
    ]
    services = codecommit.get_folder(repositoryName=name, folderPath="/services")
    assert [f["absolutePath"] for f in services["subFolders"]] == ["services/api", "services/web"]
    assert services["subFolders"][0]["treeId"] == api["treeId"]

    run = codecommit.get_file(repositoryName=name, filePath="services/api/run.sh")
    assert run["fileContent"] == TREE["services/api/run.sh"][0]
    assert run["fileSize"] == len(TREE["services/api/run.sh"][0])
    assert run["fileMode"] == "EXECUTABLE"
    assert run["blobId"] == blob_ids["services/api/run.sh"]
    assert run["commitId"] == first["commitId"]
    assert (
        codecommit.get_blob(repositoryName=name, blobId=run["blobId"])["content"]
        == TREE["services/api/run.sh"][0]
    )

    # A second commit changing one file records exactly that change.
    second = codecommit.create_commit(
        repositoryName=name,
        branchName="main",
        parentCommitId=first["commitId"],
        putFiles=[{"filePath": "services/api/app.py", "fileContent": b"print('api v2')\n"}],
    )
    assert second["filesAdded"] == [] and second["filesDeleted"] == []
    assert [(f["absolutePath"], f["fileMode"]) for f in second["filesUpdated"]] == [
        ("services/api/app.py", "NORMAL")
    ]
    changed = codecommit.get_differences(
        repositoryName=name, beforeCommitSpecifier=first["commitId"], afterCommitSpecifier="main"
    )["differences"]
    assert changed == [
        {
            "beforeBlob": {
                "blobId": blob_ids["services/api/app.py"],
                "path": "services/api/app.py",
                "mode": "100644",
            },
            "afterBlob": {
                "blobId": second["filesUpdated"][0]["blobId"],
                "path": "services/api/app.py",
                "mode": "100644",
            },
            "changeType": "M",
        }
    ]
    assert codecommit.get_commit(repositoryName=name, commitId=second["commitId"])["commit"][
        "parents"
    ] == [first["commitId"]]
    assert (
        codecommit.get_file(
            repositoryName=name, filePath="/services/api/app.py", commitSpecifier=first["commitId"]
        )["fileContent"]
        == TREE["services/api/app.py"][0]
    )
    assert (
        codecommit.get_file(
            repositoryName=name, filePath="services/api/app.py", commitSpecifier="refs/heads/main"
        )["fileContent"]
        == b"print('api v2')\n"
    )

    # Without a before commit, the whole tree is added; paths and pages limit the answer.
    everything = codecommit.get_differences(repositoryName=name, afterCommitSpecifier="HEAD")
    assert sorted(d["afterBlob"]["path"] for d in everything["differences"]) == sorted(TREE)
    assert {d["changeType"] for d in everything["differences"]} == {"A"}
    assert (
        codecommit.get_differences(
            repositoryName=name,
            beforeCommitSpecifier=first["commitId"],
            afterCommitSpecifier=second["commitId"],
            afterPath="services/web",
        )["differences"]
        == []
    )
    # A folder's tree against a folder's tree (a rename, say): paths relative to them.
    api_changes = codecommit.get_differences(
        repositoryName=name,
        beforeCommitSpecifier=first["commitId"],
        afterCommitSpecifier=second["commitId"],
        beforePath="services/api",
        afterPath="/services/api",
    )["differences"]
    assert [(d["changeType"], d["afterBlob"]["path"]) for d in api_changes] == [("M", "app.py")]
    page = codecommit.get_differences(
        repositoryName=name, afterCommitSpecifier="main", MaxResults=4
    )
    rest = codecommit.get_differences(
        repositoryName=name, afterCommitSpecifier="main", NextToken=page["NextToken"]
    )
    assert len(page["differences"]) == 4 and len(rest["differences"]) == 3
    assert "NextToken" not in rest
    assert page["differences"] + rest["differences"] == everything["differences"]

    # PutFile and DeleteFile commit one file each; a move is a delete and an add.
    put = codecommit.put_file(
        repositoryName=name,
        branchName="main",
        parentCommitId=second["commitId"],
        filePath="docs/guide.md",
        fileContent=b"guide\n",
        commitMessage="Add the guide",
    )
    assert put["blobId"] == git(tmp_path, "hash-object", "--stdin", stdin=b"guide\n")
    deleted = codecommit.delete_file(
        repositoryName=name,
        branchName="main",
        parentCommitId=put["commitId"],
        filePath="services/web/index.html",
        keepEmptyFolders=True,
    )
    assert deleted["blobId"] == blob_ids["services/web/index.html"]
    web = codecommit.get_folder(repositoryName=name, folderPath="services/web")
    assert [f["relativePath"] for f in web["files"]] == [".gitkeep"]
    moved = codecommit.create_commit(
        repositoryName=name,
        branchName="main",
        parentCommitId=deleted["commitId"],
        putFiles=[
            {"filePath": "docs/README.md", "sourceFile": {"filePath": "README.md", "isMove": True}}
        ],
        deleteFiles=[{"filePath": "docs/guide.md"}],
        setFileModes=[{"filePath": "services/api/app.py", "fileMode": "EXECUTABLE"}],
    )
    assert [f["absolutePath"] for f in moved["filesAdded"]] == ["docs/README.md"]
    assert moved["filesAdded"][0]["blobId"] == blob_ids["README.md"]
    assert [f["absolutePath"] for f in moved["filesDeleted"]] == ["README.md", "docs/guide.md"]
    assert [(f["absolutePath"], f["fileMode"]) for f in moved["filesUpdated"]] == [
        ("services/api/app.py", "EXECUTABLE")
    ]
    moves = codecommit.get_differences(
        repositoryName=name,
        beforeCommitSpecifier=deleted["commitId"],
        afterCommitSpecifier=moved["commitId"],
    )["differences"]
    assert [(d["changeType"], (d.get("beforeBlob") or d["afterBlob"])["path"]) for d in moves] == [
        ("D", "README.md"),
        ("A", "docs/README.md"),
        ("D", "docs/guide.md"),
        ("M", "services/api/app.py"),
    ]

    # Branches: CreateBranch sets no default branch; the default branch stays.
    codecommit.create_branch(
        repositoryName=name, branchName="feature/x", commitId=first["commitId"]
    )
    assert codecommit.list_branches(repositoryName=name)["branches"] == ["feature/x", "main"]
    assert (
        codecommit.get_repository(repositoryName=name)["repositoryMetadata"]["defaultBranch"]
        == "main"
    )
    on_feature = codecommit.put_file(
        repositoryName=name,
        branchName="feature/x",
        parentCommitId=first["commitId"],
        filePath="README.md",
        fileContent=b"feature\n",
    )
    assert (
        codecommit.get_file(repositoryName=name, filePath="README.md", commitSpecifier="feature/x")[
            "commitId"
        ]
        == on_feature["commitId"]
    )
    codecommit.update_default_branch(repositoryName=name, defaultBranchName="feature/x")
    assert (
        codecommit.get_file(repositoryName=name, filePath="README.md")["fileContent"]
        == b"feature\n"
    )
    assert codecommit.delete_branch(repositoryName=name, branchName="main")["deletedBranch"] == {
        "branchName": "main",
        "commitId": moved["commitId"],
    }


def test_commit_errors(patched: Server) -> None:
    codecommit = patched.client("codecommit")
    name = unique("repo")
    codecommit.create_repository(repositoryName=name)

    # An empty repository has no default branch to read from.
    assert error_of(call(patched, "GetFile", {"repositoryName": name, "filePath": "a"})) == (
        "CommitDoesNotExistException"
    )
    first = codecommit.create_commit(
        repositoryName=name,
        branchName="main",
        putFiles=[
            {"filePath": "README.md", "fileContent": b"readme\n"},
            {"filePath": "src/app.py", "fileContent": b"app\n"},
        ],
    )["commitId"]
    tip = codecommit.put_file(
        repositoryName=name,
        branchName="main",
        parentCommitId=first,
        filePath="src/lib.py",
        fileContent=b"lib\n",
    )["commitId"]

    def commit(**fields: Any) -> dict[str, Any]:
        return {"repositoryName": name, "branchName": "main", "parentCommitId": tip, **fields}

    def put(path: str, content: bytes = b"new\n") -> dict[str, Any]:
        return {"filePath": path, "fileContent": b64(content)}

    big = b"x" * (6 * 1024 * 1024 + 1)
    half = b"y" * (3 * 1024 * 1024 + 1)
    cases: list[tuple[str, dict[str, Any], str]] = [
        (
            "CreateCommit",
            commit(parentCommitId=None, putFiles=[put("a")]),
            "ParentCommitIdRequiredException",
        ),
        (
            "CreateCommit",
            commit(parentCommitId=first, putFiles=[put("a")]),
            "ParentCommitIdOutdatedException",
        ),
        (
            "CreateCommit",
            commit(parentCommitId="abc", putFiles=[put("a")]),
            "InvalidParentCommitIdException",
        ),
        (
            "CreateCommit",
            commit(parentCommitId="0" * 40, putFiles=[put("a")]),
            "ParentCommitDoesNotExistException",
        ),
        (
            "CreateCommit",
            commit(branchName="other", putFiles=[put("a")]),
            "BranchDoesNotExistException",
        ),
        (
            "CreateCommit",
            commit(branchName="bad..name", putFiles=[put("a")]),
            "InvalidBranchNameException",
        ),
        ("CreateCommit", commit(), "FileEntryRequiredException"),
        (
            "CreateCommit",
            commit(putFiles=[put(f"f{i}") for i in range(101)]),
            "MaximumFileEntriesExceededException",
        ),
        ("CreateCommit", commit(putFiles=[{"fileContent": b64(b"x")}]), "PathRequiredException"),
        ("CreateCommit", commit(putFiles=[put("src/../etc")]), "InvalidPathException"),
        (
            "CreateCommit",
            commit(putFiles=[put("README.md")], deleteFiles=[{"filePath": "README.md"}]),
            "SamePathRequestException",
        ),
        ("CreateCommit", commit(putFiles=[put("a"), put("/a")]), "SamePathRequestException"),
        (
            "CreateCommit",
            commit(putFiles=[{"filePath": "a"}]),
            "SourceFileOrContentRequiredException",
        ),
        (
            "CreateCommit",
            commit(putFiles=[{**put("a"), "sourceFile": {"filePath": "README.md"}}]),
            "FileContentAndSourceFileSpecifiedException",
        ),
        (
            "CreateCommit",
            commit(putFiles=[{"filePath": "a", "sourceFile": {"filePath": "src/.gitkeep"}}]),
            "RestrictedSourceFileException",
        ),
        (
            "CreateCommit",
            commit(putFiles=[{"filePath": "a", "sourceFile": {"filePath": "missing"}}]),
            "FileDoesNotExistException",
        ),
        (
            "CreateCommit",
            commit(putFiles=[{**put("a"), "fileMode": "WRITABLE"}]),
            "InvalidFileModeException",
        ),
        (
            "CreateCommit",
            commit(deleteFiles=[{"filePath": "missing"}]),
            "FileDoesNotExistException",
        ),
        (
            "CreateCommit",
            commit(setFileModes=[{"filePath": "README.md"}]),
            "FileModeRequiredException",
        ),
        (
            "CreateCommit",
            commit(putFiles=[put("README.md/x")]),
            "DirectoryNameConflictsWithFileNameException",
        ),
        (
            "CreateCommit",
            commit(putFiles=[put("src")]),
            "FileNameConflictsWithDirectoryNameException",
        ),
        (
            "CreateCommit",
            commit(putFiles=[put("new"), put("new/x")]),
            "PutFileEntryConflictException",
        ),
        ("CreateCommit", commit(putFiles=[put("README.md", b"readme\n")]), "NoChangeException"),
        (
            "CreateCommit",
            commit(putFiles=[put("a")], commitMessage="m" * (256 * 1024 + 1)),
            "CommitMessageLengthExceededException",
        ),
        (
            "CreateCommit",
            commit(putFiles=[put("big", big)]),
            "FileContentSizeLimitExceededException",
        ),
        (
            "CreateCommit",
            commit(putFiles=[put("data/one", half), put("data/two", half)]),
            "FolderContentSizeLimitExceededException",
        ),
        (
            "PutFile",
            commit(filePath="README.md", fileContent=b64(b"readme\n")),
            "SameFileContentException",
        ),
        ("PutFile", commit(filePath="README.md", fileContent=""), "FileContentRequiredException"),
        (
            "PutFile",
            commit(filePath="b", fileContent=b64(b"b"), parentCommitId=None),
            "ParentCommitIdRequiredException",
        ),
        ("DeleteFile", commit(filePath="missing"), "FileDoesNotExistException"),
        ("GetFile", {"repositoryName": name, "filePath": "missing"}, "FileDoesNotExistException"),
        (
            "GetFile",
            {"repositoryName": name, "filePath": "README.md", "commitSpecifier": "nope"},
            "CommitDoesNotExistException",
        ),
        (
            "GetFolder",
            {"repositoryName": name, "folderPath": "missing"},
            "FolderDoesNotExistException",
        ),
        ("GetFolder", {"repositoryName": name}, "PathRequiredException"),
        ("GetCommit", {"repositoryName": name, "commitId": "abc"}, "InvalidCommitIdException"),
        (
            "GetCommit",
            {"repositoryName": name, "commitId": "0" * 40},
            "CommitIdDoesNotExistException",
        ),
        (
            "GetCommit",
            {"repositoryName": name + "-missing", "commitId": tip},
            "RepositoryDoesNotExistException",
        ),
        ("GetDifferences", {"repositoryName": name}, "CommitRequiredException"),
        (
            "GetDifferences",
            {"repositoryName": name, "afterCommitSpecifier": "main", "afterPath": "nope"},
            "PathDoesNotExistException",
        ),
        (
            "GetDifferences",
            {"repositoryName": name, "afterCommitSpecifier": "main", "MaxResults": 0},
            "InvalidMaxResultsException",
        ),
        (
            "GetDifferences",
            {"repositoryName": name, "afterCommitSpecifier": "main", "NextToken": "!"},
            "InvalidContinuationTokenException",
        ),
        (
            "GetBranch",
            {"repositoryName": name, "branchName": "nope"},
            "BranchDoesNotExistException",
        ),
        (
            "CreateBranch",
            {"repositoryName": name, "branchName": "main", "commitId": tip},
            "BranchNameExistsException",
        ),
        (
            "CreateBranch",
            {"repositoryName": name, "branchName": "b", "commitId": "1" * 40},
            "CommitDoesNotExistException",
        ),
        ("CreateBranch", {"repositoryName": name, "branchName": "b"}, "CommitIdRequiredException"),
        (
            "DeleteBranch",
            {"repositoryName": name, "branchName": "main"},
            "DefaultBranchCannotBeDeletedException",
        ),
        (
            "UpdateDefaultBranch",
            {"repositoryName": name, "defaultBranchName": "nope"},
            "BranchDoesNotExistException",
        ),
    ]
    failures = []
    for action, body, expected in cases:
        body = {key: value for key, value in body.items() if value is not None}
        got = error_of(call(patched, action, body))
        if got != expected:
            failures.append(f"{action} {sorted(body)}: {got}, not {expected}")
    assert failures == []
    # None of them moved the branch.
    assert (
        codecommit.get_branch(repositoryName=name, branchName="main")["branch"]["commitId"] == tip
    )


def error_of(answer: dict[str, Any]) -> str:
    return str(answer.get("__type", "no error"))


def test_read_tree_gives_engines_a_commit_and_its_files() -> None:
    # In-process, moto unpatched: the actions run on a stand-in for moto's response.
    from types import SimpleNamespace

    from moto.codecommit.models import CodeCommitBackend
    from moto.core.exceptions import JsonRESTError

    from deployer.emulator.patches import codecommit_commits

    backend = CodeCommitBackend("us-east-1", "123456789012")
    backend.create_repository("repo", "")

    def request(action: Any, **body: Any) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(
            action(SimpleNamespace(body=json.dumps(body), codecommit_backend=backend))
        )
        return answer

    with pytest.raises(JsonRESTError) as excinfo:
        codecommit_commits.read_tree(backend, "repo")
    assert excinfo.value.error_type == "CommitDoesNotExistException"
    first = request(
        codecommit_commits.create_commit,
        repositoryName="repo",
        branchName="main",
        putFiles=[
            {"filePath": "buildspec.yml", "fileContent": b64(b"version: 0.2\n")},
            {"filePath": "bin/run", "fileContent": b64(b"#!/bin/sh\n"), "fileMode": "EXECUTABLE"},
        ],
    )
    request(
        codecommit_commits.delete_file,
        repositoryName="repo",
        branchName="main",
        parentCommitId=first["commitId"],
        filePath="bin/run",
    )
    assert codecommit_commits.read_tree(backend, "repo", first["commitId"]) == (
        first["commitId"],
        {"buildspec.yml": ("NORMAL", b"version: 0.2\n"), "bin/run": ("EXECUTABLE", b"#!/bin/sh\n")},
    )
    tip, files = codecommit_commits.read_tree(backend, "repo")
    assert tip != first["commitId"] and files == {"buildspec.yml": ("NORMAL", b"version: 0.2\n")}
