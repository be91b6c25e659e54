"""The stack commands: validate, plan, apply, destroy, output, unlock, history."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deployer import errors, summary
from deployer.cli import build_image as build_image_cli
from deployer.cli import images as images_cli
from deployer.cli.common import (
    Commands,
    Context,
    auto_approve_arg,
    environment_args,
    finish,
    outputs_text,
    read_only_arg,
    runs_document,
    runs_table,
    secrets_arg,
    selection_args,
    state_replica_arg,
)
from deployer.config import Environment
from deployer.orchestrator import (
    Orchestrator,
    RegionRun,
    RunStatus,
    format_summary,
    write_workspace_files,
)
from deployer.output import table
from deployer.run_ids import run_id
from deployer.scope import Scope
from deployer.state import RunRecord, operator

if TYPE_CHECKING:
    # Imported where used (apply, drift): a plan needs neither.
    from deployer import params


def register(commands: Commands) -> None:
    p = commands.add(
        "validate",
        "Validate the configuration in environments/ (no Terraform or AWS call).",
        """\
        example:
          deployer validate          every environment
          deployer validate prod     one environment
        """,
        cmd_validate,
    )
    p.add_argument("environment", nargs="?", help="only this environment")

    p = commands.add(
        "plan",
        "Plan workspaces (environment x region) in parallel; saves the plans.",
        """\
        One environment, every workspace of the project (--all), or only those whose
        inputs changed since a git ref (--changed): a module the stack uses, the stack,
        the environment's variables or backend, the deploy guard's source, the
        deployer's stack code. --matrix prints the selection as JSON for a CI matrix
        without planning; --summary-md writes a short Markdown summary for a PR.

        example:
          deployer plan prod                       both regions of prod
          deployer plan prod --region us-west-2    only the DR region
          deployer plan staging --detailed-exitcode   exit 3 when there are changes
          deployer plan --all --summary-md plan.md    every workspace, one table
          deployer plan --changed origin/main --matrix   what a PR touches, as JSON
        """,
        cmd_plan,
    )
    selection_args(p, "plan")
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 3 when any workspace has changes (0: none; 4 when some failed)",
    )
    p.add_argument(
        "--matrix",
        action="store_true",
        help="print the selected workspaces as a JSON list (for a CI matrix) and plan nothing",
    )

    p = commands.add(
        "apply",
        "Plan, show the summary, check the gate, then apply exactly those plans.",
        """\
        In a protected environment (`protected` in its YAML; by default the delivery
        environment and the pipeline's staging and production environments) a plan
        that deletes or replaces stateful resources (buckets, ECR repositories, KMS
        keys, log groups) is refused unless each is named with --allow-destroy.
        Asks first when the environment's `approval` is required (by default: the
        pipeline's production environment, and every environment on AWS).

        example:
          deployer apply staging
          deployer apply prod --auto-approve
        """,
        cmd_apply,
    )
    environment_args(p)
    auto_approve_arg(p, "do not ask for confirmation (needed without a terminal when asked)")
    _allow_destroy_arg(p, "allow deleting/replacing this stateful resource address (repeatable)")
    secrets_arg(p)
    state_replica_arg(p)

    p = commands.add(
        "destroy",
        "Destroy an environment's stack in each of its regions.",
        """\
        Always asks first (unless --auto-approve); in a protected environment the
        stateful resources must each be named with --allow-destroy.

        example:
          deployer destroy dev --auto-approve
        """,
        cmd_destroy,
    )
    environment_args(p)
    auto_approve_arg(p, "do not ask for confirmation")
    _allow_destroy_arg(
        p, "allow destroying this stateful resource in a protected environment (repeatable)"
    )
    state_replica_arg(p)

    p = commands.add(
        "drift",
        "Find what changed behind Terraform's back: a refresh-only plan per workspace.",
        """\
        Names each drifted resource and attribute (sensitive values masked). What
        the stacks deliberately leave to CodeDeploy (`ignore_changes`: the ECS
        service's task definition and load balancer, the listeners' default
        actions) is listed apart and is not drift. Changes nothing.
        Exit codes: 0 no drift, 3 drift, 4 some workspaces failed.

        example:
          deployer drift prod
          deployer drift --all --summary-md drift.md --json
        """,
        cmd_drift,
    )
    selection_args(p, "check", changed=False)

    p = commands.add(
        "tf-config",
        "Write a workspace's backend and variables files, for plain Terraform (in CI).",
        """\
        Writes DIR/backend.tfbackend, DIR/terraform.tfvars.json and DIR/env.sh (the
        workspace, the CLI configuration with the provider mirror, a data directory
        outside the source tree and, on the local emulator, its endpoint and test
        credentials), then prints the commands that plan exactly what
        `deployer plan` plans. Holds no secret: secrets are never Terraform inputs.

        example:
          deployer tf-config staging --region us-east-1 --dir /tmp/tf
          . /tmp/tf/env.sh
          cd environments/stacks/runtime
          terraform init -backend-config=/tmp/tf/backend.tfbackend
          terraform plan -var-file=/tmp/tf/terraform.tfvars.json
        """,
        cmd_tf_config,
    )
    p.add_argument("environment", help="environment name")
    p.add_argument("--region", required=True, help="the workspace's region")
    read_only_arg(p)
    p.add_argument(
        "--dir",
        type=Path,
        help="where to write (default: <state dir>/tf-config/<stack>/<workspace>)",
    )

    p = commands.add(
        "output",
        "Show the stack outputs of an environment (per region).",
        """\
        On the local target, service_endpoints are the loopback URLs the emulator
        serves each production listener on (load_balancer_dns_names stay AWS's names).

        example:
          deployer output staging
          deployer output prod --json
        """,
        cmd_output,
    )
    environment_args(p)

    p = commands.add(
        "unlock",
        "Release a stale Terraform state lock of a workspace, after showing its holder.",
        """\
        Use when a run died and left its lock behind (a concurrent apply reports the
        holder and points here). Asks before releasing unless --auto-approve.

        example:
          deployer unlock staging --region us-east-1
        """,
        cmd_unlock,
    )
    environment_args(p)
    auto_approve_arg(p, "release without asking")

    p = commands.add(
        "history",
        "Show the last runs (run ID, command, result) of an environment's workspaces.",
        """\
        Runs are recorded in the delivery account, in the SSM parameter
        /deployer/runs/<stack>/<env>-<region>.

        example:
          deployer history prod --json
        """,
        cmd_history,
    )
    environment_args(p, parallel=False)


def _allow_destroy_arg(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument(
        "--allow-destroy", action="append", default=[], metavar="ADDRESS", help=help
    )


# ---------------------------------------------------------------------------
def cmd_validate(ctx: Context) -> int:
    config = ctx.config
    names = [ctx.args.environment] if ctx.args.environment else sorted(config.environments)
    envs = [config.environment(n) for n in names]
    rows = [
        (
            e.name,
            e.stack,
            e.account_id,
            ", ".join(r.name for r in e.regions),
            "yes" if e.protected else "no",
            e.approval or "on AWS",
        )
        for e in envs
    ]
    ctx.reporter.result(
        {
            "valid": True,
            "environments": [
                {
                    "name": e.name,
                    "stack": e.stack,
                    "account_id": e.account_id,
                    "regions": [r.name for r in e.regions],
                    "protected": e.protected,
                    "approval": e.approval,
                }
                for e in envs
            ],
        },
        "configuration is valid\n\n"
        + table(("environment", "stack", "account", "regions", "protected", "approval"), rows),
    )
    return errors.EXIT_OK


def cmd_plan(ctx: Context) -> int:
    selection = ctx.selection()
    if ctx.args.matrix:
        matrix = [s.to_json() for s in selection.workspaces]
        ctx.reporter.result(matrix, json.dumps(matrix, separators=(",", ":")))
        return errors.EXIT_OK
    title = f"deployer plan: {selection.label}"
    if not selection.workspaces:
        ctx.reporter.progress(f"nothing to plan ({selection.label}: no workspace selected)")
        _write_summary(ctx, lambda: summary.plan_markdown([], title=title))
        ctx.reporter.result({"selection": selection.label, "regions": []}, "nothing to plan")
        return errors.EXIT_OK
    for selected in selection.workspaces:
        if selected.reasons:
            ctx.reporter.progress(
                "selected: " + "; ".join(selected.reasons), scope=selected.workspace
            )
    scopes = [ctx.scope_of(s) for s in selection.workspaces]
    runs = ctx.orchestrator().plan(scopes)
    _write_summary(
        ctx,
        lambda: summary.plan_markdown(
            runs, title=title, reasons=selection.reasons, note=f"Target: {ctx.target_kind}."
        ),
    )
    # "regions", one entry per workspace, as `apply --json` gives them (the key
    # predates --all; each entry names its environment).
    document: dict[str, Any] = {"selection": selection.label, "target": ctx.target_kind}
    if ctx.args.environment:
        env = ctx.environment()
        document.update(environment=env.name, stack=env.stack)
    document["regions"] = [
        {
            "environment": r.scope.env.name,
            **r.to_json(),
            "reasons": list(selection.reasons.get(r.workspace.name, ())),
            "gate": summary.gate_verdict(r)[0],
        }
        for r in runs
    ]
    ctx.reporter.result(document, runs_table(runs))
    code = finish(runs)
    if code == errors.EXIT_OK and ctx.args.detailed_exitcode and any(r.has_changes for r in runs):
        return errors.EXIT_CHANGES
    return code


def cmd_apply(ctx: Context) -> int:
    return _converge(ctx, destroy=False)


def cmd_destroy(ctx: Context) -> int:
    return _converge(ctx, destroy=True)


def _converge(ctx: Context, *, destroy: bool) -> int:
    """apply and destroy: plan, gate, confirm, apply; record; seed after an apply."""
    env = ctx.environment()
    scopes = ctx.scopes(env)
    command = "destroy" if destroy else "apply"
    rid = run_id(ctx.project.root)
    ctx.reporter.progress(f"run {rid}: {command} {env.name} on {ctx.target.describe()}")
    orch = ctx.orchestrator(rid)
    # The state check runs while the delivery stack and the bootstrap images are seen to.
    orch.start_state()
    first = [] if destroy else _delivery_first(ctx, env, orch, rid, scopes)
    if first and any(r.status not in (RunStatus.APPLIED, RunStatus.NO_CHANGES) for r in first):
        document = runs_document(ctx, ctx.config.delivery, first, run_id=rid)
        ctx.reporter.result(document, _apply_text(rid, first))
        return finish(first)
    # Local target: the images the task definitions name go to ECR first, so that the
    # services' first tasks find them.
    bootstrapped = None if destroy else images_cli.before_apply(ctx, env)
    runs = orch.converge(
        scopes, destroy=destroy, allow_destroy=ctx.args.allow_destroy, confirm=ctx.confirm
    )
    _record_runs(ctx, orch, rid, command, runs)
    if destroy:
        ctx.reporter.result(runs_document(ctx, env, runs, run_id=rid), runs_table(runs))
        return finish(runs)
    seeded = _seed_after_apply(ctx, runs)
    _localise_endpoints(ctx, runs)
    document = runs_document(ctx, env, runs, run_id=rid)
    document["parameters"] = [r.to_json() for r in seeded]
    text = _apply_text(rid, runs) + _seed_text(seeded)
    if first:
        document["delivery_first"] = runs_document(ctx, ctx.config.delivery, first, run_id=rid)
        text = f"{ctx.config.delivery.name} (applied first):\n{runs_table(first)}\n\n{text}"
        # What an apply of the delivery environment says: whether the build image is there.
        presence = build_image_cli.after_apply(ctx, ctx.config.delivery)
        if presence is not None:
            document["delivery_first"]["build_image"] = presence
    if bootstrapped is not None:
        document["images"], images_text = bootstrapped
        text += images_text
    if all(r.status in (RunStatus.APPLIED, RunStatus.NO_CHANGES) for r in runs):
        # The delivery stack's build projects name the custom build image: say when it is
        # not in ECR yet (a warning; `deployer build-image --push` puts it there).
        presence = build_image_cli.after_apply(ctx, env)
        if presence is not None:
            document["build_image"] = presence
    ctx.reporter.result(document, text)
    return finish(runs)


def _delivery_first(
    ctx: Context, env: Environment, orch: Orchestrator, rid: str, scopes: list[Scope]
) -> list[RegionRun]:
    """On the local target, apply the delivery stack before a runtime environment whose
    images' repositories (the delivery stack's) do not exist yet, so that the apply ends
    with bootstrap images the services can start from. On AWS the order is the user's.
    When the environment's own apply needs an approval that cannot be asked for (no
    terminal, no --auto-approve), it refuses before the delivery stack is touched."""
    missing = images_cli.delivery_first(ctx, env)
    if not missing:
        return []
    if scopes and scopes[0].approval_required and not sys.stdin.isatty():
        # The environment's resources need its repositories: its plan will have changes.
        ctx.confirm(f"Apply to {env.name}?", f"applying to {env.name} needs approval")
    delivery = ctx.config.delivery
    ctx.reporter.progress(
        f"{delivery.name} is not applied on the local target ({', '.join(missing)} missing: "
        f"the images {env.name}'s services start from go there): applying it first"
    )
    scopes = Scope.resolve(ctx.config, delivery, None, ctx.target, ctx.clients)
    runs = orch.converge(scopes, destroy=False, allow_destroy=None, confirm=ctx.confirm)
    _record_runs(ctx, orch, rid, "apply", runs)
    return runs


def _record_runs(
    ctx: Context, orch: Orchestrator, rid: str, command: str, runs: list[RegionRun]
) -> None:
    finished = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for run in runs:
        if run.status is RunStatus.PENDING:
            continue
        entry = RunRecord(
            run_id=rid,
            command=command,
            status=str(run.status),
            changes=run.summary,
            by=operator(),
            finished_at=finished,
        )
        try:
            run.scope.state.record(entry)
        except errors.DeployerError as exc:
            ctx.reporter.warn(f"could not record run {rid} for {run.workspace.name}: {exc.message}")


def _seed_after_apply(ctx: Context, runs: list[RegionRun]) -> list[params.SeedReport]:
    from deployer import params

    done = [r for r in runs if r.status in (RunStatus.APPLIED, RunStatus.NO_CHANGES)]
    if not done or done[0].scope.env.stack != "runtime":
        return []
    env = done[0].scope.env
    if not (env.parameters or env.secrets):
        return []
    secrets = params.SecretValues.load(getattr(ctx.args, "secrets_file", None))
    reports = []
    for run in done:
        report = params.seed(run.scope, secrets, strict=False)
        reports.append(report)
        if report.missing:
            ctx.reporter.warn(
                f"{run.workspace.name}: no value for {len(report.missing)} secret(s); "
                f"run `deployer seed {env.name}` with them set"
            )
    return reports


def _seed_text(reports: list[params.SeedReport]) -> str:
    from deployer import params

    return "\n\nparameters:\n" + params.seed_table(reports) if reports else ""


def _localise_endpoints(ctx: Context, runs: list[RegionRun]) -> None:
    """On the local target, each run's ``service_endpoints`` as the loopback URLs the
    emulator serves the listeners on (``deployer.endpoints``); AWS's URLs elsewhere."""
    from deployer import endpoints

    if not ctx.target.is_local or not any(endpoints.OUTPUT in r.outputs for r in runs):
        return
    listeners = endpoints.served_listeners(ctx.target)
    for run in runs:
        run.outputs, rewritten = endpoints.localise(run.outputs, listeners)
        missing = sorted(
            set(run.outputs.get(endpoints.OUTPUT, {}).get("value") or {}) - set(rewritten)
        )
        if missing:
            ctx.reporter.progress(
                f"no local listener serves {', '.join(missing)} (is the emulator's runtime on? "
                "`deployer emulator status`): AWS's URL shown",
                scope=run.workspace.name,
            )


