"""What every command shares: global options, the run's Context, confirmation, rendering."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deployer import changes, errors, identity, state
from deployer.aws import LOCAL, TARGETS, ClientFactory, Target
from deployer.config import Config, Environment
from deployer.config import load as load_config
from deployer.emulator import Emulator
from deployer.errors import UsageError
from deployer.orchestrator import Orchestrator, RegionRun, RunStatus, format_summary
from deployer.output import Reporter, table
from deployer.project import Project, load_project
from deployer.scope import Scope
from deployer.toolchain import Toolchain, prepare

if TYPE_CHECKING:
    from deployer import state_replica

#: The commands that write Terraform state (and may set up, or use, its replica).
STATE_WRITERS = ("apply", "destroy", "unlock")

Handler = Callable[["Context"], int]


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------
def global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Options every command takes, before or after its name."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("global options")
    group.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print the result as one JSON document on stdout (progress stays on stderr)",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default(0),
        help="more progress detail on stderr (-vv: Terraform's own output too)",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="show tracebacks for errors",
    )
    group.add_argument(
        "--target",
        choices=TARGETS,
        default=default(None),
        help="where to deploy: the local emulator (default, or $DEPLOYER_TARGET) or AWS",
    )


class Commands:
    """Adds a command's parser: its summary, an example epilog and its handler."""

    def __init__(self, sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        self._sub = sub

    def add(
        self, name: str, summary: str, example: str, handler: Handler
    ) -> argparse.ArgumentParser:
        parser = self._sub.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=textwrap.dedent(example),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        global_options(parser, suppress=True)
        parser.set_defaults(handler=handler)
        return parser


def environment_args(parser: argparse.ArgumentParser, *, parallel: bool = True) -> None:
    parser.add_argument("environment", help="environment name (delivery, dev, staging, prod, ...)")
    parser.add_argument(
        "--region",
        action="append",
        dest="regions",
        metavar="R",
        help="only this region (repeatable; default: all the environment's regions)",
    )
    if parallel:
        parser.add_argument(
            "--parallelism",
            type=int,
            metavar="N",
            help="regions run at once (default: terraform.parallelism, else from cores and memory)",
        )


def selection_args(parser: argparse.ArgumentParser, verb: str, *, changed: bool = True) -> None:
    """An environment, or --all (or --changed BASE_REF); then --region, --parallelism and
    --summary-md."""
    parser.add_argument(
        "environment",
        nargs="?",
        help="environment name (or --all" + (", or --changed BASE_REF)" if changed else ")"),
    )
    parser.add_argument(
        "--all",
        action="store_true",
        dest="all_workspaces",
        help=f"{verb} every environment and region of the project",
    )
    if changed:
        parser.add_argument(
            "--changed",
            metavar="BASE_REF",
            help="only the workspaces whose inputs differ from BASE_REF (a commit, branch or "
            "tag; uncommitted changes count), each with the reason",
        )
    parser.add_argument(
        "--region",
        action="append",
        dest="regions",
        metavar="R",
        help="only this region (repeatable; default: every region)",
    )
    parser.add_argument(
        "--parallelism",
        type=int,
        metavar="N",
        help="workspaces run at once (default: terraform.parallelism, else from cores and memory)",
    )
    parser.add_argument(
        "--summary-md",
        type=Path,
        metavar="FILE",
        help="also write a short Markdown summary (for a pull request or a CI job summary)",
    )
    read_only_arg(parser)


def read_only_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="as the CI plan role (ci.github): state with the caller's own credentials, each "
        "account through its read role (configuration reads only), never a deploy role",
    )


def secrets_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--secrets-file",
        type=Path,
        metavar="FILE",
        help="YAML mapping service -> {SECRET_NAME: value} (wins over DEPLOYER_SECRET_* variables)",
    )


def auto_approve_arg(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--auto-approve", action="store_true", help=help)


def state_replica_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-replica",
        action="store_true",
        help="when the Terraform state's region does not answer, read and write the state's "
        "replica in the DR region (plan does this by itself); its writes reach the state "
        "bucket by replication once the region is back. Make sure no one else applies "
        "meanwhile: a lock in one bucket does not hold in the other",
    )


