"""``deployer release [--source DIR] [--wait]``: commit a working tree to the pipeline's
source, find the execution it started, and follow it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deployer import errors
from deployer.cli.common import Commands, Context
from deployer.cli.pipeline import EXIT_INTERRUPTED, delivery_scope
from deployer.image_settings import DEFAULT_SOURCE

if TYPE_CHECKING:
    from pathlib import Path

    from deployer.pipeline_runs import Runs


def register(commands: Commands) -> None:
    from pathlib import Path

    p = commands.add(
        "release",
        "Put a working tree (the monorepo) where the pipeline takes it, and follow the run.",
        f"""\
        The pipeline's Source stage reads the delivery account's CodeCommit repository
        ({{delivery prefix}}-monorepo, branch pipeline.branch); a commit there starts it.
        `release` commits DIR's files (default {DEFAULT_SOURCE} of the project, as
        for `images bootstrap`) through CodeCommit's API, the same on AWS and on the
        local emulator: only the files that differ from the branch's tip (added,
        changed, or gone: deleted), none of .git and, in a git work tree, none that git
        ignores. A change over CodeCommit's limits (100 files, 7 MB a commit) becomes
        consecutive commits; the last is the release. Nothing differs: nothing is
        committed (exit 0). Refused before any call (exit 2): a missing or empty
        folder, or one without services/ (the pipeline builds services/<name>/).

        With pipeline.source: S3 the pipeline reads one zip instead: the tree is
        zipped (the same bytes for the same files) and uploaded as a new version of
        s3://{{delivery prefix}}-source-{{region}}/monorepo.zip, unless the current
        version holds that tree already.

        Then it finds the pipeline execution that reads this commit (or version):
        ListPipelineExecutions, within two minutes, or an error naming the commit
        made. If the push's execution failed before reading it (its source action
        refused, say), that execution and why: exit 1. --wait follows it, each
        stage and action on stderr as its status changes, until it ends or a
        manual approval waits (then `deployer approve` or `deployer reject`): exit
        1 if it fails, stops or is cancelled, naming the failed action and why; 130
        on Ctrl-C (the execution goes on). With nothing to commit, --wait follows
        the execution of the branch's tip.

        example:
          deployer release --wait
          deployer release --source examples/monorepo --message "api-service: faster /health"
          deployer release --source ../shop-monorepo --wait --json
        """,
        cmd_release,
    )
    p.add_argument(
        "--source",
        type=Path,
        metavar="DIR",
        help=f"the working tree to commit: the monorepo (default: {DEFAULT_SOURCE} of the project)",
    )
    p.add_argument("--message", "-m", metavar="M", help="the commit message")
    p.add_argument(
        "--wait",
        action="store_true",
        help="follow the execution until it ends or an approval waits (exit 1 if it fails)",
    )


def cmd_release(ctx: Context) -> int:
    from deployer import pipeline_runs, release  # here: botocore is not every command's cost

    config = ctx.config
    source: Path = ctx.args.source or ctx.project.root / DEFAULT_SOURCE
    files = release.prepare(config, source)  # bad input: refused before any call
    release.require_services(source, files)
    scope = delivery_scope(ctx)
    runs = pipeline_runs.runs_of(scope)
    before = runs.recent()  # and a pipeline that does not exist is refused before the commit
    result = release.release(
        scope, source, message=ctx.args.message, progress=ctx.reporter.progress, files=files
    )
    if isinstance(result, release.Released):
        revision, changed, what = result.commit or result.before, bool(result.commits), "commit"
    else:
        revision, changed, what = result.version_id, result.changed, "version"
    document: dict[str, Any] = result.to_json()
    execution = None
    if revision:
        execution = runs.started_by(
            revision, before=before if changed else None, say=ctx.reporter.progress
        )
    if execution is None:
        if changed or ctx.args.wait:
            raise _no_execution(runs, what, revision, changed)
        document["execution"] = None
        text = f"{result.to_text()}\nno execution of {runs.pipeline} reads {what} {revision}"
        ctx.reporter.result(document, text)
        return errors.EXIT_OK
    if not ctx.args.wait:
        view = runs.view(execution)
        document["execution"] = view.to_json()
        where = view.position
        text = (
            f"{result.to_text()}\n{runs.pipeline} execution {execution}: {view.status}"
            + (f", {where}" if where else "")
            + (f": {view.why()}" if view.status in pipeline_runs.UNSUCCESSFUL else "")
            + f"\n  see it: deployer pipeline status --execution {execution}"
        )
        ctx.reporter.result(document, text)
        return errors.EXIT_FAILURE if view.status in pipeline_runs.UNSUCCESSFUL else errors.EXIT_OK
    ctx.reporter.progress(f"release: following {runs.pipeline} execution {execution}")
    followed = runs.follow(execution, ctx.reporter.progress)
    document["execution"] = followed.to_json()
    ctx.reporter.result(document, f"{result.to_text()}\n\n{followed.view.to_text()}")
    if followed.ending == pipeline_runs.INTERRUPTED:
        return EXIT_INTERRUPTED
    return errors.EXIT_OK if followed.ok else errors.EXIT_FAILURE


def _no_execution(
    runs: Runs, what: str, revision: str | None, changed: bool
) -> errors.DeployerError:
    from deployer.pipeline_runs import START_TIMEOUT_S, PipelineRunError

    made = (
        f"{what} {revision} is made, but "
        if changed
        else f"nothing committed ({what} {revision}); "
    )
    within = f" within {START_TIMEOUT_S:.0f} s" if changed else ""
    return PipelineRunError(
        f"{made}no execution of {runs.pipeline} read it{within}",
        hint=(
            "a push starts the pipeline through the delivery stack's EventBridge rule (apply "
            "the delivery stack); an S3 source is polled, which the local emulator does not "
            f"do. Start one: aws codepipeline start-pipeline-execution --name {runs.pipeline}"
        ),
    )
