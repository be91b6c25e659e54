"""Command line: arguments and dispatch. The only place errors become exit codes.

Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 plan has
changes (with --detailed-exitcode), 4 some regions failed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import textwrap
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deployer import errors
from deployer.aws import LOCAL, TARGETS, ClientFactory, Target, translate
from deployer.config import Config, Environment
from deployer.config import load as load_config
from deployer.emulator import Emulator
from deployer.errors import DeployerError, UsageError
from deployer.naming import run_id
from deployer.orchestrator import Orchestrator, RegionRun, format_summary
from deployer.output import Reporter, table
from deployer.project import Project, load_project
from deployer.toolchain import Toolchain, prepare

PROG = "deployer"

DESCRIPTION = """\
Stand up and operate the delivery platform: Terraform stacks per environment and
region, on the local AWS emulator (default) or on AWS.
"""

EPILOG = """\
examples:
  deployer apply staging                  plan and apply staging on the local emulator
  deployer plan prod --detailed-exitcode  exit 3 when prod has pending changes
  deployer output staging --json          stack outputs as one JSON document
  deployer emulator status --json         is the local emulator running, and where

environment variables:
  DEPLOYER_TARGET           local (default) or aws
  DEPLOYER_PROVIDER_MIRROR  Terraform provider filesystem mirror directory
  DEPLOYER_TERRAFORM        Terraform binary (default: terraform on PATH)
  DEPLOYER_STATE_DIR        local state folder (default: <project>/.deployer)

exit codes: 0 ok, 1 failure, 2 usage or configuration error,
            3 plan has changes (--detailed-exitcode), 4 some regions failed
