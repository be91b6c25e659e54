"""The Terraform toolchain: find the binary, check its version, write its CLI config.

Every Terraform process the deployer starts runs with a CLI configuration of
the deployer's own (``TF_CLI_CONFIG_FILE``), never the user's ``~/.terraformrc``:

* a shared provider plugin cache, so N workspaces do not hold N copies of the
  AWS provider (each data directory only links into the cache);
* when a provider mirror is configured (``DEPLOYER_PROVIDER_MIRROR`` or
  ``terraform.provider_mirror`` in ``environments/project.yaml``), providers are
  installed from that filesystem mirror only, so an offline machine never waits
  on the public registry.

The plugin cache is not safe for concurrent writers, so ``terraform init`` runs
under an exclusive file lock (``init_lock``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deployer.errors import ToolchainError

#: S3 native state locking (``use_lockfile``) arrived in Terraform 1.10.
MIN_TERRAFORM = (1, 10, 0)

MIRROR_ENV = "DEPLOYER_PROVIDER_MIRROR"
GOGC_DEFAULT = "400"
BINARY_ENV = "DEPLOYER_TERRAFORM"

MIRROR_HINT = (
    f"configure a provider mirror: set {MIRROR_ENV}=/path/to/mirror or "
    "terraform.provider_mirror in environments/project.yaml; the directory must "
    "use Terraform's filesystem-mirror layout "
    "(registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/...), "
    "as written by `terraform providers mirror <dir>` on a machine with registry access"
)


@dataclass(frozen=True)
class Toolchain:
    binary: Path
    version: tuple[int, int, int]
    cli_config: Path
    plugin_cache: Path
    mirror: Path | None

    @property
    def version_string(self) -> str:
        return ".".join(map(str, self.version))

    def environ(self) -> dict[str, str]:
        """Variables every Terraform process gets from the toolchain."""
        env = {
            "TF_CLI_CONFIG_FILE": str(self.cli_config),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }
        # Terraform and the AWS provider (Go) spend a quarter of a no-op plan's
        # CPU collecting garbage around the provider's large schema; a larger
        # heap target trades ~170 MB per process for that CPU (bench/fanout).
        # A GOGC of the user's own wins.
        if "GOGC" not in os.environ:
            env["GOGC"] = GOGC_DEFAULT
        return env

    @contextlib.contextmanager
    def init_lock(self) -> Iterator[None]:
        """Serialise writers of the shared plugin cache (``terraform init``)."""
        lock_path = self.plugin_cache.parent / "plugin-cache.lock"
        with open(lock_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def find_binary(configured: str | None = None) -> Path:
    """The Terraform binary: $DEPLOYER_TERRAFORM, then the config key, then PATH."""
    for source, value in (
        (BINARY_ENV, os.environ.get(BINARY_ENV)),
        ("terraform.binary in environments/project.yaml", configured),
    ):
        if value:
            path = Path(value).expanduser()
            if path.is_file() and os.access(path, os.X_OK):
                return path.resolve()
            found = shutil.which(value)
            if found:
                return Path(found)
            raise ToolchainError(
                f"Terraform binary {value!r} (from {source}) does not exist or is not executable",
                hint="fix the path, or unset it to use terraform from PATH",
            )
    found = shutil.which("terraform")
    if not found:
        raise ToolchainError(
            "Terraform was not found on PATH",
            hint=(
                f"install Terraform >= {'.'.join(map(str, MIN_TERRAFORM))} "
                f"or set {BINARY_ENV} to its path"
            ),
        )
    return Path(found)


_VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def read_version(binary: Path) -> tuple[int, int, int]:
    try:
        proc = subprocess.run(
            [str(binary), "version", "-json"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull},
            check=False,
        )
    except OSError as exc:
        raise ToolchainError(f"cannot run {binary}: {exc}") from exc
    text = proc.stdout
    with contextlib.suppress(ValueError, KeyError, TypeError):
        text = json.loads(proc.stdout)["terraform_version"]
    match = _VERSION_RE.search(text or "")
    if proc.returncode != 0 or not match:
        raise ToolchainError(
            f"{binary} did not report a Terraform version (exit {proc.returncode}): "
            f"{(proc.stderr or proc.stdout).strip()[:300]}"
        )
    major, minor, patch = (int(g) for g in match.groups())
    return (major, minor, patch)


def check_version(version: tuple[int, int, int], binary: Path) -> None:
    if version < MIN_TERRAFORM:
        need = ".".join(map(str, MIN_TERRAFORM))
        have = ".".join(map(str, version))
        raise ToolchainError(
            f"Terraform {have} at {binary} is too old: the stacks need >= {need} "
            "(S3 native state locking, use_lockfile)",
            hint=f"install Terraform {need} or newer, or point {BINARY_ENV} at one",
        )


def resolve_mirror(configured: str | None, root: Path) -> Path | None:
    """The provider mirror directory: $DEPLOYER_PROVIDER_MIRROR, then the config key."""
    for source, value in (
        (MIRROR_ENV, os.environ.get(MIRROR_ENV)),
        ("terraform.provider_mirror in environments/project.yaml", configured),
    ):
        if value:
            path = Path(value).expanduser()
            if not path.is_absolute():
                path = root / path
            if not path.is_dir():
                raise ToolchainError(
                    f"provider mirror {value!r} (from {source}) is not a directory",
                    hint=MIRROR_HINT,
                )
            return path.resolve()
    return None


def render_cli_config(plugin_cache: Path, mirror: Path | None) -> str:
    lines = [
        "# Written by the deployer for its own Terraform processes; do not edit.",
        f"plugin_cache_dir = {json.dumps(str(plugin_cache))}",
        "disable_checkpoint = true",
    ]
    if mirror is not None:
        lines += [
            "provider_installation {",
            "  filesystem_mirror {",
            f"    path = {json.dumps(str(mirror))}",
            "  }",
            "}",
        ]
    return "\n".join(lines) + "\n"


def prepare(
    state_dir: Path,
    root: Path,
    *,
    configured_binary: str | None = None,
    configured_mirror: str | None = None,
) -> Toolchain:
    """Find and check Terraform, and write the CLI configuration it will run with."""
    binary = find_binary(configured_binary)
    version = read_version(binary)
    check_version(version, binary)
    mirror = resolve_mirror(configured_mirror, root)
    tf_dir = state_dir / "terraform"
    plugin_cache = tf_dir / "plugin-cache"
    plugin_cache.mkdir(parents=True, exist_ok=True)
    cli_config = tf_dir / "cli.tfrc"
    content = render_cli_config(plugin_cache, mirror)
    if not cli_config.exists() or cli_config.read_text() != content:
        tmp = cli_config.with_suffix(".tmp")
        tmp.write_text(content)
        tmp.replace(cli_config)
    return Toolchain(binary, version, cli_config, plugin_cache, mirror)


_PROVIDER_FAILURE = re.compile(
    r"(Failed to query available provider packages|Failed to install provider|"
    r"could not connect to registry|Inconsistent dependency lock file|"
    r"provider registry\.terraform\.io/\S+ was not found|"
    r"Failed to resolve provider packages|"
    r"the cached package .* does not match)",
    re.IGNORECASE,
)


def provider_failure_hint(stderr: str, mirror: Path | None) -> str | None:
    """A hint when ``terraform init`` failed because a provider could not be resolved."""
    if not _PROVIDER_FAILURE.search(stderr):
        return None
    if mirror is None:
        return "Terraform could not download its providers (no registry access?); " + MIRROR_HINT
    return (
        f"the provider mirror {mirror} does not hold the provider version this stack "
        "needs for this platform; " + MIRROR_HINT
    )
