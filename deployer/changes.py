"""Which workspaces a change touches: ``deployer plan --changed BASE_REF``.

A workspace (environment x region of a stack) is selected when one of its inputs
differs between ``BASE_REF`` and the working tree, and each selection says why:

- **its variables or backend settings**: the configuration (``environments/*.yaml``)
  is loaded at ``BASE_REF`` and now, and each workspace's ``terraform.tfvars.json``
  and backend settings are built from both and compared key by key. A change to
  ``prod.yaml`` therefore selects prod's workspaces, and the delivery workspace too
  when it touches what the delivery stack reads from prod (account, regions, sizes,
  secret and parameter names); a change to ``protected`` or ``approval`` selects
  nothing, because no plan would differ;
- **its stack**: any file of ``environments/stacks/<stack>/`` but Markdown;
- **a module its stack uses**, directly or through another module (``source``
  paths are read from the ``.tf`` files), its tests and Markdown excepted;
- **the deploy guard's source** (``functions/deploy_guard``, packaged into the
  runtime stack), its tests excepted;
- **the deployer's own stack code**: how variables, packages and backends are built
  (:data:`STACK_CODE`). Every workspace.

Changes are those of ``git diff BASE_REF`` (committed or not) plus untracked files,
inside the project root. Anything else (READMEs, docs, tests, the rest of the
deployer) selects nothing.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from deployer import workspaces
from deployer.aws import AWS, Target
from deployer.config import Config
from deployer.config import load as load_config
from deployer.errors import ConfigError, UsageError

#: Deployer modules whose code decides what Terraform is given: a change to one
#: may change every workspace's inputs.
STACK_CODE = frozenset(
    {
        "deployer/tfvars.py",
        "deployer/packaging.py",
        "deployer/workspaces.py",
        "deployer/config.py",
        "deployer/aws.py",
        "deployer/state.py",
    }
)

#: Function sources packaged into a stack (folder -> stack).
PACKAGED_FUNCTIONS = {"functions/deploy_guard": "runtime"}

#: Variables left out of the configuration comparison: packages are compared by
#: their source files (above), and building one at BASE_REF is not needed.
UNCOMPARED_VARIABLES = frozenset({"deploy_guard_package"})

#: A module call's local source: "../x", "../../../modules/x".
_SOURCE_RE = re.compile(r'^\s*source\s*=\s*"((?:\.\./)+(?:modules/)?[\w-]+)/?"', re.MULTILINE)

#: At most this many differing keys are named in a reason.
MAX_KEYS_NAMED = 6


@dataclass(frozen=True)
class Selected:
    """One workspace to plan, and why (``--matrix`` prints these)."""

    environment: str
    region: str
    stack: str
    reasons: tuple[str, ...] = ()

    @property
    def workspace(self) -> str:
        return workspaces.workspace_name(self.environment, self.region)

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "region": self.region,
            "stack": self.stack,
            "workspace": self.workspace,
            "reasons": list(self.reasons),
        }


def every_workspace(config: Config) -> list[Selected]:
    """All workspaces of the project: the delivery environment first, then by name."""
    envs = sorted(config.environments.values(), key=lambda e: (e.stack != "delivery", e.name))
    return [Selected(e.name, r.name, e.stack) for e in envs for r in e.regions]


# ---------------------------------------------------------------------------
# git
# ---------------------------------------------------------------------------
def _git(root: Path, *args: str) -> str:
    try:
        result = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=60
        )
    except FileNotFoundError:
        raise UsageError("--changed needs git, and git is not on PATH") from None
    if result.returncode != 0:
        raise UsageError(f"git {' '.join(args)} failed in {root}: {result.stderr.strip()}")
    return result.stdout


def resolve_base(root: Path, base_ref: str) -> str:
    """The commit BASE_REF names, or a usage error saying how to make it available."""
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}").strip()
    except UsageError:
        raise UsageError(
            f"--changed {base_ref}: not a commit in the repository at {root}",
            hint="fetch it first (in GitHub Actions: actions/checkout with fetch-depth: 0)",
        ) from None


def changed_files(root: Path, base: str) -> list[str]:
    """Paths (relative to the project root) that differ from ``base``, and untracked files."""
    diff = _git(root, "diff", "--relative", "--name-only", "--no-renames", "-z", base, "--")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", ".")
    return sorted({p for p in (diff + untracked).split("\0") if p})


def _config_at(root: Path, base: str, into: Path) -> Config | None:
    """The configuration as it was at ``base`` (None when it did not load there)."""
    listing = _git(root, "ls-tree", "--name-only", "-z", base, "--", "environments/")
    names = [PurePosixPath(p).name for p in listing.split("\0") if p.endswith((".yaml", ".yml"))]
    env_dir = into / "environments"
    env_dir.mkdir(parents=True)
    for name in names:
        (env_dir / name).write_text(_git(root, "show", f"{base}:./environments/{name}"))
    try:
        return load_config(into)
    except (ConfigError, UsageError):
        return None


# ---------------------------------------------------------------------------
# What each workspace reads
# ---------------------------------------------------------------------------
def module_uses(root: Path) -> dict[str, set[str]]:
    """stack -> every module it uses, directly or through other modules."""

    def calls(folder: Path) -> set[str]:
        found = set()
        for tf in folder.glob("*.tf"):
            for source in _SOURCE_RE.findall(tf.read_text()):
                found.add(PurePosixPath(source).name)
        return found

    def folders(parent: Path) -> list[Path]:
        return sorted(p for p in parent.iterdir() if p.is_dir()) if parent.is_dir() else []

    direct = {m.name: calls(m) for m in folders(root / "modules")}
    result: dict[str, set[str]] = {}
    for stack_dir in folders(root / "environments" / "stacks"):
        seen: set[str] = set()
        todo = list(calls(stack_dir))
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo.extend(direct.get(module, ()))
        result[stack_dir.name] = seen
    return result


def _ignored(path: PurePosixPath) -> bool:
    """Files of a module, stack or function that are not inputs of a plan."""
    return path.suffix == ".md" or "tests" in path.parts


def _file_reasons(
    files: Iterable[str], uses: Mapping[str, set[str]]
) -> tuple[dict[str, list[str]], list[str]]:
    """stack -> reasons from changed files; and reasons that select every workspace."""
    by_stack: dict[str, list[str]] = {stack: [] for stack in uses}
    everything: list[str] = []
    for name in files:
        path = PurePosixPath(name)
        parts = path.parts
        if name in STACK_CODE:
            everything.append(f"the deployer's stack code changed ({name})")
        elif parts[:2] == ("environments", "stacks") and len(parts) > 3:
            if not _ignored(PurePosixPath(*parts[3:])) and parts[2] in by_stack:
                by_stack[parts[2]].append(f"stack {parts[2]} changed ({name})")
        elif parts[0] == "modules" and len(parts) > 2:
            if not _ignored(PurePosixPath(*parts[2:])):
                for stack, used in uses.items():
                    if parts[1] in used:
                        by_stack[stack].append(f"module {parts[1]} changed ({name})")
        else:
            for folder, stack in PACKAGED_FUNCTIONS.items():
                inner = path.relative_to(folder) if path.is_relative_to(folder) else None
                if inner is not None and not _ignored(inner) and stack in by_stack:
                    by_stack[stack].append(f"{folder} changed ({name})")
    return by_stack, everything


def _inputs(config: Config, sel: Selected, target: Target) -> dict[str, Any]:
    from deployer import tfvars

    env = config.environments[sel.environment]
    ws = workspaces.Workspace(sel.stack, sel.environment, sel.region)
    variables = tfvars.variables_for(config, env, sel.region, target, package=False)
    return {
        "variables": {k: v for k, v in variables.items() if k not in UNCOMPARED_VARIABLES},
        "backend": workspaces.backend_settings(config, target, ws),
    }


def differing_keys(old: Any, new: Any, path: str = "") -> list[str]:
    """Dotted paths where two JSON values differ (maps are walked, lists compared whole)."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in old or key not in new:
                keys.append(sub)
            else:
                keys.extend(differing_keys(old[key], new[key], sub))
        return keys
    return [] if old == new else [path or "(value)"]