def _apply_text(rid: str, runs: list[RegionRun]) -> str:
    text = f"run {rid}\n\n" + runs_table(runs)
    for run in runs:
        if run.outputs:
            text += f"\n\noutputs of {run.workspace.name}:\n" + outputs_text(run.outputs)
    return text


def _write_summary(ctx: Context, markdown: Callable[[], str]) -> None:
    """--summary-md FILE, when asked for (the Markdown is made only then)."""
    if ctx.args.summary_md:
        summary.write(ctx.args.summary_md, markdown())
        ctx.reporter.progress(f"summary written to {ctx.args.summary_md}")


def cmd_drift(ctx: Context) -> int:
    from deployer import drift as drift_report

    selection = ctx.selection()
    scopes = [ctx.scope_of(s) for s in selection.workspaces]
    runs = ctx.orchestrator().drift(scopes)
    _write_summary(
        ctx,
        lambda: summary.drift_markdown(
            runs, title=f"deployer drift: {selection.label}", note=f"Target: {ctx.target_kind}."
        ),
    )
    document = {
        "selection": selection.label,
        "target": ctx.target_kind,
        "workspaces": [
            {
                "workspace": r.workspace.name,
                "environment": r.scope.env.name,
                "region": r.region,
                "status": str(r.status),
                "drifted": [d.to_json() for d in drift_report.drifted(r.drift)],
                "left_to_codedeploy": [d.to_json() for d in r.drift if d.left_alone],
                "error": str(r.error) if r.error else None,
            }
            for r in runs
        ],
    }
    rows = []
    for run in runs:
        found = drift_report.drifted(run.drift)
        if not found:
            rows.append((run.workspace.name, str(run.status), "", ""))
        for resource in found:
            what = ", ".join(a.path for a in resource.attributes) or resource.action
            rows.append((run.workspace.name, str(run.status), resource.address, what))
    ctx.reporter.result(document, table(("workspace", "status", "resource", "drifted"), rows))
    code = finish(runs)
    if code == errors.EXIT_OK and any(r.status is RunStatus.DRIFTED for r in runs):
        return errors.EXIT_CHANGES
    return code


