"""``deployer iam-policy``: the IAM documents of the roles that run the deployer."""

from __future__ import annotations

from deployer import errors, iam_policies
from deployer.cli.common import Commands, Context


def register(commands: Commands) -> None:
    p = commands.add(
        "iam-policy",
        "Print the IAM policy documents of the CI roles (plan, apply, read) or of an operator.",
        """\
        For teams that create roles their own way. `plan` and `apply` are the GitHub
        Actions roles the delivery stack creates when ci.github is configured
        (modules/ci-identity): their trust policy (the repository's OIDC subjects)
        and their permissions, exactly as the stack creates them. `read` is a
        workspace's read role (modules/ci-read-role), which the plan role assumes to
        plan it (--read-only): configuration reads only; name the workspace with
        --environment and --region (default: the delivery environment). `operator` is
        what a person running deployer needs on their own identity: the state
        bucket, the run history and assuming the environments' deploy roles.
        The notes say what a document does not grant, and why. Reads the
        configuration only; no AWS call.

        example:
          deployer iam-policy plan
          deployer iam-policy apply --json > ci-apply.json
          deployer iam-policy read --environment prod --region us-west-2
          deployer iam-policy operator
        """,
        cmd_iam_policy,
    )
    p.add_argument("role", choices=iam_policies.ROLES, help="whose documents to print")
    p.add_argument("--environment", metavar="ENV", help="read: the workspace's environment")
    p.add_argument("--region", metavar="R", help="read: the workspace's region")


def cmd_iam_policy(ctx: Context) -> int:
    args = ctx.args
    policy = iam_policies.role_policy(ctx.config, args.role, args.environment, args.region)
    ctx.reporter.result(policy.to_json(), iam_policies.render_text(policy))
    return errors.EXIT_OK
