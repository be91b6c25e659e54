"""The Terraform toolchain: find the binary, check its version, write its CLI config.

Every Terraform process the deployer starts runs with a CLI configuration of
the deployer's own (``TF_CLI_CONFIG_FILE``), never the user's ``~/.terraformrc``:

* a shared provider plugin cache, so N workspaces do not hold N copies of the
  AWS provider (each data directory only links into the cache);
* when a provider mirror is configured (``DEPLOYER_PROVIDER_MIRROR`` or
  ``terraform.provider_mirror`` in ``environments/project.yaml``) or found (the
  usual places, then a bounded search for the version the stacks lock; see
  ``resolve_mirror``), providers are installed from that filesystem mirror
  only, so an offline machine never waits on the public registry. Discovery
  lives here, not in the ``bin/`` scripts, so the installed ``deployer``
  console script and ``bin/deployer`` always agree on it.

The plugin cache is not safe for concurrent writers, so ``terraform init`` runs
under an exclusive file lock (``init_lock``). A folder without a lock file (a
module copied for its tests) must get the stacks' one first (the tests'
``seed_lock_file``): without a lock entry Terraform does not trust the cache and
reinstalls the provider into it, replacing the folder other running Terraform
processes link to.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from deployer.errors import ToolchainError

#: S3 native state locking (``use_lockfile``) arrived in Terraform 1.10.
MIN_TERRAFORM = (1, 10, 0)

MIRROR_ENV = "DEPLOYER_PROVIDER_MIRROR"
#: ``DEPLOYER_PROVIDER_MIRROR=none``: use the registry, never search for a mirror.
NO_MIRROR = "none"
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
    #: How the mirror (or its absence) was decided: "from DEPLOYER_PROVIDER_MIRROR", ...
    mirror_source: str = ""

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


def cached_version(binary: Path, cache: Path) -> tuple[int, int, int]:
    """``read_version``, remembered for this very file (path, inode, size, times): a
    `terraform version` process costs every invocation about 0.1 s."""
    try:
        st = binary.resolve().stat()
    except OSError:
        return read_version(binary)
    key = f"{binary.resolve()}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        record = json.loads(cache.read_text())
        if record["key"] == key:
            major, minor, patch = (int(v) for v in record["version"])
            return (major, minor, patch)
    version = read_version(binary)
    with contextlib.suppress(OSError):
        _write_atomically(cache, json.dumps({"key": key, "version": list(version)}))
    return version


def check_version(version: tuple[int, int, int], binary: Path) -> None:
    if version < MIN_TERRAFORM:
        need = ".".join(map(str, MIN_TERRAFORM))
        have = ".".join(map(str, version))
        raise ToolchainError(
            f"Terraform {have} at {binary} is too old: the stacks need >= {need} "
            "(S3 native state locking, use_lockfile)",
            hint=f"install Terraform {need} or newer, or point {BINARY_ENV} at one",
        )


#: Where Terraform itself looks for providers on Unix (its implied local mirror
#: directories), then the places offline machine images usually put a mirror.
USUAL_MIRRORS = (
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
    "/opt/tf-plugins",
    "/opt/terraform/plugins",
    "/opt/terraform-plugins",
)
#: The filesystem search stops this deep below / (a mirror's provider binary lies
#: 5 levels below the mirror: registry.terraform.io/hashicorp/aws/<v>/<platform>/)...
SEARCH_MAX_DEPTH = 6
#: ... and after this long: a slow disk must not hold every command hostage.
SEARCH_SECONDS = 60.0
#: Never searched: virtual filesystems, and trees that hold no mirror worth trusting.
SEARCH_SKIP = ("/proc", "/sys", "/dev", "/run", "/tmp", "/var/tmp", "/var/lib/docker")
MIRROR_CACHE = "provider-mirror.json"
AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"


@dataclass(frozen=True)
class Mirror:
    """The provider mirror the deployer's Terraform processes install from, and why."""

    path: Path | None
    source: str

    def describe(self) -> str:
        return f"{self.path} ({self.source})" if self.path else f"the registry ({self.source})"


def locked_provider_version(root: Path) -> str | None:
    """The AWS provider version the stacks' committed lock files pin."""
    for lock in sorted((root / "environments" / "stacks").glob("*/.terraform.lock.hcl")):
        match = re.search(
            r'provider "' + re.escape(AWS_PROVIDER) + r'" \{\s*version\s*=\s*"([^"]+)"',
            lock.read_text(),
        )
        if match:
            return match.group(1)
    return None


def platform_name() -> str:
    """Terraform's name for this platform, e.g. ``linux_amd64``."""
    machine = os.uname().machine.lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)
    return f"{os.uname().sysname.lower()}_{arch}"


def holds_provider(mirror: Path, version: str | None, platform: str) -> bool:
    """Whether ``mirror`` (filesystem-mirror layout) holds the AWS provider at ``version``."""
    base = mirror / AWS_PROVIDER
    versions = [version] if version else [p.name for p in base.glob("*") if p.is_dir()]
    for v in versions:
        folder = base / v / platform
        if any(folder.glob("terraform-provider-aws_*")):
            return True
        if any(base.glob(f"terraform-provider-aws_{v}_{platform}.zip")):  # packed layout
            return True
    return False


