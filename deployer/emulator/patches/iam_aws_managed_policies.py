"""IAM: AWS managed policies exist in every account.

On AWS, ``arn:aws:iam::aws:policy/...`` managed policies (for example
service-role/AmazonECSTaskExecutionRolePolicy, AWSCodeDeployRoleForECS,
service-role/AWSLambdaBasicExecutionRole) can be attached to any role. moto
5.2.5 only loads them when MOTO_IAM_LOAD_MANAGED_POLICIES=true (off by
default), so ``aws_iam_role_policy_attachment`` of a managed policy fails with
"NoSuchEntity: Policy ... does not exist or is not attachable". This patch
makes the IAM backends load moto's bundled copy of the AWS managed policies.

Each IAM backend still gets its own ~1,600 policy objects (attachment counts are
the account's, as on AWS), built as moto's ``AWSManagedPolicy.from_data`` builds
them. moto parses its bundled JSON, serialises each policy document and parses
its dates again for every backend: 0.12-0.15 s of CPU each (measured), a dozen
times a ``mock_aws`` start or reset (one backend per account and partition,
built again by a reset). Here that work is done once per process
(:func:`_bundled`, about 0.1 s); building one backend's objects from it takes
about 0.02 s, and is done at the backend's first use of its policies: moto makes
the IAM backend of every partition of an account to look up any request's
access key, and most of them never read a policy.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from ._util import replace

GAP = (
    "IAM AWS managed policies are not loaded: attaching one fails with "
    "'NoSuchEntity: Policy ... does not exist or is not attachable'."
)


#: Where an IAM backend keeps its AWS managed policies and its policy table (ARN to
#: policy, customer managed ones included) once made.
_AWS = "_deployer_aws_managed_policies"
_ALL = "_deployer_managed_policies"


class _Bundled(NamedTuple):
    """One bundled AWS managed policy, as ``AWSManagedPolicy.from_data`` reads it."""

    name: str
    default_version_id: str | None
    path: str | None
    document: str
    create_date: datetime
    update_date: datetime


@functools.cache
def _bundled() -> tuple[_Bundled, ...]:
    """moto's bundled AWS managed policies, parsed once per process.

    Every field is immutable (strings, datetimes), so the backends can share them.
    """
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return tuple(
        _Bundled(
            name=name,
            default_version_id=data.get("DefaultVersionId"),
            path=data.get("Path"),
            document=json.dumps(data.get("Document")),
            create_date=datetime.fromisoformat(data["CreateDate"]),
            update_date=datetime.fromisoformat(data["UpdateDate"]),
        )
        for name, data in json.loads(aws_managed_policies_data).items()
    )


def build(account_id: str, region_name: str) -> list[Any]:
    """One IAM backend's own AWS managed policy objects, as moto 5.2.5's
    ``IAMBackend._init_aws_policies`` builds them when loading is on."""
    from moto.iam.models import AWSManagedPolicy

    policy_class: Any = AWSManagedPolicy  # abstract to mypy (CloudFormation hooks)
    return [
        policy_class(
            policy.name,
            account_id=account_id,
            region=region_name,
            default_version_id=policy.default_version_id,
            path=policy.path,
            document=policy.document,
            create_date=policy.create_date,
            update_date=policy.update_date,
        )
        for policy in _bundled()
    ]


def apply() -> None:
    from moto.iam import models as iam_models

    models: Any = iam_models  # its settings functions are not re-exported to mypy
    lock = threading.Lock()

    def materialize(backend: Any) -> None:
        """The backend's AWS managed policies and its policy table, made at first use."""
        with lock:
            found = backend.__dict__
            if found.get(_AWS) is None:
                load = models.load_iam_aws_managed_policies()
                found[_AWS] = build(backend.account_id, backend.region_name) if load else []
            if found.get(_ALL) is None:
                found[_ALL] = {policy.arn: policy for policy in found[_AWS]}

    def lazy(stored: str) -> Callable[[Any], property]:
        def factory(_original: Any) -> property:
            def get(self: Any) -> Any:
                if self.__dict__.get(stored) is None:
                    materialize(self)
                return self.__dict__[stored]

            def put(self: Any, value: Any) -> None:
                self.__dict__[stored] = value  # None (from __init__): made at first use

            return property(get, put)

        return factory

    def loader_factory(_original: Any) -> Any:
        def load_iam_aws_managed_policies() -> bool:
            return True

        return load_iam_aws_managed_policies

    def later(_original: Any) -> Any:
        def init(self: Any) -> None:
            return None

        return init

    replace(models, "load_iam_aws_managed_policies", loader_factory)
    replace(models.IAMBackend, "_init_aws_policies", later)
    replace(models.IAMBackend, "_init_managed_policies", later)
    replace(models.IAMBackend, "aws_managed_policies", lazy(_AWS))
    replace(models.IAMBackend, "managed_policies", lazy(_ALL))