def _describe(keys: list[str]) -> str:
    named = ", ".join(keys[:MAX_KEYS_NAMED])
    more = len(keys) - MAX_KEYS_NAMED
    return named + (f" and {more} more" if more > 0 else "")


# ---------------------------------------------------------------------------
# The selection
# ---------------------------------------------------------------------------
@dataclass
class Selection:
    base_ref: str
    base: str
    files: list[str]
    selected: list[Selected] = field(default_factory=list)


def select(config: Config, base_ref: str) -> Selection:
    """The workspaces whose inputs differ between ``base_ref`` and the working tree."""
    root = config.root
    base = resolve_base(root, base_ref)
    files = changed_files(root, base)
    by_stack, everything = _file_reasons(files, module_uses(root))
    config_changed = any(
        PurePosixPath(f).parent == PurePosixPath("environments") and f.endswith((".yaml", ".yml"))
        for f in files
    )
    target = Target(AWS)
    old_config: Config | None = None
    old_loaded = True
    if config_changed:
        with tempfile.TemporaryDirectory(prefix="deployer-base-") as tmp:
            old_config = _config_at(root, base, Path(tmp))
        old_loaded = old_config is not None

    selection = Selection(base_ref, base, files)
    for sel in every_workspace(config):
        reasons = list(everything) + by_stack.get(sel.stack, [])
        if config_changed:
            if not old_loaded:
                reasons.append(f"the configuration at {base_ref} does not load")
            else:
                assert old_config is not None
                reasons.extend(_config_reasons(old_config, config, sel, target))
        if reasons:
            selection.selected.append(
                Selected(sel.environment, sel.region, sel.stack, tuple(reasons))
            )
    return selection


def _config_reasons(old: Config, new: Config, sel: Selected, target: Target) -> list[str]:
    env = old.environments.get(sel.environment)
    if env is None:
        return [f"environment {sel.environment} is new"]
    if env.stack != sel.stack:
        return [f"environment {sel.environment} moved from stack {env.stack} to {sel.stack}"]
    if sel.region not in {r.name for r in env.regions}:
        return [f"region {sel.region} is new in {sel.environment}"]
    try:
        before = _inputs(old, sel, target)
    except ConfigError as exc:
        return [f"its variables could not be built at the base ({exc.message.splitlines()[0]})"]
    after = _inputs(new, sel, target)
    reasons = []
    for part in ("variables", "backend"):
        keys = differing_keys(before[part], after[part])
        if keys:
            reasons.append(f"{part} changed: {_describe(keys)}")
    return reasons
