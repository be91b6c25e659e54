"""IAM: AWS managed policies exist in every account.

On AWS, ``arn:aws:iam::aws:policy/...`` managed policies (for example
service-role/AmazonECSTaskExecutionRolePolicy, AWSCodeDeployRoleForECS,
service-role/AWSLambdaBasicExecutionRole) can be attached to any role. moto
5.2.5 only loads them when MOTO_IAM_LOAD_MANAGED_POLICIES=true (off by
default), so ``aws_iam_role_policy_attachment`` of a managed policy fails with
"NoSuchEntity: Policy ... does not exist or is not attachable". This patch
makes the IAM backends load moto's bundled copy of the AWS managed policies
(about 0.07 s per account).
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "IAM AWS managed policies are not loaded: attaching one fails with "
    "'NoSuchEntity: Policy ... does not exist or is not attachable'."
)


def apply() -> None:
    from moto.iam import models

    def loader_factory(_original: Any) -> Any:
        def load_iam_aws_managed_policies() -> bool:
            return True

        return load_iam_aws_managed_policies

    replace(models, "load_iam_aws_managed_policies", loader_factory)
