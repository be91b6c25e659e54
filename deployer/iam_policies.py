"""The IAM policy documents of the roles that run the deployer (``deployer iam-policy``).

For teams that make roles their own way (an account factory, another IaC tool), the
documents of:

- ``plan`` and ``apply``: the GitHub Actions roles ``modules/ci-identity`` creates in the
  delivery account when ``ci.github`` is configured, exactly as the delivery stack
  creates them (``tests/unit/test_iam_policy.py`` plans the stack and compares);
- ``read``: the read role of a workspace (``modules/ci-read-role``), which the plan
  role assumes to plan it read-only (``deployer.identity``): configuration reads only;
- ``operator``: what a person running ``deployer`` needs.

Each comes with its trust policy (``plan``, ``apply``) and the notes that bound it: what
the policy does not grant and why. The documents are built from the validated
configuration and the deployer's own constants (state key prefix, run history path), so
they name exactly what the deployer touches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deployer import identity
from deployer.aws import role_arn
from deployer.config import Config
from deployer.errors import UsageError
from deployer.names import RUNTIME_STACK, role_name_of
from deployer.state import RUNS_PREFIX
from deployer.state_replica import Replica, replica_of
from deployer.workspaces import WORKSPACE_KEY_PREFIX

PLAN = "plan"
APPLY = "apply"
READ = "read"
OPERATOR = "operator"
ROLES = (PLAN, APPLY, READ, OPERATOR)

#: The read role's actions by resource type, shared with the module.
READ_ACTIONS = Path("modules") / "ci-read-role" / "actions.json"

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_AUDIENCE = "sts.amazonaws.com"
VERSION = "2012-10-17"

Document = dict[str, Any]
Statement = dict[str, Any]


@dataclass(frozen=True)
class RolePolicy:
    """One role's documents: ``trust`` is None for the operator (a person's own identity)."""

    role: str
    role_name: str | None
    role_arn: str | None
    trust: Document | None
    permissions: Document
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "role_name": self.role_name,
            "role_arn": self.role_arn,
            "trust_policy": self.trust,
            "permissions_policy": self.permissions,
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------
# What the documents name
# ---------------------------------------------------------------------------
def oidc_provider_arn(config: Config) -> str:
    """The delivery account's GitHub OIDC provider (one per account and URL)."""
    return f"arn:aws:iam::{config.delivery.account_id}:oidc-provider/{GITHUB_OIDC_HOST}"


def deploy_role_arns(config: Config, *, ci: bool = False) -> dict[str, str | None]:
    """Environment -> the role the deployer assumes there (None: the caller's credentials).

    ``ci``: the environments the delivery stack gives the apply role, the delivery
    environment and the runtime ones (``deployer.tfvars``).
    """
    return {
        name: role_arn(env.account_id, env.deploy_role_name)
        for name, env in sorted(config.environments.items())
        if not ci or env.stack == RUNTIME_STACK or name == config.delivery_environment
    }


def _state_bucket_arn(config: Config) -> str:
    return f"arn:aws:s3:::{config.state.bucket}"


def _state_objects_arn(config: Config) -> str:
    return f"{_state_bucket_arn(config)}/{WORKSPACE_KEY_PREFIX}/*"


def _run_history_arn(config: Config) -> str:
    return (
        f"arn:aws:ssm:{config.state.region}:{config.delivery.account_id}:parameter{RUNS_PREFIX}/*"
    )


def _statement(sid: str, actions: list[str] | str, resources: list[str] | str) -> Statement:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def _list_state(config: Config) -> Statement:
    # HeadBucket (the deployer's check that the bucket exists) is authorized by
    # s3:ListBucket and carries no prefix: the listing cannot be narrowed to workspaces/.
    return _statement("ListState", "s3:ListBucket", _state_bucket_arn(config))


def _run_history(config: Config, sid: str, actions: list[str] | str) -> Statement:
    return _statement(sid, actions, _run_history_arn(config))


def _assume(arns: list[str]) -> list[Statement]:
    return [_statement("AssumeDeployRoles", "sts:AssumeRole", arns)] if arns else []


def _trust(config: Config, sid: str, condition: dict[str, Any]) -> Document:
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn(config)},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        ],
    }


