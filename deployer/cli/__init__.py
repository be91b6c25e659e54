"""Command line: arguments and dispatch. The only place errors become exit codes.

Each command group is a module of this package (``stack``: validate, plan,
apply, destroy, output, unlock, history; ``seed``; ``drill``; ``emulator``) that
registers its parsers and handlers; a command's workflow lives in the
deployer's module for it (the orchestrator, ``params``, ``drill``, ...).

Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 plan has
changes (with --detailed-exitcode), 4 some regions failed.
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence

from deployer import errors
from deployer.cli import (
    build_image,
    ci,
    deployments,
    dr,
    drill,
    emulator,
    iam,
    images,
    pipeline,
    release,
    report,
    seed,
    stack,
)
from deployer.cli.common import Commands, Context, global_options
from deployer.errors import DeployerError
from deployer.output import Reporter

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
                            (default: found in the usual places, then searched for)
  DEPLOYER_TERRAFORM        Terraform binary (default: terraform on PATH)
  DEPLOYER_STATE_DIR        local state folder (default: <project>/.deployer)
  DEPLOYER_TF_LOG           a Terraform log level (debug, trace, ...): each Terraform
                            process logs to <state>/terraform/<stack>/<workspace>/
                            terraform-<command>.log

exit codes: 0 ok, 1 failure, 2 usage or configuration error,
            3 plan has changes (--detailed-exitcode), 4 some regions failed
"""

#: The command groups, in the order `--help` lists them.
GROUPS = (
    stack,
    seed,
    images,
    build_image,
    release,
    pipeline,
    deployments,
    drill,
    dr,
    report,
    emulator,
    ci,
    iam,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    global_options(parser, suppress=False)
    commands = Commands(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    reporter = Reporter(json_mode=args.json, verbosity=args.verbose)
    ctx = Context(args, reporter)
    try:
        try:
            code: int = args.handler(ctx)
        finally:
            ctx.close()
        return code
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

    def on_sigterm(_signum: int, _frame: object) -> None:
        interrupt_all()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    code = main()
    # Nothing left running (main waited for the background work): skip the
    # interpreter's teardown of every module, about 0.1 s with boto3 loaded, a
    # cost every invocation pays. The exit handlers still run; output is flushed.
    if threading.active_count() == 1:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


__all__ = ["build_parser", "main", "run"]