#: Target variables env.sh carries for the local emulator (test credentials, endpoint).
_ENV_SH_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
                "AWS_ENDPOINT_URL", "AWS_EC2_METADATA_DISABLED")  # fmt: skip


def cmd_tf_config(ctx: Context) -> int:
    env = ctx.environment()
    (scope,) = Scope.resolve(ctx.config, env, [ctx.args.region], ctx.target, ctx.clients)
    ws = scope.workspace
    directory = (ctx.args.dir or ctx.project.state_dir / "tf-config" / ws.stack / ws.name).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    backend_file, var_file = write_workspace_files(scope, directory)
    toolchain = ctx.toolchain
    exports = {
        "TF_WORKSPACE": ws.name,
        "TF_DATA_DIR": str(directory / ".terraform"),
        **toolchain.environ(),
    }
    if scope.target.is_local:
        target_env = scope.target.environ({})
        exports.update({k: target_env[k] for k in _ENV_SH_KEYS if k in target_env})
    env_sh = directory / "env.sh"
    env_sh.write_text(
        "# Written by `deployer tf-config`: source it before running terraform.\n"
        + "".join(f"export {k}={shlex.quote(v)}\n" for k, v in exports.items())
    )
    stack = os.path.relpath(ctx.project.stack_dir(ws.stack), Path.cwd())
    commands = [
        f". {shlex.quote(str(env_sh))}",
        f"terraform -chdir={stack} init -backend-config={shlex.quote(str(backend_file))}",
        f"terraform -chdir={stack} plan -var-file={shlex.quote(str(var_file))}",
    ]
    document = {
        "workspace": ws.name,
        "stack": ws.stack,
        "backend_file": str(backend_file),
        "var_file": str(var_file),
        "env_file": str(env_sh),
        "commands": commands,
    }
    ctx.reporter.result(
        document, f"wrote {backend_file}, {var_file} and {env_sh}; then:\n\n" + "\n".join(commands)
    )
    return errors.EXIT_OK


