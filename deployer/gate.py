"""The plan gate: what a plan would do to stateful resources.

In protected environments (an environment's ``protected``; by default the
delivery environment and the pipeline's staging and production environments)
the deployer refuses a plan that deletes or replaces a stateful resource
(artifact bucket, ECR repositories, KMS keys, log groups, CodeCommit repositories,
Route 53 hosted zones) unless the user names
each such address with ``--allow-destroy``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

STATEFUL_TYPES = frozenset(
    {
        "aws_s3_bucket",
        "aws_ecr_repository",
        "aws_kms_key",
        "aws_cloudwatch_log_group",
        "aws_dynamodb_table",
        "aws_codecommit_repository",
        # A zone made again gets other name servers: the parent domain's delegation breaks.
        "aws_route53_zone",
    }
)


@dataclass(frozen=True)
class Change:
    address: str
    type: str
    actions: tuple[str, ...]

    @property
    def verb(self) -> str:
        if "delete" in self.actions and "create" in self.actions:
            return "replace"
        if "delete" in self.actions:
            return "delete"
        if "create" in self.actions:
            return "create"
        if "update" in self.actions:
            return "update"
        return "no-op"


def destructive_stateful(changes: Iterable[Change]) -> list[Change]:
    """Changes that delete or replace a stateful resource."""
    return [c for c in changes if c.type in STATEFUL_TYPES and "delete" in c.actions]


def refused(changes: Iterable[Change], allowed: Iterable[str]) -> list[Change]:
    """Destructive stateful changes the user has not allowed by address."""
    allowed_set = set(allowed)
    return [c for c in destructive_stateful(changes) if c.address not in allowed_set]