def search_mirror(
    version: str | None,
    platform: str,
    *,
    top: Path = Path("/"),
    skip: tuple[str, ...] = SEARCH_SKIP,
    max_depth: int = SEARCH_MAX_DEPTH,
    seconds: float = SEARCH_SECONDS,
) -> Path | None:
    """A bounded walk of one filesystem for a folder holding the locked provider."""
    deadline = time.monotonic() + seconds
    try:
        device = top.stat().st_dev
    except OSError:
        return None
    skipped = {str(Path(s)) for s in skip}
    # Breadth first: shallow mirrors are found fast.
    queue: collections.deque[tuple[Path, int]] = collections.deque([(top, 0)])
    while queue:
        folder, depth = queue.popleft()
        if time.monotonic() > deadline:
            return None
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if not entry.is_dir(follow_symlinks=False):
                    continue
                if entry.name == "registry.terraform.io":
                    if holds_provider(folder, version, platform):
                        return folder
                    continue
                if entry.path in skipped or entry.stat(follow_symlinks=False).st_dev != device:
                    continue
            except OSError:
                continue
            if depth + 1 < max_depth:
                queue.append((Path(entry.path), depth + 1))
    return None


def resolve_mirror(
    configured: str | None,
    root: Path,
    state_dir: Path | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    usual: tuple[str, ...] = USUAL_MIRRORS,
    search: Callable[[str | None, str], Path | None] | None = None,
) -> Mirror:
    """The provider mirror, in this order:

    1. ``$DEPLOYER_PROVIDER_MIRROR``; 2. ``terraform.provider_mirror`` in
    ``environments/project.yaml`` (relative to the project root); 3. what an
    earlier run found, cached in ``<state_dir>/terraform/provider-mirror.json``
    (trusted only while it still holds the locked version); 4. the usual places
    (``USUAL_MIRRORS``); 5. a bounded search of the root filesystem. Found
    nothing: providers come from the registry (that is cached too; delete the
    cache file to search again). ``$DEPLOYER_PROVIDER_MIRROR=none``: the registry,
    without looking (CI runners with registry access).
    """
    if os.environ.get(MIRROR_ENV, "").strip().lower() == NO_MIRROR:
        return Mirror(None, f"{MIRROR_ENV}=none: providers from the registry")
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
            return Mirror(path.resolve(), f"from {source}")
    version = locked_provider_version(root)
    platform = platform_name()
    cache = state_dir / "terraform" / MIRROR_CACHE if state_dir is not None else None
    cached = _read_mirror_cache(cache, version, platform)
    if cached is not None:
        return cached
    found: Path | None = None
    how = ""
    for candidate in usual:
        path = Path(candidate).expanduser()
        if path.is_dir() and holds_provider(path, version, platform):
            found, how = path.resolve(), "found in a usual place"
            break
    if found is None:
        if progress is not None:
            progress(
                f"looking for a Terraform provider mirror holding hashicorp/aws "
                f"{version or '(any version)'} for {platform} (set {MIRROR_ENV} to skip this)"
            )
        found = (search or search_mirror)(version, platform)
        how = "found by searching the filesystem"
    mirror = Mirror(found, how) if found else Mirror(None, "no provider mirror found")
    if cache is not None:
        _write_mirror_cache(cache, mirror, version, platform)
    return mirror


def _read_mirror_cache(cache: Path | None, version: str | None, platform: str) -> Mirror | None:
    if cache is None:
        return None
    try:
        data = json.loads(cache.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != version:
        return None
    if data.get("platform") != platform:
        return None
    path = data.get("path")
    if path is None:
        return Mirror(None, f"no provider mirror found (cached in {cache})")
    if holds_provider(Path(path), version, platform):
        return Mirror(Path(path), f"{data.get('how', 'found')}, cached in {cache.name}")
    return None


def _write_mirror_cache(cache: Path, mirror: Mirror, version: str | None, platform: str) -> None:
    record = {
        "path": str(mirror.path) if mirror.path else None,
        "how": mirror.source,
        "version": version,
        "platform": platform,
    }
    _write_atomically(cache, json.dumps(record, indent=2) + "\n")


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file of this process, then rename:
    a reader (another deployer run) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


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
    progress: Callable[[str], None] | None = None,
) -> Toolchain:
    """Find and check Terraform, and write the CLI configuration it will run with."""
    binary = find_binary(configured_binary)
    version = cached_version(binary, state_dir / "terraform" / "version.json")
    check_version(version, binary)
    found = resolve_mirror(configured_mirror, root, state_dir, progress=progress)
    mirror = found.path
    tf_dir = state_dir / "terraform"
    plugin_cache = tf_dir / "plugin-cache"
    plugin_cache.mkdir(parents=True, exist_ok=True)
    cli_config = tf_dir / "cli.tfrc"
    content = render_cli_config(plugin_cache, mirror)
    if not cli_config.exists() or cli_config.read_text() != content:
        _write_atomically(cli_config, content)
    return Toolchain(binary, version, cli_config, plugin_cache, mirror, found.source)


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
