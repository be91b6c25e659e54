"""The IAM policy checker catches what the project's IAM rule forbids."""

from __future__ import annotations

import json
from typing import Any

from tests import policies


def plan_with(kind: str, attribute: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    doc = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return {
        "prior_state": {
            "values": {
                "root_module": {
                    "child_modules": [
                        {
                            "resources": [
                                {
                                    "address": f"module.x.{kind}.this",
                                    "mode": "managed",
                                    "type": kind,
                                    "values": {attribute: doc},
                                }
                            ]
                        }
                    ]
                }
            }
        }
    }


def audit(kind: str, attribute: str, *statements: dict[str, Any]) -> list[str]:
    count, found = policies.audit(plan_with(kind, attribute, list(statements)))
    assert count == 1
    return found


def test_wildcard_actions_in_allow_are_refused() -> None:
    for action in ("*", "s3:*", "kms:GenerateDataKey*"):
        statement = {"Effect": "Allow", "Action": action, "Resource": "arn:aws:s3:::b"}
        found = audit("aws_iam_policy", "policy", statement)
        assert found == [
            f"module.x.aws_iam_policy.this (policy) statement 0: wildcard action {action!r}"
        ]


def test_wildcard_in_a_deny_is_allowed() -> None:
    assert audit("aws_s3_bucket_policy", "policy", {
        "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }) == []  # fmt: skip


def test_star_resource_only_for_apis_without_resource_level_permissions() -> None:
    ok = {"Sid": "Token", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
          "Resource": "*"}  # fmt: skip
    bad = {"Sid": "Objects", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    assert audit("aws_iam_role_policy", "policy", ok) == []
    assert audit("aws_iam_role_policy", "policy", bad) == [
        "module.x.aws_iam_role_policy.this (policy) statement Objects: s3:GetObject supports "
        "resource-level permissions, yet the resource is *"
    ]


def test_key_policies_may_use_star_for_this_key() -> None:
    statement = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                 "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}  # fmt: skip
    assert audit("aws_kms_key", "policy", statement) == []


def test_trusting_everyone_without_a_condition_is_refused() -> None:
    statement = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    found = audit("aws_iam_role", "assume_role_policy", statement)
    assert found == [
        "module.x.aws_iam_role.this (assume_role_policy) statement 0: allows every principal "
        "without a condition"
    ]


def test_unknown_actions_on_star_are_reported() -> None:
    statement = {"Effect": "Allow", "Action": "ecs:MakeCoffee", "Resource": "*"}
    found = audit("aws_iam_policy", "policy", statement)
    assert found == [
        "module.x.aws_iam_policy.this (policy) statement 0: unknown action 'ecs:MakeCoffee' on "
        "resource *"
    ]
