"""The Terraform state bucket, in the delivery account.

The deployer creates it when missing (on the emulator every time the emulator
is fresh; on AWS once per project), versioned, encrypted and private. State and
lock files live there; locking is S3-native (``use_lockfile``), no DynamoDB.
"""

from __future__ import annotations

import botocore.exceptions

from deployer.aws import ClientFactory, translate
from deployer.config import Config
from deployer.output import Reporter


def ensure_state_bucket(config: Config, clients: ClientFactory, reporter: Reporter) -> bool:
    """Create the state bucket if it does not exist. Returns True when created."""
    delivery = config.delivery
    s3 = clients.client(
        "s3",
        config.state.region,
        account_id=delivery.account_id,
        role_name=delivery.deploy_role_name,
    )
    bucket = config.state.bucket
    try:
        s3.head_bucket(Bucket=bucket)
        return False
    except botocore.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise translate(exc, f"check state bucket {bucket}") from exc
    reporter.progress(f"creating Terraform state bucket {bucket} in account {delivery.account_id}")
    try:
        kwargs: dict[str, object] = {"Bucket": bucket}
        if config.state.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": config.state.region}
        s3.create_bucket(**kwargs)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    except botocore.exceptions.ClientError as exc:
        raise translate(exc, f"create state bucket {bucket}") from exc
    return True
