"""CloudWatch Logs: AssociateKmsKey and DisassociateKmsKey.

On AWS a log group's KMS key can be set or removed after creation. moto 5.2.5
only accepts the key at CreateLogGroup and does not route the two actions
(HTTP 500), so ``aws_cloudwatch_log_group`` fails whenever ``kms_key_id`` is
added to or removed from an existing group: an ordinary in-place update.
"""

from __future__ import annotations

from typing import Any

from ._util import replace

GAP = (
    "CloudWatch Logs AssociateKmsKey/DisassociateKmsKey are not implemented: adding or "
    "removing kms_key_id on an existing aws_cloudwatch_log_group fails with HTTP 500."
)


def apply() -> None:
    from moto.logs.exceptions import ResourceNotFoundException
    from moto.logs.responses import LogsResponse

    def group(response: Any) -> Any:
        name = response._get_param("logGroupName")
        groups = response.logs_backend.groups
        if name not in groups:
            raise ResourceNotFoundException()
        return groups[name]

    def associate_factory(original: Any) -> Any:
        def associate_kms_key(self: Any) -> str:
            group(self).kms_key_id = self._get_param("kmsKeyId")
            return ""

        return associate_kms_key

    def disassociate_factory(original: Any) -> Any:
        def disassociate_kms_key(self: Any) -> str:
            group(self).kms_key_id = None
            return ""

        return disassociate_kms_key

    replace(LogsResponse, "associate_kms_key", associate_factory)
    replace(LogsResponse, "disassociate_kms_key", disassociate_factory)