def cmd_output(ctx: Context) -> int:
    env = ctx.environment()
    scopes = ctx.scopes(env)
    runs = ctx.orchestrator().outputs(scopes)
    ok = [r for r in runs if not r.failed]
    _localise_endpoints(ctx, ok)
    document = {
        "environment": env.name,
        "regions": {r.region: {k: v.get("value") for k, v in r.outputs.items()} for r in ok},
    }
    text = "\n\n".join(
        f"{r.workspace.name}:\n" + (outputs_text(r.outputs) if r.outputs else "  (no outputs)")
        for r in ok
    )
    ctx.reporter.result(document, text)
    return finish(runs)


def cmd_unlock(ctx: Context) -> int:
    env = ctx.environment()
    scopes = ctx.scopes(env)
    orch = ctx.orchestrator()
    results: list[dict[str, Any]] = []
    for scope in scopes:
        name = scope.workspace.name
        lock = scope.state.current_lock()
        if lock is None:
            ctx.reporter.progress("not locked", scope=name)
            results.append({"workspace": name, "locked": False, "released": False})
            continue
        lock_id = lock.get("ID", "")
        holder = errors.lock_holder(lock)
        ctx.reporter.progress(f"locked by {holder}, lock ID {lock_id}", scope=name)
        ctx.confirm(
            f"Release the lock of {name} held by {holder}? Make sure that run is dead.",
            "releasing a lock needs approval",
            hint="re-run with --auto-approve once you are sure the run holding it is dead",
        )
        orch.terraform_for(scope).force_unlock(lock_id)
        ctx.reporter.progress("lock released", scope=name)
        results.append({"workspace": name, "locked": True, "released": True, "lock": lock})
    text = table(
        ("workspace", "was locked", "released"),
        [
            (r["workspace"], "yes" if r["locked"] else "no", "yes" if r["released"] else "-")
            for r in results
        ],
    )
    ctx.reporter.result({"environment": env.name, "workspaces": results}, text)
    return errors.EXIT_OK


def cmd_history(ctx: Context) -> int:
    env = ctx.environment()
    document: dict[str, Any] = {"environment": env.name, "workspaces": {}}
    rows = []
    for scope in ctx.scopes(env):
        workspace = scope.workspace.name
        records = scope.state.history()
        document["workspaces"][workspace] = [asdict(r) for r in records]
        rows += [
            (
                workspace,
                r.run_id,
                r.command,
                r.status,
                format_summary(r.changes),
                r.by,
                r.finished_at,
            )
            for r in records
        ]
    text = table(("workspace", "run", "command", "status", "changes", "by", "finished"), rows)
    ctx.reporter.result(document, text if rows else "no runs recorded")
    return errors.EXIT_OK
