"""``deployer pipeline status``, ``deployer approve`` and ``deployer reject``: the delivery
pipeline's executions, and its manual approval."""

from __future__ import annotations

import argparse

from deployer import errors
from deployer.cli.common import Commands, Context
from deployer.scope import Scope

#: Ctrl-C while following: the execution goes on; the shell's code for SIGINT.
EXIT_INTERRUPTED = 130


def register(commands: Commands) -> None:
    p = commands.add(
        "pipeline",
        "Show an execution of the delivery pipeline: stages, actions, commit, deployment IDs.",
        """\
        `pipeline status` reads the delivery account's CodePipeline
        ({delivery prefix}-pipeline) with the AWS API only, the same on AWS and on the
        local emulator: the latest execution (or --execution ID), its status, what
        started it, the commit it carries (ID and message), each stage and action
        with its status, summary, last change and link, each service's deployment ID
        (the DEPLOYMENT_ID its Build action exported), and the approval waiting, if
        any, with what to run next. An unknown execution is refused (exit 2).

        example:
          deployer pipeline status
          deployer pipeline status --execution 3c9a2f0e-5b1d-4c7e-9f8a-1d2e3f4a5b6c --json
        """,
        cmd_pipeline,
    )
    p.add_argument("action", choices=("status",), help="status: show an execution")
    _execution_arg(p, "the execution to show (default: the latest)")

    p = commands.add(
        "approve",
        "Approve the pipeline's manual approval in progress: the commit goes to production.",
        f"""\
        {DECIDE.format(status="Approved")}

        --wait follows the execution on (each stage and action on stderr) until it ends
        or another approval waits: exit 1 if it fails, stops or is cancelled.

        example:
          deployer approve --comment "checked staging"
          deployer approve --execution 3c9a2f0e-5b1d-4c7e-9f8a-1d2e3f4a5b6c --wait
        """,
        cmd_decide,
    )
    _decision_args(p, "Approved", "approve")
    p.add_argument(
        "--wait",
        action="store_true",
        help="follow the execution until it ends or another approval waits",
    )
    p = commands.add(
        "reject",
        "Reject the pipeline's manual approval in progress: the execution fails there.",
        f"""\
        {DECIDE.format(status="Rejected")}

        The execution fails at the approval; nothing after it runs.

        example:
          deployer reject --comment "staging shows the old prices"
          deployer reject --execution 3c9a2f0e-5b1d-4c7e-9f8a-1d2e3f4a5b6c
        """,
        cmd_decide,
    )
    _decision_args(p, "Rejected", "reject")


#: What approve and reject do (their --help), one line a sentence in the epilog.
DECIDE = """Finds the Manual approval action in progress in the delivery pipeline
        ({{delivery prefix}}-pipeline; GetPipelineState gives its token), answers it
        {status} with PutApprovalResult, and prints the execution and what it
        promotes: the commit and each service's deployment ID. With --execution,
        that execution must be the one waiting. Refused, with nothing changed
        (exit 2): nothing waits for approval, an unknown execution, or one that
        does not wait."""


def _decision_args(parser: argparse.ArgumentParser, status: str, verb: str) -> None:
    parser.set_defaults(decision=status)
    _execution_arg(parser, "the execution whose approval to answer (default: the one waiting)")
    parser.add_argument(
        "--comment",
        metavar="C",
        help=f"the approval's summary, as CodePipeline records it (default: "
        f"'{status.lower()} with deployer {verb}'; at most 512 characters)",
    )


def _execution_arg(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--execution", metavar="ID", help=text)


def delivery_scope(ctx: Context) -> Scope:
    config = ctx.config
    return Scope(config, config.delivery, config.names.delivery.region, ctx.target, ctx.clients)


def cmd_pipeline(ctx: Context) -> int:
    from deployer import pipeline_runs  # here: botocore is not every command's cost

    runs = pipeline_runs.runs_of(delivery_scope(ctx))
    view = runs.view(ctx.args.execution or runs.latest())
    ctx.reporter.result(view.to_json(), view.to_text())
    return errors.EXIT_OK


def cmd_decide(ctx: Context) -> int:
    from deployer import pipeline_runs

    runs = pipeline_runs.runs_of(delivery_scope(ctx))
    decision = runs.decide(ctx.args.execution, ctx.args.decision, ctx.args.comment)
    if not getattr(ctx.args, "wait", False):
        ctx.reporter.result(decision.to_json(), decision.to_text())
        return errors.EXIT_OK
    ctx.reporter.progress(decision.to_text())
    followed = runs.follow(
        decision.view.execution_id,
        ctx.reporter.progress,
        answered=[decision.approval.action_execution_id or ""],
        seen_as=decision.view,
    )
    document = {**decision.to_json(), "execution": followed.to_json()}
    ctx.reporter.result(document, followed.view.to_text())
    if followed.ending == pipeline_runs.INTERRUPTED:
        return EXIT_INTERRUPTED
    return errors.EXIT_OK if followed.ok else errors.EXIT_FAILURE
