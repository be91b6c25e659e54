"""Helpers to drive a stack workspace with tftest, exactly as the deployer configures it."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import tftest

from deployer import state
from deployer.aws import ClientFactory, Target
from deployer.config import Config, Environment
from deployer.config import load as load_config
from deployer.names import SHARED_NAMESPACE
from deployer.output import Reporter
from deployer.project import Project
from deployer.tfvars import variables_for
from deployer.workspaces import Workspace, backend_settings, render_backend_file

ROOT = Path(__file__).resolve().parents[2]


def config() -> Config:
    return load_config(ROOT)


def with_services(cfg: Config, *services: str) -> Config:
    """``cfg`` with only ``services`` among its microservices, each environment's parameters
    and secrets of the others dropped (tests/e2e/conftest.py's project_with, in memory):
    each microservice adds about 25 resources to a runtime apply."""
    kept = tuple(m for m in cfg.microservices if m.name in services)
    assert [m.name for m in kept] == list(services), kept
    wanted = {*services, SHARED_NAMESPACE}
    environments = {
        name: replace(
            env,
            parameters={k: v for k, v in env.parameters.items() if k in wanted},
            secrets={k: v for k, v in env.secrets.items() if k in wanted},
        )
        for name, env in cfg.environments.items()
    }
    return replace(cfg, microservices=kept, environments=environments)


@dataclass
class StackRun:
    """One stack workspace under tftest: init (S3 backend in the emulator), apply, plan."""

    tf: tftest.TerraformTest
    workspace: Workspace
    var_file: Path
    env: Environment
    clients: ClientFactory

    def client(self, service: str, region: str | None = None) -> Any:
        return self.clients.client(
            service,
            region or self.workspace.region,
            account_id=self.env.account_id,
            role_name=self.env.deploy_role_name,
        )

    def apply(self) -> dict[str, Any]:
        self.tf.apply(tf_var_file=str(self.var_file))
        outputs = self.tf.output()
        return {k: outputs[k] for k in outputs}

    def plan(self) -> dict[str, Any]:
        """A fresh plan as JSON (``terraform show -json``), prior state included."""
        plan = self.tf.plan(output=True, tf_var_file=str(self.var_file))
        return dict(plan._raw)

    @staticmethod
    def changes(plan: dict[str, Any]) -> list[tuple[str, list[str]]]:
        return [
            (rc["address"], rc["change"]["actions"])
            for rc in plan.get("resource_changes", [])
            if rc["change"]["actions"] not in (["no-op"], ["read"])
        ]

    def plan_changes(self) -> list[tuple[str, list[str]]]:
        return self.changes(self.plan())

    def destroy(self) -> None:
        self.tf.destroy(tf_var_file=str(self.var_file))


def stack_run(
    cfg: Config,
    env_name: str,
    region: str,
    *,
    target: Target,
    tf_env: dict[str, str],
    terraform_binary: str,
    work_dir: Path,
) -> StackRun:
    env = cfg.environment(env_name)
    workspace = Workspace(env.stack, env.name, region)
    clients = ClientFactory(target)
    state.ensure_bucket(cfg, clients, target, Reporter(verbosity=-1).progress)
    work_dir.mkdir(parents=True, exist_ok=True)
    backend_file = work_dir / "backend.tfbackend"
    backend_file.write_text(render_backend_file(backend_settings(cfg, target, workspace)))
    var_file = work_dir / "terraform.tfvars.json"
    var_file.write_text(json.dumps(variables_for(cfg, env, region, target), indent=2))
    run_env = {**tf_env, "TF_DATA_DIR": str(work_dir / ".terraform")}
    tf = tftest.TerraformTest(
        str(ROOT / "environments" / "stacks" / env.stack), binary=terraform_binary, env=run_env
    )
    # cleanup_on_exit=False: tftest's cleanup would delete the committed lock file.
    tf.setup(init_vars=str(backend_file), cleanup_on_exit=False, workspace_name=workspace.name)
    return StackRun(tf, workspace, var_file, env, clients)


def project_for(state_dir: Path) -> Project:
    return Project(ROOT, state_dir)


__all__ = ["StackRun", "boto3", "config", "project_for", "stack_run"]
