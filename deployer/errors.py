"""The one exception hierarchy of the deployer.

Every failure the user can act on is a ``DeployerError`` carrying the exit code
the CLI returns. ``cli.py`` is the only place these become exit codes; anything
else that escapes is a bug and is reported as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CHANGES = 3
EXIT_PARTIAL = 4


class DeployerError(Exception):
    """Base of every error the deployer reports to the user."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class UsageError(DeployerError):
    """The command line asks for something that cannot be done."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class ConfigProblem:
    """One problem found in the configuration: where it is and what is wrong."""

    file: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.reason}"


class ConfigError(DeployerError):
    """The configuration is invalid. Carries every problem found, not just the first."""

    exit_code = EXIT_USAGE

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        lines = [f"configuration is invalid ({count} problem{'s' if count != 1 else ''}):"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class ToolchainError(DeployerError):
    """Terraform is missing, too old, or cannot resolve its providers."""

    exit_code = EXIT_USAGE


class EmulatorError(DeployerError):
    """The local AWS emulator could not be started, reached or stopped."""


class AwsError(DeployerError):
    """An AWS API call failed (translated once, from botocore)."""


class TerraformError(DeployerError):
    """A Terraform command failed.

    Carries the command, the workspace and the tail of Terraform's stderr so that
    the user sees what failed without re-running with more logging.
    """

    def __init__(
        self,
        command: Sequence[str],
        returncode: int,
        *,
        workspace: str | None = None,
        stderr_tail: str = "",
        hint: str | None = None,
    ) -> None:
        self.command = list(command)
        self.returncode = returncode
        self.workspace = workspace
        self.stderr_tail = stderr_tail
        where = f" in workspace {workspace}" if workspace else ""
        # The full argv (paths, var files) is in .command and shown under --debug.
        shown = " ".join(self.command[:2])
        message = f"`{shown}`{where} failed with exit code {returncode}"
        if stderr_tail.strip():
            indented = "\n".join("    " + line for line in stderr_tail.rstrip().splitlines())
            message += f"\n  terraform said:\n{indented}"
        super().__init__(message, hint=hint)


class StateLocked(TerraformError):
    """Another run holds the workspace's state lock."""

    def __init__(
        self,
        command: Sequence[str],
        returncode: int,
        *,
        workspace: str | None,
        lock: dict[str, str],
        hint: str | None = None,
    ) -> None:
        self.lock = lock
        super().__init__(command, returncode, workspace=workspace, hint=hint)
        held = lock_holder(lock, f", lock ID {lock.get('ID', '?')}")
        self.message = f"workspace {workspace} is locked by {held}"


def lock_holder(lock: dict[str, str], more: str = "") -> str:
    """Who holds a Terraform state lock, since when, doing what (from its lock info):
    ``alice@laptop since 2026-11-30 10:00:00 UTC (apply<more>)``."""
    who = lock.get("Who", "someone")
    since = lock.get("Created", "an unknown time")
    operation = lock.get("Operation", "").removeprefix("OperationType").lower() or "a run"
    return f"{who} since {since} ({operation}{more})"


class PlanRefused(DeployerError):
    """The plan gate refused a plan (for example, it destroys a stateful resource)."""
