"""Deterministic Lambda packaging (deployer.packaging): same source, same zip, no plan diff."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from deployer.packaging import PackageInfo, PackagingError, build_lambda_zip

ROOT = Path(__file__).resolve().parents[2]
GUARD_SOURCE = ROOT / "functions" / "deploy_guard"


def make_source(root: Path) -> Path:
    """A function folder like functions/deploy_guard, with the clutter a checkout collects."""
    package = root / "fn" / "guard"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text('"""Guard."""\n')
    (package / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "rules.json").write_text('{"a": 1}\n')
    (package / "py.typed").write_text("")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\x00bytecode")
    (package / "stale.pyc").write_bytes(b"\x00bytecode")
    (package / "tests").mkdir()
    (package / "tests" / "test_inner.py").write_text("def test(): pass\n")
    (package / ".DS_Store").write_bytes(b"\x00")
    (root / "fn" / "tests").mkdir()
    (root / "fn" / "tests" / "test_guard.py").write_text("def test(): pass\n")
    (root / "fn" / "README.md").write_text("# fn\n")
    return root / "fn"


def names(info: PackageInfo) -> list[str]:
    with zipfile.ZipFile(info.path) as archive:
        return archive.namelist()


def test_same_source_gives_the_same_bytes_and_hash(tmp_path: Path) -> None:
    source = make_source(tmp_path)
    first = build_lambda_zip(source, tmp_path / "a" / "guard.zip")
    second = build_lambda_zip(source, tmp_path / "b" / "guard.zip")

    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256_base64 == second.sha256_base64


def test_file_times_and_permissions_do_not_change_the_hash(tmp_path: Path) -> None:
    source = make_source(tmp_path)
    before = build_lambda_zip(source, tmp_path / "before.zip")
    handler = source / "guard" / "handler.py"
    os.utime(handler, (1_900_000_000, 1_900_000_000))
    handler.chmod(0o755)

    after = build_lambda_zip(source, tmp_path / "after.zip")

    assert after.sha256_base64 == before.sha256_base64


def test_a_changed_file_changes_the_hash(tmp_path: Path) -> None:
    source = make_source(tmp_path)
    before = build_lambda_zip(source, tmp_path / "guard.zip")
    (source / "guard" / "handler.py").write_text("def handler(event, context):\n    return 1\n")

    after = build_lambda_zip(source, tmp_path / "guard.zip")

    assert after.sha256_base64 != before.sha256_base64


def test_only_the_package_files_are_packaged(tmp_path: Path) -> None:
    info = build_lambda_zip(make_source(tmp_path), tmp_path / "guard.zip")

    assert names(info) == [
        "guard/__init__.py",
        "guard/handler.py",
        "guard/py.typed",
        "guard/sub/__init__.py",
        "guard/sub/rules.json",
    ]


def test_entries_have_a_fixed_time_and_mode(tmp_path: Path) -> None:
    info = build_lambda_zip(make_source(tmp_path), tmp_path / "guard.zip")

    with zipfile.ZipFile(info.path) as archive:
        for entry in archive.infolist():
            assert entry.date_time == (1980, 1, 1, 0, 0, 0)
            assert entry.external_attr >> 16 == 0o100644
            assert entry.compress_type == zipfile.ZIP_DEFLATED


def test_the_hash_is_terraforms_filebase64sha256(tmp_path: Path) -> None:
    info = build_lambda_zip(make_source(tmp_path), tmp_path / "guard.zip")

    data = info.path.read_bytes()
    assert info.sha256_base64 == base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_an_unchanged_package_is_not_rewritten(tmp_path: Path) -> None:
    source = make_source(tmp_path)
    out = tmp_path / "guard.zip"
    build_lambda_zip(source, out)
    os.utime(out, (1_000_000_000, 1_000_000_000))

    build_lambda_zip(source, out)
    assert out.stat().st_mtime == 1_000_000_000

    (source / "guard" / "handler.py").write_text("changed = True\n")
    build_lambda_zip(source, out)
    assert out.stat().st_mtime != 1_000_000_000
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".guard.zip")] == []


def test_a_package_directory_itself_can_be_the_source(tmp_path: Path) -> None:
    source = make_source(tmp_path)
    whole = build_lambda_zip(source, tmp_path / "whole.zip")
    package = build_lambda_zip(source / "guard", tmp_path / "package.zip")

    assert package.sha256_base64 == whole.sha256_base64


def test_a_folder_without_a_package_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(PackagingError, match="no Python package"):
        build_lambda_zip(tmp_path / "empty", tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_the_deploy_guard_package_imports_from_its_zip(tmp_path: Path) -> None:
    info = build_lambda_zip(GUARD_SOURCE, tmp_path / "deploy-guard.zip")
    assert "deploy_guard/handler.py" in names(info)
    assert not [n for n in names(info) if "tests" in n or n.endswith(".pyc")]
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(info.path) as archive:
        archive.extractall(unpacked)

    # As Lambda does: the unpacked zip on sys.path, the handler by its dotted name.
    probe = (
        "import importlib; m = importlib.import_module('deploy_guard.handler'); "
        "assert callable(m.handler); print(m.__file__)"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(unpacked)!r}); {probe}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(unpacked))