def _github(config: Config) -> tuple[str, str]:
    """(``repo:OWNER/REPO``, the protected branch); a usage error without ``ci.github``."""
    github = config.github(
        "the stacks create no CI roles",
        otherwise="print the operator's policy: deployer iam-policy operator",
    )
    return f"repo:{github.repository}", github.branch


def _notes_common(config: Config) -> list[str]:
    notes = [
        "Terraform state is encrypted with the AWS managed key aws/s3 (the deployer creates "
        "the bucket so), whose key policy lets the account's principals use it through S3: "
        "no KMS statement is needed. A state bucket made with a customer managed key needs "
        "kms:Decrypt (and kms:GenerateDataKey to write) on that key as well.",
    ]
    delivery = config.delivery
    if delivery.deploy_role_name:
        notes.append(
            f"The deployer reaches the state bucket and run history through the delivery "
            f"environment's role ({delivery.deploy_role_name}); the state statements here "
            "apply when it has none."
        )
    return notes


# ---------------------------------------------------------------------------
# The roles
# ---------------------------------------------------------------------------
def plan_role(config: Config) -> RolePolicy:
    """The CI plan role: pull requests and branches; state and run history read, locks."""
    repo, _ = _github(config)
    arn = config.names.delivery.ci_plan_role_arn
    trust = _trust(
        config,
        "GitHubActionsPlan",
        {
            "StringEquals": {f"{GITHUB_OIDC_HOST}:aud": GITHUB_AUDIENCE},
            "StringLike": {
                f"{GITHUB_OIDC_HOST}:sub": [f"{repo}:pull_request", f"{repo}:ref:refs/heads/*"]
            },
        },
    )
    permissions = {
        "Version": VERSION,
        "Statement": [
            _list_state(config),
            _statement("ReadState", "s3:GetObject", _state_objects_arn(config)),
            _statement(
                "StateLocks",
                ["s3:DeleteObject", "s3:PutObject"],
                f"{_state_bucket_arn(config)}/{WORKSPACE_KEY_PREFIX}/*.tflock",
            ),
            _run_history(config, "ReadRunHistory", "ssm:GetParameter"),
            *_replica_access(config, write=False),
            _statement("AssumeReadRoles", "sts:AssumeRole", read_role_arns(config)),
        ],
    }
    notes = [
        "The plan role assumes no deploy role. A deploy role can change what it reaches, and "
        "a session policy (AssumeRole's Policy or PolicyArns) is chosen by the caller: IAM has "
        "no condition key with which a role's policy or a trust policy could require one, and "
        "a pull request controls its own workflow. It assumes each workspace's read role "
        "instead (deployer iam-policy read), whose own policy reads configuration only: "
        "deployer plan --read-only and deployer drift --read-only.",
        "Jobs that plan must not name a GitHub environment: their token's subject would be "
        "environment:<name>, which only the apply role trusts.",
        *_notes_common(config),
    ]
    return RolePolicy(PLAN, role_name_of(arn), arn, trust, permissions, tuple(notes))


def apply_role(config: Config) -> RolePolicy:
    """The CI apply role: the protected branch and the environments' jobs; state, history,
    the deploy roles."""
    repo, branch = _github(config)
    arn = config.names.delivery.ci_apply_role_arn
    roles = deploy_role_arns(config, ci=True)
    subjects = [f"{repo}:ref:refs/heads/{branch}"]
    subjects += [f"{repo}:environment:{name}" for name in sorted(roles)]
    trust = _trust(
        config,
        "GitHubActionsApply",
        {
            "StringEquals": {
                f"{GITHUB_OIDC_HOST}:aud": GITHUB_AUDIENCE,
                f"{GITHUB_OIDC_HOST}:sub": subjects,
            }
        },
    )
    permissions = {
        "Version": VERSION,
        "Statement": [
            _list_state(config),
            *_write_state(config),
            *_replica_access(config, write=True),
            *_assume_deploy_roles(roles),
        ],
    }
    notes = [
        "Configure each GitHub environment to deploy from the protected branch only: a job "
        "that names an environment presents environment:<name> whatever branch it runs on.",
        *_without_role(roles),
        *_notes_common(config),
    ]
    return RolePolicy(APPLY, role_name_of(arn), arn, trust, permissions, tuple(notes))


