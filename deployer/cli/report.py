"""``deployer report``: the delivery metrics of an environment (deployer/report.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from deployer import errors
from deployer.cli.common import Commands, Context
from deployer.scope import Scope


def register(commands: Commands) -> None:
    p = commands.add(
        "report",
        "Delivery metrics: deployment frequency, lead time, change failure rate, time to restore.",
        """\
        Per region of the environment (default: the pipeline's production environment),
        over the window --since (14d by default; 36h, 2w, ...), from the AWS API only,
        the same on AWS and on the local emulator:

          deployments     the CodeDeploy deployments the pipeline's stage for the
                          environment created (CodePipeline ListPipelineExecutions and
                          ListActionExecutions, CodeDeploy GetDeployment); drills left out
          frequency       successful deployments per day and per week
          lead time       commit (CodeCommit GetCommit, committer date) to deployment
                          succeeded: median and 90th percentile
          failure rate    rolled back (rollbackInfo, codeDeployRollback deployments)
                          over the deployments that ended
          time to restore each service's health alarm ALARM to OK (CloudWatch
                          DescribeAlarmHistory) and each rollback's duration: median, worst

        CloudWatch keeps alarm history for 14 days: for a longer window, alarm episodes
        older than that come from the events the platform records in the delivery
        account (log group /aws/events/<delivery prefix>-alarm-state-changes, kept 400
        days; CloudWatch Logs FilterLogEvents), and each episode says which source it
        came from. --json adds each deployment (id, service, region, commit, outcome)
        and alarm episode. --html writes one self-contained page with the figures and
        their trend as charts.
        Refused (exit 2, nothing written): an unknown environment or one the pipeline
        does not deploy, a malformed --since, an --html path that cannot be written.

        example:
          deployer report
          deployer report staging --since 36h --json
          deployer report prod --html metrics.html
        """,
        cmd_report,
    )
    p.add_argument(
        "environment",
        nargs="?",
        help="a runtime environment the pipeline deploys (default: its production one)",
    )
    p.add_argument(
        "--since",
        metavar="WINDOW",
        help="how far back: hours, days or weeks, such as 36h, 14d or 2w (default: 14d)",
    )
    p.add_argument("--html", type=Path, metavar="FILE", help="also write this HTML page")


def cmd_report(ctx: Context) -> int:
    # Here, not at the top: botocore and statistics are not every command's cost (a plan
    # imports neither; tests/unit/test_plan_startup.py).
    from deployer import report, report_html

    config = ctx.config
    env = config.environment(ctx.args.environment or config.pipeline.production)
    report.stage_of(config, env)
    since = report.DEFAULT_SINCE if ctx.args.since is None else ctx.args.since
    window = report.parse_since(since)
    html_path: Path | None = ctx.args.html
    if html_path is not None:
        report_html.check_writable(html_path)

    delivery = Scope(config, config.delivery, config.names.delivery.region, ctx.target, ctx.clients)
    scopes = {s.region: s for s in ctx.scopes(env)}
    sources = report.Sources(
        codepipeline=delivery.client("codepipeline"),
        codecommit=delivery.client("codecommit"),
        pipeline=config.names.delivery.pipeline_name,
        delivery_region=delivery.region,
        codedeploy=lambda region: scopes[region].codedeploy,
        cloudwatch=lambda region: scopes[region].client("cloudwatch"),
        names=lambda region: scopes[region].names,
        logs=delivery.client("logs"),
        alarm_events_log_group=report.alarm_events_log_group(config.names.delivery.name_prefix),
    )
    found = report.build(
        sources, config, env, window, now=datetime.now(UTC), progress=ctx.reporter.progress
    )
    for note in found.notes:
        ctx.reporter.warn(note)
    document = found.to_json()
    if html_path is not None:
        report_html.write(found, html_path)
        ctx.reporter.progress(f"report: wrote {html_path}")
        document["html"] = str(html_path)
    ctx.reporter.result(document, found.to_text())
    return errors.EXIT_OK
