"""Run history: the last runs of each workspace, where an operator finds them.

Each apply or destroy has a run ID (``YYYYMMDDTHHMMSSZ-<short commit or
'local'>``). The deployer records it, with what happened, in an SSM parameter
per workspace in the delivery account (next to the Terraform state):
``/deployer/runs/<stack>/<workspace>``, a JSON list of the most recent runs.
Not as a tag on resources: that would make every apply change everything.
"""

from __future__ import annotations

import getpass
import json
import socket
from dataclasses import asdict, dataclass
from typing import Any

import botocore.exceptions

from deployer.aws import ClientFactory, translate
from deployer.config import Config

KEEP = 10
PREFIX = "/deployer/runs"


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    command: str
    status: str
    changes: dict[str, int]
    by: str
    finished_at: str


def parameter_name(stack: str, workspace: str) -> str:
    return f"{PREFIX}/{stack}/{workspace}"


def operator() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _ssm(config: Config, clients: ClientFactory) -> Any:
    delivery = config.delivery
    return clients.client(
        "ssm",
        config.state.region,
        account_id=delivery.account_id,
        role_name=delivery.deploy_role_name,
    )


def history(config: Config, clients: ClientFactory, stack: str, workspace: str) -> list[RunRecord]:
    try:
        raw = _ssm(config, clients).get_parameter(Name=parameter_name(stack, workspace))
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return []
        raise translate(exc, f"read run history of {workspace}") from None
    try:
        items = json.loads(raw["Parameter"]["Value"])
    except (ValueError, KeyError):
        return []
    records = []
    for item in items if isinstance(items, list) else []:
        try:
            records.append(RunRecord(**item))
        except TypeError:
            continue
    return records


def record(
    config: Config, clients: ClientFactory, stack: str, workspace: str, run: RunRecord
) -> list[RunRecord]:
    """Prepend ``run`` to the workspace's history (keeping the last KEEP runs)."""
    runs = [run] + [r for r in history(config, clients, stack, workspace) if r.run_id != run.run_id]
    runs = runs[:KEEP]
    value = json.dumps([asdict(r) for r in runs], separators=(",", ":"))
    try:
        _ssm(config, clients).put_parameter(
            Name=parameter_name(stack, workspace),
            Value=value,
            Type="String",
            Overwrite=True,
            Description=f"Last {KEEP} deployer runs of {stack} workspace {workspace}",
        )
    except botocore.exceptions.ClientError as exc:
        raise translate(exc, f"record run {run.run_id}") from None
    return runs