def _write_state(config: Config) -> list[Statement]:
    return [
        _statement(
            "ReadWriteState",
            ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            _state_objects_arn(config),
        ),
        _run_history(config, "RunHistory", ["ssm:GetParameter", "ssm:PutParameter"]),
    ]


def _assume_deploy_roles(roles: dict[str, str | None]) -> list[Statement]:
    return _assume(sorted({a for a in roles.values() if a}))


def read_role_arns(config: Config) -> list[str]:
    """Every workspace's read role, as the delivery stack gives them to the plan role."""
    arns = {
        identity.read_role_arn(config, env, region.name)
        for env in config.environments.values()
        for region in env.regions
    }
    return sorted(arns)


def read_statements(config: Config, account: str) -> tuple[Statement, Statement]:
    """The read role's two statements in ``account``, from modules/ci-read-role/actions.json:
    the actions that take a resource, held to the account's ARNs (and the project's
    buckets), and those AWS authorizes on "*" only."""
    document = json.loads((config.root / READ_ACTIONS).read_text())
    every = {a for actions in document["types"].values() for a in actions}
    star = sorted(document["no_resource_level"])
    prefix = f"{config.company}-{config.service}-"
    resources = [
        "arn:aws:" + r.replace("{account}", account).replace("{bucket_prefix}", prefix)
        for r in document["resources"]
    ]
    return (
        _statement("ReadConfiguration", sorted(every - set(star)), resources),
        _statement("DescribeConfiguration", star, "*"),
    )