"""


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------
def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default: Any = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("global options")
    group.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="print the result as one JSON document on stdout (progress stays on stderr)",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS if suppress else 0,
        help="more progress detail on stderr (-vv: Terraform's own output too)",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="show tracebacks for errors",
    )
    group.add_argument(
        "--target",
        choices=TARGETS,
        default=default,
        help="where to deploy: the local emulator (default, or $DEPLOYER_TARGET) or AWS",
    )


def _env_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("environment", help="environment name (delivery, dev, staging, prod, ...)")
    parser.add_argument(
        "--region",
        action="append",
        dest="regions",
        metavar="R",
        help="only this region (repeatable; default: all the environment's regions)",
    )
    parser.add_argument(
        "--parallelism",
        type=int,
        metavar="N",
        help="regions run at once (default: terraform.parallelism or 2)",
    )


def _secrets_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--secrets-file",
        type=Path,
        metavar="FILE",
        help="YAML mapping service -> {SECRET_NAME: value} (wins over DEPLOYER_SECRET_* variables)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, summary: str, example: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=textwrap.dedent(example),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _global_options(p, suppress=True)
        return p

    p = command(
        "validate",
        "Validate the configuration in environments/ (no Terraform or AWS call).",
        """\
        example:
          deployer validate          every environment
          deployer validate prod     one environment
        """,
    )
    p.add_argument("environment", nargs="?", help="only this environment")

    p = command(
        "plan",
        "Plan an environment's stack in each of its regions (in parallel); saves the plans.",
        """\
        example:
          deployer plan prod                       both regions of prod
          deployer plan prod --region us-west-2    only the DR region
          deployer plan staging --detailed-exitcode   exit 3 when there are changes
        """,
    )
    _env_args(p)
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 3 when any region has changes (0: none)",
    )

    p = command(
        "apply",
        "Plan, show the summary, check the gate, then apply exactly those plans.",
        """\
        Refuses plans that delete or replace stateful resources (buckets, ECR
        repositories, KMS keys, log groups) in staging and prod unless each is
        named with --allow-destroy. Asks before applying to prod or to AWS.

        example:
          deployer apply staging
          deployer apply prod --auto-approve
        """,
    )
    _env_args(p)
    p.add_argument(
        "--auto-approve",
        action="store_true",
        help="do not ask for confirmation (required without a terminal for prod/AWS)",
    )
    p.add_argument(
        "--allow-destroy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="allow deleting/replacing this stateful resource address (repeatable)",
    )
    _secrets_arg(p)

    p = command(
        "destroy",
        "Destroy an environment's stack in each of its regions.",
        """\
        example:
          deployer destroy dev --auto-approve
        """,
    )
    _env_args(p)
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--allow-destroy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="allow destroying this stateful resource in staging/prod (repeatable)",
    )

    p = command(
        "output",
        "Show the stack outputs of an environment (per region).",
        """\
        example:
          deployer output staging
          deployer output prod --json
        """,
    )
    _env_args(p)

    p = command(
        "seed",
        "Write the environment's SSM parameters (/pipeline/{env}/{service}/) with boto3.",
        """\
        Plain values come from the environment's `parameters`; secrets (the names
        under `secrets`) from --secrets-file or from environment variables named
        DEPLOYER_SECRET_<SERVICE>_<NAME> (e.g. DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY),
        written as SecureString with the environment's parameters key. Idempotent;
        values are never printed. `apply` seeds after a successful apply.

        example:
          DEPLOYER_SECRET_AUTH_SERVICE_JWT_SIGNING_KEY=... deployer seed staging
          deployer seed prod --secrets-file prod-secrets.yaml --json
        """,
    )
    _env_args(p)
    _secrets_arg(p)

    p = command(
        "unlock",
        "Release a stale Terraform state lock of a workspace, after showing its holder.",
        """\
        Use when a run died and left its lock behind (a concurrent apply reports the
        holder and points here). Asks before releasing unless --auto-approve.

        example:
          deployer unlock staging --region us-east-1
        """,
    )
    _env_args(p)
    p.add_argument("--auto-approve", action="store_true", help="release without asking")

    p = command(
        "history",
        "Show the last runs (run ID, command, result) of an environment's workspaces.",
        """\
        Runs are recorded in the delivery account, in the SSM parameter
        /deployer/runs/<stack>/<env>-<region>.

        example:
          deployer history prod --json
        """,
    )
    _env_args(p)

    p = command(
        "drill",
        "Game days: prove a bad release is rolled back and people hear of it.",
        """\
        rollback: release a copy of the service's task definition as a CodeDeploy
        blue/green deployment, break it (green targets unhealthy, its alarm in
        ALARM), let the deploy guard decide, and verify production traffic is back
        on the original target group, the service on the previous task definition,
        and a notification published. Prints each step with its time and the time
        from the breach to traffic restored; leaves the environment as it was.

        On the local emulator the drill plays CodeDeploy's part and runs the deploy
        guard's real handler code. On AWS it needs --i-know: real CodeDeploy
        deploys, the drill puts the alarm in ALARM and waits for the rollback.

        --hook: where green is found broken: AfterAllowTraffic (default; after
        production traffic moved), AfterAllowTestTraffic (test traffic only), or
        alarm (both hooks pass, then the alarm fires and the guard stops the
        deployment).

        example:
          deployer drill rollback staging --service api-service
          deployer drill rollback staging --hook alarm --json
        """,
    )
    p.add_argument("drill", choices=("rollback",), help="the drill to run")
    p.add_argument("environment", help="a runtime environment (dev, staging, prod, ...)")
    p.add_argument("--service", metavar="S", help="microservice (default: the first configured)")
    p.add_argument(
        "--hook",
        choices=("AfterAllowTraffic", "AfterAllowTestTraffic", "alarm"),
        default="AfterAllowTraffic",
        help="where the broken release is caught (default: AfterAllowTraffic)",
    )
    p.add_argument("--region", metavar="R", help="region (default: the environment's primary)")
    p.add_argument(
        "--i-know",
        action="store_true",
        dest="i_know",
        help="allow the drill on AWS: it deploys a revision and sets an alarm to ALARM there",
    )

    p = command(
        "emulator",
        "Start, stop or inspect the local AWS emulator (moto server on loopback).",
        """\
        The emulator is started automatically by any command with a local target.
        State and resources live in its memory: stopping it forgets everything.

        example:
          deployer emulator status --json
          deployer emulator stop
        """,
    )
    p.add_argument("action", choices=("start", "stop", "status"))
    return parser


# ---------------------------------------------------------------------------
# Context: lazily built pieces shared by commands
# ---------------------------------------------------------------------------
@dataclass
class Context:
    args: argparse.Namespace
    reporter: Reporter
    _project: Project | None = None
    _config: Config | None = None
    _toolchain: Toolchain | None = None
    _target: Target | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def project(self) -> Project:
        if self._project is None:
            self._project = load_project()
        return self._project

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.project.root)
        return self._config

    @property
    def toolchain(self) -> Toolchain:
        if self._toolchain is None:
            tc = prepare(
                self.project.state_dir,
                self.project.root,
                configured_binary=self.config.terraform.binary,
                configured_mirror=self.config.terraform.provider_mirror,
                progress=self.reporter.progress,
            )
            self.reporter.detail(
                f"terraform {tc.version_string} at {tc.binary}; providers from "
                + (f"{tc.mirror} ({tc.mirror_source})" if tc.mirror else "the registry")
            )
            self._toolchain = tc
        return self._toolchain

    @property
    def target_kind(self) -> str:
        kind = getattr(self.args, "target", None) or os.environ.get("DEPLOYER_TARGET") or LOCAL
        if kind not in TARGETS:
            raise UsageError(f"DEPLOYER_TARGET={kind!r} is not one of {', '.join(TARGETS)}")
        return kind

    @property
    def target(self) -> Target:
        if self._target is None:
            if self.target_kind == LOCAL:
                emulator = Emulator(self.project.state_dir)
                status = emulator.status()
                if not status.running:
                    self.reporter.progress("starting the local AWS emulator")
                    status = emulator.start()
                    self.reporter.progress(f"emulator listening on {status.endpoint}")
                else:
                    self._warn_if_stale(status.patches)
                self._target = Target(LOCAL, status.endpoint)
            else:
                self._target = Target(self.target_kind)
        return self._target

    def _warn_if_stale(self, running: list[str]) -> None:
        from deployer.emulator.patches import discover

        missing = sorted({p.name for p in discover()} - set(running))
        if missing:
            self.reporter.warn(
                f"the running emulator lacks {len(missing)} fidelity patch(es) of this checkout "
                f"({', '.join(missing)}); restart it: deployer emulator stop "
                "(this forgets its resources)"
            )

    def orchestrator(self, run_id: str | None = None) -> Orchestrator:
        from deployer.state import ensure_state_bucket

        clients = ClientFactory(self.target)
        # Resolve the toolchain before touching AWS: a missing Terraform is a usage error.
        toolchain = self.toolchain
        ensure_state_bucket(self.config, clients, self.reporter)
        return Orchestrator(
            self.project,
            self.config,
            toolchain,
            self.target,
            clients,
            self.reporter,
            parallelism=getattr(self.args, "parallelism", None),
            run_id=run_id,
        )


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------
def cmd_validate(ctx: Context) -> int:
    config = ctx.config
    names = [ctx.args.environment] if ctx.args.environment else sorted(config.environments)
    envs = [config.environment(n) for n in names]
    rows = [(e.name, e.stack, e.account_id, ", ".join(r.name for r in e.regions)) for e in envs]
    ctx.reporter.result(
        {
            "valid": True,
            "environments": [
                {
                    "name": e.name,
                    "stack": e.stack,
                    "account_id": e.account_id,
                    "regions": [r.name for r in e.regions],
                }
                for e in envs
            ],
        },
        "configuration is valid\n\n" + table(("environment", "stack", "account", "regions"), rows),
    )
    return errors.EXIT_OK


def _runs_document(
    ctx: Context, env: Environment, runs: list[RegionRun], **extra: Any
) -> dict[str, Any]:
    return {
        "environment": env.name,
        "stack": env.stack,
        "target": ctx.target_kind,
        **extra,
        "regions": [r.to_json() for r in runs],
    }


def _runs_table(runs: list[RegionRun]) -> str:
    rows = [
        (
            r.workspace.name,
            r.status,
            format_summary(r.summary) if r.summary else "",
            _short(r.error.message.splitlines()[0]) if r.error else "",
        )
        for r in runs
    ]
    return table(("workspace", "status", "changes", "error"), rows)


def _short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _finish(runs: list[RegionRun]) -> int:
    failed = [r for r in runs if r.status == "failed"]
    if not failed:
        return errors.EXIT_OK
    if len(failed) == len(runs):
        # Every region failed: report the first error in full (exit 1 or its own code).
        assert failed[0].error is not None
        raise failed[0].error
    return errors.EXIT_PARTIAL


def cmd_plan(ctx: Context) -> int:
    env = ctx.config.environment(ctx.args.environment)
    orch = ctx.orchestrator()
    runs = orch.plan(env, ctx.args.regions)
    ctx.reporter.result(_runs_document(ctx, env, runs), _runs_table(runs))
    code = _finish(runs)
    if code == errors.EXIT_OK and ctx.args.detailed_exitcode and any(r.has_changes for r in runs):
        return errors.EXIT_CHANGES
    return code


def _confirm(
    ctx: Context,
    question: str,
    reason: str,
    hint: str = "re-run with --auto-approve once you have reviewed the plan",
) -> None:
    if ctx.args.auto_approve:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{reason}, and there is no terminal to ask for confirmation", hint=hint)
    sys.stderr.write(f"{question} Only 'yes' will be accepted: ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip()
    if answer != "yes":
        raise errors.DeployerError("cancelled: nothing was applied")


def _gate_or_refuse(
    ctx: Context, orch: Orchestrator, env: Environment, runs: list[RegionRun]
) -> None:
    refused = orch.gate(env, runs, ctx.args.allow_destroy)
    if not refused:
        return
    lines = [
        f"refusing to apply: the plan would delete or replace stateful resources in {env.name}:"
    ]
    for workspace, changes in refused.items():
        for change in changes:
            lines.append(f"  {workspace}: {change.verb} {change.address}")
    allow = " ".join(
        f"--allow-destroy {c.address}" for changes in refused.values() for c in changes
    )
    raise errors.PlanRefused("\n".join(lines), hint=f"if this is intended, re-run with {allow}")


def cmd_apply(ctx: Context) -> int:
    env = ctx.config.environment(ctx.args.environment)
    rid = run_id(ctx.project.root)
    ctx.reporter.progress(f"run {rid}: apply {env.name} on {ctx.target.describe()}")
    orch = ctx.orchestrator(rid)
    runs = orch.plan(env, ctx.args.regions, adopt=True)
    planned = [r for r in runs if r.status != "failed"]
    if planned:
        _gate_or_refuse(ctx, orch, env, planned)
        if any(r.has_changes for r in planned) and env.approval_required(
            on_aws=not ctx.target.is_local
        ):
            where = "AWS" if not ctx.target.is_local else env.name
            summary = "; ".join(f"{r.workspace.name}: {format_summary(r.summary)}" for r in planned)
            _confirm(
                ctx, f"Apply to {env.name} ({summary})?", f"applying to {where} needs approval"
            )
        runs = [r for r in runs if r.status == "failed"] + orch.apply(planned)
    _record_runs(ctx, orch, rid, "apply", runs)
    seeded = _seed_after_apply(ctx, env, runs)
    document = _runs_document(ctx, env, runs, run_id=rid)
    document["parameters"] = [r.to_json() for r in seeded]
    ctx.reporter.result(document, _apply_text(rid, runs) + _seed_text(seeded))
    return _finish(runs)


def _record_runs(
    ctx: Context, orch: Orchestrator, rid: str, command: str, runs: list[RegionRun]
) -> None:
    import datetime

    from deployer import runs as history

    finished = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for run in runs:
        if run.status in ("pending",):
            continue
        entry = history.RunRecord(
            run_id=rid,
            command=command,
            status=run.status,
            changes=run.summary,
            by=history.operator(),
            finished_at=finished,
        )
        try:
            history.record(ctx.config, orch.clients, run.workspace.stack, run.workspace.name, entry)
        except DeployerError as exc:
            ctx.reporter.warn(f"could not record run {rid} for {run.workspace.name}: {exc.message}")


def _seed_after_apply(ctx: Context, env: Environment, runs: list[RegionRun]) -> list[Any]:
    from deployer import params

    if env.stack != "runtime" or not (env.parameters or env.secrets):
        return []
    secrets = params.SecretValues.load(getattr(ctx.args, "secrets_file", None))
    clients = ClientFactory(ctx.target)
    reports = []
    for run in runs:
        if run.status not in ("applied", "no-changes"):
            continue
        report = params.seed(ctx.config, env, run.region, clients, secrets, strict=False)
        reports.append(report)
        if report.missing:
            ctx.reporter.warn(
                f"{run.workspace.name}: no value for {len(report.missing)} secret(s); "
                f"run `deployer seed {env.name}` with them set"
            )
    return reports


def _seed_text(reports: list[Any]) -> str:
    if not reports:
        return ""
    rows = [(r.region, o.name, o.kind, o.action) for r in reports for o in r.outcomes]
    return "\n\nparameters:\n" + table(("region", "parameter", "type", "result"), rows)


def _apply_text(rid: str, runs: list[RegionRun]) -> str:
    text = f"run {rid}\n\n" + _runs_table(runs)
    for run in runs:
        if run.outputs:
            text += f"\n\noutputs of {run.workspace.name}:\n" + _outputs_text(run.outputs)
    return text


def _outputs_text(outputs: dict[str, Any]) -> str:
    rows = []
    for name, item in sorted(outputs.items()):
        value = "(sensitive)" if item.get("sensitive") else item.get("value")
        rows.append((name, _render_value(value)))
    return table(("output", "value"), rows)


def _render_value(value: Any) -> str:
    """Flat lists and maps as `a, b` / `k=v`; anything nested as compact JSON."""
    import json

    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return ", ".join(map(str, value))
    if isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values()):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return "" if value is None else str(value)


def cmd_destroy(ctx: Context) -> int:
    env = ctx.config.environment(ctx.args.environment)
    rid = run_id(ctx.project.root)
    ctx.reporter.progress(f"run {rid}: destroy {env.name} on {ctx.target.describe()}")
    orch = ctx.orchestrator(rid)
    runs = orch.plan(env, ctx.args.regions, destroy=True)
    planned = [r for r in runs if r.status != "failed"]
    if planned:
        _gate_or_refuse(ctx, orch, env, planned)
        if any(r.has_changes for r in planned):
            _confirm(ctx, f"Destroy everything in {env.name}?", "destroy needs approval")
        runs = [r for r in runs if r.status == "failed"] + orch.apply(planned)
        for run in runs:
            if run.status == "applied":
                run.status = "destroyed"
    _record_runs(ctx, orch, rid, "destroy", runs)
    ctx.reporter.result(_runs_document(ctx, env, runs, run_id=rid), _runs_table(runs))
    return _finish(runs)


def cmd_seed(ctx: Context) -> int:
    from deployer import params

    env = ctx.config.environment(ctx.args.environment)
    if env.stack != "runtime":
        raise UsageError(f"{env.name} uses the {env.stack} stack, which has no parameters to seed")
    regions = ctx.args.regions or [r.name for r in env.regions]
    known = [r.name for r in env.regions]
    for region in regions:
        if region not in known:
            raise UsageError(f"environment {env.name} has no region {region}")
    secrets = params.SecretValues.load(ctx.args.secrets_file)
    clients = ClientFactory(ctx.target)
    reports = [params.seed(ctx.config, env, region, clients, secrets) for region in regions]
    for report in reports:
        verdict = "changed" if report.changed else "nothing to change"
        ctx.reporter.progress(f"seed: {verdict}", scope=f"{env.name}-{report.region}")
    ctx.reporter.result(
        {"environment": env.name, "regions": [r.to_json() for r in reports]},
        _seed_text(reports).lstrip("\n"),
    )
    return errors.EXIT_OK


def cmd_unlock(ctx: Context) -> int:
    import json

    import botocore.exceptions

    env = ctx.config.environment(ctx.args.environment)
    orch = ctx.orchestrator()
    delivery = ctx.config.delivery
    s3 = orch.clients.client(
        "s3",
        ctx.config.state.region,
        account_id=delivery.account_id,
        role_name=delivery.deploy_role_name,
    )
    results = []
    for ws in orch.workspaces(env, ctx.args.regions):
        try:
            body = s3.get_object(Bucket=ctx.config.state.bucket, Key=ws.lock_key())["Body"].read()
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                ctx.reporter.progress("not locked", scope=ws.name)
                results.append({"workspace": ws.name, "locked": False, "released": False})
                continue
            raise translate(exc, f"read the lock of {ws.name}") from None
        try:
            lock = json.loads(body)
        except ValueError:
            lock = {}
        lock_id = str(lock.get("ID", ""))
        operation = str(lock.get("Operation", "?")).removeprefix("OperationType").lower()
        holder = f"{lock.get('Who', '?')} since {lock.get('Created', '?')} ({operation})"
        ctx.reporter.progress(f"locked by {holder}, lock ID {lock_id}", scope=ws.name)
        _confirm(
            ctx,
            f"Release the lock of {ws.name} held by {holder}? Make sure that run is dead.",
            "releasing a lock needs approval",
            hint="re-run with --auto-approve once you are sure the run holding it is dead",
        )
        tf = orch.terraform_for(env, ws)
        tf.force_unlock(lock_id)
        ctx.reporter.progress("lock released", scope=ws.name)
        results.append({"workspace": ws.name, "locked": True, "released": True, "lock": lock})
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
    from dataclasses import asdict

    from deployer import runs as history

    env = ctx.config.environment(ctx.args.environment)
    clients = ClientFactory(ctx.target)
    document: dict[str, Any] = {"environment": env.name, "workspaces": {}}
    rows = []
    for region in ctx.args.regions or [r.name for r in env.regions]:
        workspace = f"{env.name}-{region}"
        records = history.history(ctx.config, clients, env.stack, workspace)
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


def cmd_output(ctx: Context) -> int:
    env = ctx.config.environment(ctx.args.environment)
    orch = ctx.orchestrator()
    runs = orch.outputs(env, ctx.args.regions)
    document = {
        "environment": env.name,
        "regions": {
            r.region: {k: v.get("value") for k, v in r.outputs.items()}
            for r in runs
            if r.status != "failed"
        },
    }
    text = "\n\n".join(
        f"{r.workspace.name}:\n" + (_outputs_text(r.outputs) if r.outputs else "  (no outputs)")
        for r in runs
        if r.status != "failed"
    )
    ctx.reporter.result(document, text)
    return _finish(runs)


def cmd_drill(ctx: Context) -> int:
    from deployer import drill
    from deployer.emulator import controls

    env = ctx.config.environment(ctx.args.environment)
    if env.stack != "runtime":
        raise UsageError(f"{env.name} uses the {env.stack} stack, which deploys no services")
    if ctx.target_kind != LOCAL and not ctx.args.i_know:
        raise UsageError(
            f"refusing to run a rollback drill on AWS ({env.name}, account {env.account_id}): "
            "it deploys a revision and puts an alarm in ALARM there",
            hint="run it on the local emulator, or add --i-know if that is what you want",
        )
    region = ctx.args.region or env.primary_region
    if region not in [r.name for r in env.regions]:
        raise UsageError(f"environment {env.name} has no region {region}")
    service = ctx.args.service or ctx.config.microservices[0].name
    target = ctx.target
    factory = ClientFactory(target, session_name="deployer-drill")
    made: dict[str, Any] = {}

    def client(name: str) -> Any:
        if name not in made:
            made[name] = factory.client(
                name, region, account_id=env.account_id, role_name=env.deploy_role_name
            )
        return made[name]

    layout = drill.discover(ctx.config, env, region, service, client)
    ctx.reporter.progress(
        f"rollback drill: {env.name} {region} {service}, --hook {ctx.args.hook}, "
        + (
            "on the local emulator (the drill plays CodeDeploy's part)"
            if target.is_local
            else "on AWS (CodeDeploy and the deployed guard do the work)"
        )
    )
    result: drill.DrillResult
    if target.is_local:
        endpoint = str(target.endpoint)
        result = drill.EmulatorDrill(
            layout,
            client,
            scenario=ctx.args.hook,
            control=lambda name, body: controls.post(endpoint, name, body),
            progress=ctx.reporter.progress,
        ).run()
    else:
        result = drill.AwsDrill(
            layout, client, scenario=ctx.args.hook, progress=ctx.reporter.progress
        ).run()
    ctx.reporter.result(result.to_json(), result.to_text())
    return errors.EXIT_OK if result.ok else errors.EXIT_FAILURE


def cmd_emulator(ctx: Context) -> int:
    emulator = Emulator(ctx.project.state_dir)
    if ctx.args.action == "start":
        status = emulator.status()
        if not status.running:
            status = emulator.start()
            ctx.reporter.progress(f"emulator started on {status.endpoint}")
    elif ctx.args.action == "stop":
        was = emulator.status()
        status = emulator.stop()
        ctx.reporter.progress("emulator stopped" if was.running else "emulator was not running")
    else:
        status = emulator.status()
    if status.running:
        text = (
            f"running: yes\nendpoint: {status.endpoint}\npid: {status.pid}\n"
            f"moto: {status.moto_version}\npatches: {len(status.patches)}\n"
            f"started: {status.started_at}\nlog: {status.log}"
        )
    else:
        text = "running: no"
    ctx.reporter.result(status.to_json(), text)
    return errors.EXIT_OK


COMMANDS = {
    "validate": cmd_validate,
    "plan": cmd_plan,
    "apply": cmd_apply,
    "destroy": cmd_destroy,
    "output": cmd_output,
    "seed": cmd_seed,
    "unlock": cmd_unlock,
    "history": cmd_history,
    "drill": cmd_drill,
    "emulator": cmd_emulator,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    reporter = Reporter(json_mode=args.json, verbosity=args.verbose)
    ctx = Context(args, reporter)
    try:
        return COMMANDS[args.command](ctx)
    except DeployerError as exc:
        if args.debug:
            traceback.print_exc()
        reporter.error(str(exc))
        if args.json:
            reporter.result(
                {"ok": False, "error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code},
                "",
            )
        return exc.exit_code
    except KeyboardInterrupt:
        reporter.error("interrupted")
        return 130
    except Exception as exc:  # a bug: say so, and how to see more
        if args.debug:
            traceback.print_exc()
        reporter.error(
            f"internal error: {type(exc).__name__}: {exc}"
            + ("" if args.debug else " (re-run with --debug for the traceback)")
        )
        if args.json:
            reporter.result({"ok": False, "error": f"internal error: {exc}", "exit_code": 1}, "")
        return errors.EXIT_FAILURE


def run() -> None:
    """Console entry point: a SIGTERM stops Terraform gracefully, like Ctrl-C."""
    from deployer.terraform import interrupt_all

    def on_sigterm(signum: int, frame: object) -> None:
        interrupt_all()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    sys.exit(main())


if __name__ == "__main__":
    run()