# ---------------------------------------------------------------------------
# Context: the pieces a command needs, built when first asked for
# ---------------------------------------------------------------------------
@dataclass
class Context:
    args: argparse.Namespace
    reporter: Reporter
    _orchestrators: list[Orchestrator] = field(default_factory=list)

    @cached_property
    def project(self) -> Project:
        return load_project()

    @cached_property
    def config(self) -> Config:
        return load_config(self.project.root)

    @cached_property
    def toolchain(self) -> Toolchain:
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
        return tc

    @property
    def target_kind(self) -> str:
        kind = getattr(self.args, "target", None) or os.environ.get("DEPLOYER_TARGET") or LOCAL
        if kind not in TARGETS:
            raise UsageError(f"DEPLOYER_TARGET={kind!r} is not one of {', '.join(TARGETS)}")
        return kind

    @property
    def read_only(self) -> bool:
        """--read-only: plan or check drift as the CI plan role (deployer.identity)."""
        return bool(getattr(self.args, "read_only", False))

    @cached_property
    def target(self) -> Target:
        if self.read_only:
            identity.require_ci_identity(self.config)
        if self.target_kind != LOCAL:
            return Target(self.target_kind, read_only=self.read_only)
        emulator = Emulator(self.project.state_dir)
        status = emulator.status()
        if not status.running:
            self.reporter.progress("starting the local AWS emulator")
            status = emulator.start()
            self.reporter.progress(f"emulator listening on {status.endpoint}")
        else:
            self._warn_if_stale(status.patches)
        return Target(LOCAL, status.endpoint, read_only=self.read_only)

    def _warn_if_stale(self, running: list[str]) -> None:
        from deployer.emulator import patches

        missing = sorted(set(patches.names()) - set(running))
        if missing:
            self.reporter.warn(
                f"the running emulator lacks {len(missing)} fidelity patch(es) of this checkout "
                f"({', '.join(missing)}); restart it: deployer emulator stop "
                "(this forgets its resources)"
            )

    @cached_property
    def clients(self) -> ClientFactory:
        return ClientFactory(self.target)

    @cached_property
    def drill_clients(self) -> ClientFactory:
        """Clients whose role sessions say they are a drill's (CloudTrail shows it)."""
        return ClientFactory(self.target, session_name="deployer-drill")

    def environment(self) -> Environment:
        """The environment the command names."""
        return self.config.environment(self.args.environment)

    def scopes(self, env: Environment | None = None) -> list[Scope]:
        """The environment's scopes in the regions the command names (validated)."""
        return Scope.resolve(
            self.config,
            env or self.environment(),
            getattr(self.args, "regions", None),
            self.target,
            self.clients,
        )

    def selection(self) -> Selection:
        """The workspaces a command with ``selection_args`` names, and why each."""
        args = self.args
        env_name = args.environment
        changed = getattr(args, "changed", None)
        if args.all_workspaces and (env_name or changed):
            raise UsageError("--all plans every workspace: name no environment and no --changed")
        if not (env_name or args.all_workspaces or changed):
            raise UsageError(
                "name an environment, or use --all"
                + (" or --changed BASE_REF" if hasattr(args, "changed") else ""),
                hint=f"configured environments: {', '.join(sorted(self.config.environments))}",
            )
        if changed:
            found = changes.select(self.config, changed)
            chosen = found.selected
            label = f"changed since {changed}"
            if found.files:
                self.reporter.detail(f"{len(found.files)} file(s) differ from {changed}")
        else:
            chosen = changes.every_workspace(self.config)
            label = "all workspaces"
        if env_name:
            env = self.environment()
            if not changed:
                chosen = [changes.Selected(env.name, r.name, env.stack) for r in env.regions]
            chosen = [s for s in chosen if s.environment == env.name]
            label = f"{env.name}, {label}" if changed else env.name
        regions = args.regions or []
        if regions:
            known = (
                {r.name for r in self.environment().regions}
                if env_name
                else {s.region for s in changes.every_workspace(self.config)}
            )
            unknown = sorted(set(regions) - known)
            if unknown:
                raise UsageError(
                    f"no such region {', '.join(unknown)} (configured: {', '.join(sorted(known))})",
                    hint="see environments/*.yaml",
                )
            chosen = [s for s in chosen if s.region in regions]
        return Selection(chosen, label)

    def scope_of(self, selected: changes.Selected) -> Scope:
        env = self.config.environment(selected.environment)
        return Scope(self.config, env, selected.region, self.target, self.clients)

    def orchestrator(self, run_id: str | None = None) -> Orchestrator:
        # Resolve the toolchain before touching AWS: a missing Terraform is a usage error.
        toolchain = self.toolchain
        config, clients, target = self.config, self.clients, self.target
        # Commands that write state also set up its replica (the next apply of an
        # existing project makes it), and may use it only when the user says so.
        writes = getattr(self.args, "command", None) in STATE_WRITERS
        allowed = bool(getattr(self.args, "state_replica", False))

        def fallback(down: state.StateRegionDown) -> state_replica.Replica:
            from deployer import state_replica as replicas

            return replicas.fallback(
                config, clients, target, down, writes=writes, allowed=allowed,
                progress=self.reporter.progress,
            )  # fmt: skip

        orchestrator = Orchestrator(
            self.project,
            toolchain,
            self.reporter,
            parallelism=getattr(self.args, "parallelism", None),
            run_id=run_id,
            # Started at once, waited for before anything needs the state store.
            prepare_state=lambda: state.prepare(
                config, clients, target, self.reporter.progress, writes=writes
            ),
            state_fallback=fallback,
        )
        self._orchestrators.append(orchestrator)
        return orchestrator

    def close(self) -> None:
        """Wait for what the command left running in the background (the orchestrators')."""
        for orchestrator in self._orchestrators:
            orchestrator.close()

    def confirm(
        self,
        question: str,
        reason: str,
        hint: str = "re-run with --auto-approve once you have reviewed the plan",
    ) -> None:
        """Ask on the terminal; anything but 'yes' (or no terminal) stops the command."""
        if getattr(self.args, "auto_approve", False):
            return
        if not sys.stdin.isatty():
            raise UsageError(
                f"{reason}, and there is no terminal to ask for confirmation", hint=hint
            )
        sys.stderr.write(f"{question} Only 'yes' will be accepted: ")
        sys.stderr.flush()
        answer = sys.stdin.readline().strip()
        if answer != "yes":
            raise errors.DeployerError("cancelled: nothing was applied")


