"""Deterministic Lambda packages: the same source gives the same zip, byte for byte.

Terraform's AWS provider updates a function whenever ``source_code_hash`` changes, and the
archive provider is not available here, so the deployer zips the function itself. A zip
records timestamps, permissions and entry order; all three are fixed here (1980-01-01, the
zip epoch; 0644; sorted paths), bytecode and tests are left out, and the file is rewritten
only when its content changes, so a rebuild never shows up as a plan diff.

The bytes depend on zlib's deflate output, which is stable for a given zlib; a machine with
another zlib build may produce a different (equally valid) archive once.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from deployer.atomic import write_atomically
from deployer.errors import DeployerError

#: The zip format's earliest date; what every entry is stamped with.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
#: Regular file, rw-r--r--.
FILE_MODE = 0o100644
#: Directories and files never packaged.
EXCLUDED_DIRS = frozenset({"__pycache__", "tests", "test"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
COMPRESS_LEVEL = 9


class PackagingError(DeployerError):
    """The source cannot be packaged (no package in it, unreadable files)."""


@dataclass(frozen=True)
class PackageInfo:
    """A built package: where it is, and its hash as Terraform's ``filebase64sha256``
    gives it (the value for ``source_code_hash``)."""

    path: Path
    sha256_base64: str


def build_lambda_zip(source: Path, out: Path) -> PackageInfo:
    """Zip the Python package(s) in ``source`` into ``out``, deterministically.

    ``source`` is either a package directory (it holds ``__init__.py``) or a folder holding
    packages (``functions/deploy_guard``, which holds ``deploy_guard/`` and ``tests/``): then
    every package directory in it except tests is packaged, at the root of the zip, as
    Lambda imports them. ``out`` is written only if its content would change.
    """
    data = _zip_bytes(_entries(source))
    info = PackageInfo(path=out, sha256_base64=sha256_base64(data))
    try:
        if out.is_file() and out.read_bytes() == data:
            return info
        out.parent.mkdir(parents=True, exist_ok=True)
        # Write aside and rename, so a reader (Terraform) never sees half a zip.
        write_atomically(out, data)
    except OSError as exc:
        raise PackagingError(f"cannot write the Lambda package {out}: {exc}") from exc
    return info


def sha256_base64(data: bytes) -> str:
    """base64 of the SHA-256 digest, as Terraform's ``filebase64sha256`` computes it."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _entries(source: Path) -> list[tuple[str, Path]]:
    """(name in the zip, file) for every file to package, sorted by name."""
    if not source.is_dir():
        raise PackagingError(f"the Lambda source {source} is not a directory")
    if (source / "__init__.py").is_file():
        packages = [source]
    else:
        packages = sorted(
            p
            for p in source.iterdir()
            if p.is_dir() and p.name not in EXCLUDED_DIRS and (p / "__init__.py").is_file()
        )
    if not packages:
        raise PackagingError(
            f"no Python package in {source}: expected a directory with an __init__.py"
        )
    entries: list[tuple[str, Path]] = []
    for package in packages:
        for folder, dirs, files in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS and not d.startswith("."))
            for name in files:
                if name.endswith(EXCLUDED_SUFFIXES) or name.startswith("."):
                    continue
                path = Path(folder) / name
                if not path.is_file():
                    continue
                arcname = path.relative_to(package.parent).as_posix()
                entries.append((arcname, path))
    return sorted(entries)


def _zip_bytes(entries: list[tuple[str, Path]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for arcname, path in entries:
            entry = zipfile.ZipInfo(arcname, date_time=FIXED_DATE_TIME)
            entry.external_attr = FILE_MODE << 16
            entry.create_system = 3  # Unix, whatever builds it, so the mode bits are read
            entry.compress_type = zipfile.ZIP_DEFLATED
            try:
                content = path.read_bytes()
            except OSError as exc:
                raise PackagingError(f"cannot read {path}: {exc}") from exc
            archive.writestr(entry, content, compresslevel=COMPRESS_LEVEL)
    return buffer.getvalue()


GUARD_SOURCE = Path("functions") / "deploy_guard"
GUARD_PACKAGE = GUARD_SOURCE / "dist" / "deploy-guard.zip"


def deploy_guard_package(root: Path) -> dict[str, str]:
    """Build the deploy guard's zip (deterministically) and say where it is.

    The zip lives in the project tree and its path is given relative to the
    stack, so every clone and every state folder passes the same `filename`:
    no spurious plan diff between machines.
    """
    info = build_lambda_zip(root / GUARD_SOURCE, root / GUARD_PACKAGE)
    stack = root / "environments" / "stacks" / "runtime"
    return {"path": os.path.relpath(info.path, stack), "hash": info.sha256_base64}
