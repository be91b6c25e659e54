"""``deployer ci``: CI configuration for the project's repository."""

from __future__ import annotations

from pathlib import Path

from deployer import errors
from deployer.cli.common import Commands, Context
from deployer.output import table


def register(commands: Commands) -> None:
    p = commands.add(
        "ci",
        "Write the GitHub Actions workflows that plan, apply and check drift.",
        """\
        github: writes deployer-plan.yml (pull requests: plan what changed, one
        comment with the summaries), deployer-apply.yml (pushes to ci.github.branch:
        apply every environment in pipeline order, approvals through GitHub
        Environments) and deployer-drift.yml (daily and on demand), generated from
        environments/*.yaml (ci.github in project.yaml). Regenerate after changing
        the configuration; --check exits 1 when the files on disk differ.

        example:
          deployer ci github
          deployer ci github --check    in CI: are the committed workflows current?
        """,
        cmd_ci,
    )
    p.add_argument("provider", choices=("github",), help="the CI system")
    p.add_argument(
        "--dir",
        type=Path,
        metavar="DIR",
        help="where the workflows go (default: <project>/.github/workflows)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming the files that differ from what would be written",
    )


def cmd_ci(ctx: Context) -> int:
    # jinja2 is imported by this command only, not by every deployer start.
    from deployer import ci_github

    files = ci_github.render(ctx.config)
    directory = ctx.args.dir or ctx.project.root / ci_github.DEFAULT_DIR
    if ctx.args.check:
        results = ci_github.check(files, directory)
    else:
        results = ci_github.write(files, directory)
    stale = [r for r in results if r.status in ("differs", "missing")]
    ctx.reporter.result(
        {"directory": str(directory), "check": bool(ctx.args.check),
         "files": [r.to_json() for r in results]},
        table(("file", "status"), [(str(r.path), r.status) for r in results]),
    )  # fmt: skip
    if stale:
        ctx.reporter.error(
            "not what environments/*.yaml gives: "
            + ", ".join(f"{r.path} ({r.status})" for r in stale)
            + "; regenerate with: deployer ci github"
        )
        return errors.EXIT_FAILURE
    return errors.EXIT_OK