@dataclass(frozen=True)
class Selection:
    """Workspaces chosen by name, --all or --changed; ``label`` says which."""

    workspaces: list[changes.Selected]
    label: str

    @property
    def reasons(self) -> dict[str, tuple[str, ...]]:
        return {s.workspace: s.reasons for s in self.workspaces if s.reasons}


# ---------------------------------------------------------------------------
# Rendering region runs
# ---------------------------------------------------------------------------
def runs_document(
    ctx: Context, env: Environment, runs: list[RegionRun], **extra: Any
) -> dict[str, Any]:
    return {
        "environment": env.name,
        "stack": env.stack,
        "target": ctx.target_kind,
        **extra,
        "regions": [r.to_json() for r in runs],
    }


def runs_table(runs: list[RegionRun]) -> str:
    rows = [
        (
            r.workspace.name,
            str(r.status),
            format_summary(r.summary) if r.summary else "",
            short(r.error.message.splitlines()[0]) if r.error else "",
        )
        for r in runs
    ]
    return table(("workspace", "status", "changes", "error"), rows)


def short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def finish(runs: list[RegionRun]) -> int:
    """0 when every region succeeded, 4 when some failed; all failed: the first error."""
    failed = [r for r in runs if r.status is RunStatus.FAILED]
    if not failed:
        return errors.EXIT_OK
    if len(failed) == len(runs):
        # Every region failed: report the first error in full (exit 1 or its own code).
        assert failed[0].error is not None
        raise failed[0].error
    return errors.EXIT_PARTIAL


def outputs_text(outputs: dict[str, Any]) -> str:
    rows = []
    for name, item in sorted(outputs.items()):
        value = "(sensitive)" if item.get("sensitive") else item.get("value")
        rows.append((name, render_value(value)))
    return table(("output", "value"), rows)


def render_value(value: Any) -> str:
    """Flat lists and maps as `a, b` / `k=v`; anything nested as compact JSON."""
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return ", ".join(map(str, value))
    if isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values()):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return "" if value is None else str(value)
