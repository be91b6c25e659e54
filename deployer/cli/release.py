"""``deployer release --source DIR``: commit a working tree to the pipeline's source."""

from __future__ import annotations

from pathlib import Path

from deployer import errors
from deployer.cli.common import Commands, Context
from deployer.scope import Scope


def register(commands: Commands) -> None:
    p = commands.add(
        "release",
        "Put a working tree (the monorepo) where the pipeline takes it: commit or S3 zip.",
        """\
        The pipeline's Source stage reads the delivery account's CodeCommit repository
        ({delivery prefix}-monorepo, branch pipeline.branch); a commit there starts it.
        `release --source DIR` commits DIR's files through CodeCommit's API, the same
        on AWS and on the local emulator: only the files that differ from the
        branch's tip (added, changed, or gone: deleted), none of .git and, in a git
        work tree, none that git ignores. A change over CodeCommit's limits (100
        files, 7 MB a commit) becomes consecutive commits; the last is the release.
        Nothing differs: nothing is committed (exit 0). Prints the commit ID.

        With pipeline.source: S3 the pipeline reads one zip instead: the tree is
        zipped (the same bytes for the same files) and uploaded as a new version of
        s3://{delivery prefix}-source-{region}/monorepo.zip, unless the current
        version holds that tree already. Prints the object's version ID.

        example:
          deployer release --source examples/monorepo --message "api-service: faster /health"
          deployer release --source ../shop-monorepo --json
        """,
        cmd_release,
    )
    p.add_argument(
        "--source",
        type=Path,
        metavar="DIR",
        required=True,
        help="the working tree to commit (the monorepo)",
    )
    p.add_argument("--message", "-m", metavar="M", help="the commit message")


def cmd_release(ctx: Context) -> int:
    from deployer import release  # here: botocore is not every command's cost

    config = ctx.config
    files = release.prepare(config, ctx.args.source)  # bad input: refused before any call
    delivery = config.delivery
    scope = Scope(config, delivery, config.names.delivery.region, ctx.target, ctx.clients)
    result = release.release(
        scope,
        ctx.args.source,
        message=ctx.args.message,
        progress=ctx.reporter.progress,
        files=files,
    )
    ctx.reporter.result(result.to_json(), result.to_text())
    return errors.EXIT_OK
