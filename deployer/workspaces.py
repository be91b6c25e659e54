"""Workspaces: one Terraform workspace per environment and region.

A workspace ``<env>-<region>`` of a stack has its own data directory under
``.deployer/terraform/<stack>/<workspace>/`` holding the backend settings, the
variable file, the plan file and Terraform's own ``.terraform`` content (which
only links into the shared provider cache). Selecting the workspace writes to
that directory only, so regions run in parallel without touching shared files.

State lives in the delivery account's state bucket at
``workspaces/<workspace>/<stack>.tfstate`` with an S3 lock file next to it; while the
state region does not answer, at the same key in its replica
(``deployer.state_replica``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deployer import identity
from deployer.aws import Target, role_arn
from deployer.config import Config
from deployer.project import Project

if TYPE_CHECKING:
    from deployer.state_replica import Replica

WORKSPACE_KEY_PREFIX = "workspaces"


@dataclass(frozen=True)
class Workspace:
    stack: str
    environment: str
    region: str

    @property
    def name(self) -> str:
        return workspace_name(self.environment, self.region)

    def data_dir(self, project: Project) -> Path:
        return project.terraform_dir / self.stack / self.name

    def state_key(self) -> str:
        return f"{WORKSPACE_KEY_PREFIX}/{self.name}/{self.stack}.tfstate"

    def lock_key(self) -> str:
        return self.state_key() + ".tflock"


def workspace_name(environment: str, region: str) -> str:
    return f"{environment}-{region}"


def backend_settings(
    config: Config, target: Target, workspace: Workspace, replica: Replica | None = None
) -> dict[str, Any]:
    """S3 backend settings: state in the delivery account, native S3 locking; with
    ``replica``, the same key and lock file in the state bucket's replica."""
    delivery = config.delivery
    settings: dict[str, Any] = {
        "bucket": replica.bucket if replica else config.state.bucket,
        "key": f"{workspace.stack}.tfstate",
        "workspace_key_prefix": WORKSPACE_KEY_PREFIX,
        "region": replica.region if replica else config.state.region,
        "encrypt": True,
        "use_lockfile": True,
    }
    arn = role_arn(delivery.account_id, identity.state_role_name(config, target))
    if arn:
        settings["assume_role"] = {"role_arn": arn, "session_name": "deployer-state"}
    settings.update(target.backend_settings())
    return settings


def render_backend_file(settings: dict[str, Any]) -> str:
    """A ``.tfbackend`` file (HCL attribute syntax; JSON literals are valid HCL)."""
    lines = []
    for key, value in settings.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
            lines.append(f"{key} = {{ {inner} }}")
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def write_if_changed(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text() == content:
        return
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(content)
    tmp.replace(path)
