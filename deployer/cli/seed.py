"""``deployer seed``: the environment's SSM parameters, written with boto3."""

from __future__ import annotations

from deployer import errors
from deployer.cli.common import Commands, Context, environment_args, secrets_arg
from deployer.errors import UsageError


def register(commands: Commands) -> None:
    p = commands.add(
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
        cmd_seed,
    )
    environment_args(p, parallel=False)
    secrets_arg(p)


def cmd_seed(ctx: Context) -> int:
    from deployer import params

    env = ctx.environment()
    if env.stack != "runtime":
        raise UsageError(f"{env.name} uses the {env.stack} stack, which has no parameters to seed")
    scopes = ctx.scopes(env)
    secrets = params.SecretValues.load(ctx.args.secrets_file)
    reports = [params.seed(scope, secrets) for scope in scopes]
    for report in reports:
        verdict = "changed" if report.changed else "nothing to change"
        ctx.reporter.progress(f"seed: {verdict}", scope=f"{env.name}-{report.region}")
    ctx.reporter.result(
        {"environment": env.name, "regions": [r.to_json() for r in reports]},
        params.seed_table(reports),
    )
    return errors.EXIT_OK