def read_role(
    config: Config, environment: str | None = None, region: str | None = None
) -> RolePolicy:
    """A workspace's read role (default: the delivery environment's primary region)."""
    _github(config)
    env = config.environment(environment or config.delivery_environment)
    region = env.region(region).name if region else env.primary_region
    arn = identity.read_role_arn(config, env, region)
    trust = {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "CiPlanRole",
                "Effect": "Allow",
                "Principal": {"AWS": [config.names.delivery.ci_plan_role_arn]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    permissions = {
        "Version": VERSION,
        "Statement": [
            *read_statements(config, env.account_id),
        ],
    }
    notes = [
        f"The {env.name} stack creates this role in {region} when ci.github is configured "
        "(modules/ci-read-role); the plan role assumes it to plan and check drift there.",
        "Configuration reads only: no S3 object, SSM parameter value, secret, KMS decryption, "
        "log event, image layer or source file. The actions are what Terraform's AWS provider "
        f"calls to refresh the stacks' resource types ({READ_ACTIONS}); a refresh it misses "
        "fails the plan with AccessDenied naming the action.",
    ]
    return RolePolicy(READ, role_name_of(arn), arn, trust, permissions, tuple(notes))


def _replica_state(config: Config, replica: Replica, *, write: bool) -> list[Statement]:
    """The state statements again, on the replica (deployer.state_replica): while the
    state region does not answer, state is read there (plan) and written there (apply
    with --state-replica), and the run history goes to its region's SSM."""
    bucket = f"arn:aws:s3:::{replica.bucket}"
    objects = f"{bucket}/{WORKSPACE_KEY_PREFIX}/*"
    history = f"arn:aws:ssm:{replica.region}:{config.delivery.account_id}:parameter{RUNS_PREFIX}/*"
    listing = _statement("ListStateReplica", "s3:ListBucket", bucket)
    if write:
        return [
            listing,
            _statement(
                "ReadWriteStateReplica",
                ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
                objects,
            ),
            _statement("RunHistoryReplica", ["ssm:GetParameter", "ssm:PutParameter"], history),
        ]
    return [
        listing,
        _statement("ReadStateReplica", "s3:GetObject", objects),
        _statement("StateReplicaLocks", ["s3:DeleteObject", "s3:PutObject"], f"{objects}.tflock"),
        _statement("ReadRunHistoryReplica", "ssm:GetParameter", history),
    ]


def _replica_access(config: Config, *, write: bool) -> list[Statement]:
    replica = replica_of(config)
    return _replica_state(config, replica, write=write) if replica is not None else []


def _make_replica(config: Config, replica: Replica) -> list[Statement]:
    """What making the replica needs (deployer.state_replica.ensure, on apply): the
    bucket, both buckets' replication rules, and the role S3 replicates with, which may
    be passed to S3 only."""
    return [
        _statement(
            "CreateStateReplica",
            [
                "s3:CreateBucket",
                "s3:PutBucketPublicAccessBlock",
                "s3:PutBucketVersioning",
                "s3:PutEncryptionConfiguration",
            ],
            f"arn:aws:s3:::{replica.bucket}",
        ),
        _statement(
            "StateReplication",
            ["s3:GetReplicationConfiguration", "s3:PutReplicationConfiguration"],
            [_state_bucket_arn(config), f"arn:aws:s3:::{replica.bucket}"],
        ),
        _statement(
            "StateReplicationRole",
            ["iam:CreateRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"],
            replica.role_arn,
        ),
        {
            **_statement("PassStateReplicationRole", "iam:PassRole", replica.role_arn),
            "Condition": {"StringEquals": {"iam:PassedToService": "s3.amazonaws.com"}},
        },
    ]


def operator(config: Config) -> RolePolicy:
    """What a person running ``deployer`` needs, attached to their own identity.

    With a DR region, also the state's replica (deployer.state_replica): made on apply,
    and where state is read and written while the state region does not answer."""
    bucket = _state_bucket_arn(config)
    roles = deploy_role_arns(config)
    replica = replica_of(config)
    permissions = {
        "Version": VERSION,
        "Statement": [
            _list_state(config),
            # The deployer creates the state bucket when it is missing.
            _statement(
                "CreateStateBucket",
                [
                    "s3:CreateBucket",
                    "s3:PutBucketPublicAccessBlock",
                    "s3:PutBucketVersioning",
                    "s3:PutEncryptionConfiguration",
                ],
                bucket,
            ),
            *(_make_replica(config, replica) if replica is not None else []),
            *_write_state(config),
            *_replica_access(config, write=True),
            *_assume_deploy_roles(roles),
        ],
    }
    notes = [
        "Everything else (Terraform's changes, seeding parameters, drills) runs as the "
        "environments' deploy roles.",
        *_without_role(roles),
        *_notes_common(config),
        "On the local emulator nothing more is needed: it does not evaluate IAM, and the "
        "deployer gives it test credentials.",
    ]
    if replica is not None:
        notes.append(
            f"The state's replica {replica.bucket} ({replica.region}) is made on apply: the "
            f"bucket, replication both ways, and the role {replica.role_name}, which only "
            "S3 may assume. While the state region does not answer, state is read there and, "
            f"with --state-replica, written there; the run history goes to {replica.region}'s "
            "SSM."
        )
    return RolePolicy(OPERATOR, None, None, None, permissions, tuple(notes))


def _without_role(roles: dict[str, str | None]) -> list[str]:
    missing = [name for name, arn in roles.items() if arn is None]
    if not missing:
        return []
    return [
        f"{', '.join(missing)}: no deploy_role_name, so the deployer works there with the "
        "caller's own credentials, which need that stack's permissions; this policy grants "
        "none of them."
    ]


def role_policy(
    config: Config, role: str, environment: str | None = None, region: str | None = None
) -> RolePolicy:
    """The documents of ``role`` (one of ROLES); ``read`` is per environment and region."""
    if role == READ:
        return read_role(config, environment, region)
    if environment or region:
        raise UsageError(f"--environment and --region name a read role's workspace, not {role}'s")
    builders = {PLAN: plan_role, APPLY: apply_role, OPERATOR: operator}
    try:
        return builders[role](config)
    except KeyError:
        raise UsageError(f"unknown role {role!r} (one of {', '.join(ROLES)})") from None


def render_text(policy: RolePolicy) -> str:
    """The documents as JSON under comment headings (``#``), the notes last."""

    def dump(document: Document) -> str:
        return json.dumps(document, indent=2)

    if policy.role_arn:
        lines = [f"# {policy.role}: {policy.role_arn}"]
    else:
        lines = [f"# {policy.role}: attach to the identity that runs deployer"]
    if policy.trust is not None:
        lines += ["", "# trust policy", dump(policy.trust)]
    lines += ["", "# permissions policy", dump(policy.permissions)]
    if policy.notes:
        lines += ["", "# notes"] + [f"# - {note}" for note in policy.notes]
    return "\n".join(lines)
