"""logs_kms_key_association."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ._helpers import status, unique
from .conftest import Server

KEY = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def test_kms_key_can_be_associated_and_removed(patched: Server, stock: Server) -> None:
    logs = patched.client("logs")
    name = unique("/flow-logs")
    logs.create_log_group(logGroupName=name)
    logs.associate_kms_key(logGroupName=name, kmsKeyId=KEY)
    (found,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert found["kmsKeyId"] == KEY
    logs.disassociate_kms_key(logGroupName=name)
    (found,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert "kmsKeyId" not in found
    with pytest.raises(ClientError):
        logs.associate_kms_key(logGroupName=name + "-missing", kmsKeyId=KEY)

    stock_logs = stock.client("logs")
    stock_logs.create_log_group(logGroupName=name)
    with pytest.raises(ClientError) as excinfo:
        stock_logs.associate_kms_key(logGroupName=name, kmsKeyId=KEY)
    assert status(excinfo) >= 500
