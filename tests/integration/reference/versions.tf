# Reference configuration: every resource type of the platform design, in one
# root module. It is applied to the local emulator by
# tests/integration/test_reference.py and bench/emulator_apply, and is written
# as it would run on AWS: the only emulator-specific inputs are the provider
# settings below, which are variables.

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 5.100.0"
    }
  }
}

provider "aws" {
  region                      = var.region
  s3_use_path_style           = var.s3_use_path_style
  skip_credentials_validation = var.skip_credentials_validation
  skip_metadata_api_check     = var.skip_metadata_api_check
  max_retries                 = var.max_retries

  default_tags {
    tags = local.tags
  }
}

# The same region, in a second account (the workload account of the design),
# reached by assuming a role there.
provider "aws" {
  alias                       = "workload"
  region                      = var.region
  s3_use_path_style           = var.s3_use_path_style
  skip_credentials_validation = var.skip_credentials_validation
  skip_metadata_api_check     = var.skip_metadata_api_check
  max_retries                 = var.max_retries

  assume_role {
    role_arn     = "arn:aws:iam::${var.workload_account_id}:role/${var.workload_role_name}"
    session_name = "delivery-platform-reference"
  }

  default_tags {
    tags = local.tags
  }
}
