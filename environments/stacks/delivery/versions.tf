terraform {
  # 1.10: S3 native state locking (use_lockfile).
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }

  # Settings come from the deployer (-backend-config): the delivery account's
  # state bucket, key workspaces/<env>-<region>/delivery.tfstate, use_lockfile.
  backend "s3" {}
}
