"""`deployer release --source DIR` against the emulator's CodeCommit (codecommit_commits).

The same calls go to AWS: only the files that differ are committed, with git's blob ids.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from deployer import release
from deployer.config import load
from deployer.errors import UsageError

from .conftest import ROOT, Server

CFG = load(ROOT)
REPOSITORY = CFG.names.delivery.repository_name
BRANCH = CFG.pipeline.branch


def git(tree: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(tree), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def scope_of(server: Server) -> Any:
    made: dict[str, Any] = {}

    def client(name: str) -> Any:
        made.setdefault(name, server.client(name))
        return made[name]

    return SimpleNamespace(
        config=CFG, client=client, account_id="123456789012", region="us-east-1",
        env=SimpleNamespace(name=CFG.delivery_environment),
    )  # fmt: skip


def tree_at(codecommit: Any, commit: str) -> dict[str, tuple[str, str]]:
    tree, token = {}, None
    while True:
        page = codecommit.get_differences(
            repositoryName=REPOSITORY, afterCommitSpecifier=commit,
            **({"NextToken": token} if token else {}),
        )  # fmt: skip
        for d in page["differences"]:
            tree[d["afterBlob"]["path"]] = (d["afterBlob"]["blobId"], d["afterBlob"]["mode"])
        token = page.get("NextToken")
        if not token:
            return tree


def test_release_commits_only_what_differs(patched: Server, tmp_path: Path) -> None:
    codecommit = patched.client("codecommit")
    codecommit.create_repository(repositoryName=REPOSITORY)
    scope = scope_of(patched)
    source = tmp_path / "monorepo"
    (source / "services" / "api").mkdir(parents=True)
    (source / "services" / "api" / "app.py").write_text("print('v1')\n")
    (source / "services" / "api" / "cache.pyc").write_bytes(b"\0ignored")
    (source / "bin").mkdir()
    (source / "bin" / "run.sh").write_text("#!/bin/sh\nexec python3 app.py\n")
    os.chmod(source / "bin" / "run.sh", 0o755)
    (source / "README.md").write_text("# shop\n")
    (source / "app").symlink_to("services/api/app.py")
    (source / ".gitignore").write_text("*.pyc\n")
    git(source, "init", "-q")
    git(source, "add", "-A")

    # -- the first commit creates the branch, with git's ids and modes ----------------------
    first = release.release(scope, source, message="first")
    assert first.before is None and len(first.commits) == 1
    assert sorted(first.added) == [".gitignore", "README.md", "app", "bin/run.sh",
                                   "services/api/app.py"]  # fmt: skip
    tree = tree_at(codecommit, first.commits[0])
    for path in first.added:
        assert tree[path][0] == git(source, "hash-object", path) or path == "app", path
    assert tree["bin/run.sh"][1] == "100755" and tree["README.md"][1] == "100644"
    assert tree["app"][1] == "120000"  # a link, its target as content
    link = codecommit.get_file(repositoryName=REPOSITORY, filePath="app")
    assert link["fileContent"] == b"services/api/app.py"
    assert "services/api/cache.pyc" not in tree  # git ignores it
    # The tree git would write for the same files: the same id CodeCommit reports.
    commit = codecommit.get_commit(repositoryName=REPOSITORY, commitId=first.commits[0])
    assert commit["commit"]["treeId"] == git(source, "write-tree")
    assert commit["commit"]["message"].strip() == "first"
    branch = codecommit.get_branch(repositoryName=REPOSITORY, branchName=BRANCH)["branch"]
    assert branch["commitId"] == first.commit

    # -- the same tree again: nothing committed -----------------------------------------------
    again = release.release(scope, source)
    assert again.commits == [] and again.to_json()["commit"] == first.commit
    assert "nothing committed" in again.to_text()

    # -- one file changed, one gone: exactly that ---------------------------------------------
    (source / "services" / "api" / "app.py").write_text("print('v2')\n")
    (source / "README.md").unlink()
    second = release.release(scope, source, message="v2")
    assert (second.added, second.updated, second.deleted) == (
        [],
        ["services/api/app.py"],
        ["README.md"],
    )
    assert second.before == first.commit
    changes = codecommit.get_differences(
        repositoryName=REPOSITORY,
        beforeCommitSpecifier=first.commit,
        afterCommitSpecifier=second.commit,
    )["differences"]
    changed = sorted(
        (d["changeType"], (d.get("afterBlob") or d["beforeBlob"])["path"]) for d in changes
    )
    assert changed == [("D", "README.md"), ("M", "services/api/app.py")]
    parents = codecommit.get_commit(repositoryName=REPOSITORY, commitId=second.commit)
    assert parents["commit"]["parents"] == [first.commit]

    # -- over CodeCommit's 100 entries a commit: consecutive commits, each the next's parent --
    for number in range(150):
        (source / "data" / f"{number // 50}").mkdir(parents=True, exist_ok=True)
        (source / "data" / f"{number // 50}" / f"f{number:03}.txt").write_text(f"{number}\n")
    big = release.release(scope, source, message="data")
    assert len(big.commits) == 2 and len(big.added) == 150
    last = codecommit.get_commit(repositoryName=REPOSITORY, commitId=big.commits[1])["commit"]
    assert last["parents"] == [big.commits[0]] and "(part 2 of 2)" in last["message"]
    assert len(tree_at(codecommit, big.commit or "")) == 4 + 150

    # -- bad input changes nothing -------------------------------------------------------------
    tip = big.commit
    (source / "huge.bin").write_bytes(b"\0" * (release.MAX_FILE_BYTES + 1))
    with pytest.raises(release.ReleaseError, match=r"huge\.bin: 6,291,457 bytes"):
        release.release(scope, source)
    (source / "huge.bin").unlink()
    with pytest.raises(UsageError, match="no such folder"):
        release.release(scope, tmp_path / "missing")
    branch = codecommit.get_branch(repositoryName=REPOSITORY, branchName=BRANCH)["branch"]
    assert branch["commitId"] == tip


def test_release_needs_the_repository(patched: Server, tmp_path: Path) -> None:
    scope = scope_of(patched)
    other = SimpleNamespace(**{**vars(scope), "account_id": "123456789012"})
    (tmp_path / "a.txt").write_text("a\n")
    config = SimpleNamespace(
        pipeline=CFG.pipeline,
        names=SimpleNamespace(delivery=SimpleNamespace(repository_name="no-such-monorepo")),
    )
    other.config = config
    with pytest.raises(release.ReleaseError, match="no-such-monorepo does not exist") as info:
        release.release(other, tmp_path)
    assert "deployer apply delivery" in str(info.value)


def test_release_to_an_s3_source_uploads_one_zip_per_tree(patched: Server, tmp_path: Path) -> None:
    """pipeline.source S3: the tree as a zip, a new object version only when it changed."""
    import io
    import zipfile

    s3_config = SimpleNamespace(
        pipeline=SimpleNamespace(source="S3", branch="main"), names=CFG.names
    )
    scope = scope_of(patched)
    scope.config = s3_config
    bucket = CFG.names.delivery.source_bucket
    key = CFG.names.delivery.source_object_key
    source = tmp_path / "tree"
    (source / "services").mkdir(parents=True)
    (source / "services" / "app.py").write_text("print('v1')\n")
    (source / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(source / "run.sh", 0o755)

    with pytest.raises(release.ReleaseError, match=f"source bucket {bucket} does not exist"):
        release.release(scope, source)
    s3 = patched.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    first = release.release(scope, source)
    assert isinstance(first, release.Uploaded) and first.changed and first.version_id
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.namelist() == ["run.sh", "services/app.py"]
        assert archive.read("services/app.py") == b"print('v1')\n"
        assert (archive.getinfo("run.sh").external_attr >> 16) & 0o777 == 0o755
    # The same tree: the same bytes, nothing uploaded.
    again = release.release(scope, source)
    assert not again.changed and again.version_id == first.version_id
    assert release.zip_tree(release.read_tree(source)) == body
    # A change: a new version.
    (source / "services" / "app.py").write_text("print('v2')\n")
    second = release.release(scope, source)
    assert second.changed and second.version_id != first.version_id
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    assert len(versions) == 2
