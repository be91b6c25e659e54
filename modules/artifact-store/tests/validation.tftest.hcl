# Each validation has a run whose input breaks that rule and no other rule of its
# variable, and expects the variable to fail (bin/check-validations checks both).
# To start fewer plans (CI time: each run starts the provider twice), one run breaks
# a rule of each of several variables and expects all of them to fail: Terraform
# fails a run when a listed variable does not, so deleting any rule still fails its
# run. In "breaks_<first|second|...>_rule_of_each" the comment above each value names
# the rule it breaks (the name of the run that broke it alone before). Never two rules
# of one variable in one run, nor a variable together with one its validations read,
# directly or through another (Terraform then skips all of its validations); runs with
# assertions, overrides or preconditions stay on their own.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111111111111"
    }
  }
}

variables {
  name_prefix            = "acme-shop-delivery"
  deployment_account_ids = ["333333333333", "444444444444"]
}

# One rule of each of 6 variables; the comment above each value names the rule.
run "breaks_first_rule_of_each" {
  command = plan

  variables {
    # name_prefix_uppercase
    name_prefix = "Acme-Shop-Delivery"

    # deployment_account_ids_not_twelve_digits
    deployment_account_ids = ["33333333333"]

    # artifact_retention_days_zero
    artifact_retention_days = 0

    # noncurrent_version_retention_days_zero
    noncurrent_version_retention_days = 0

    # kms_service_principals_unknown
    kms_service_principals = ["logs", "codepipeline"]

    # key_deletion_window_days_too_short
    key_deletion_window_days = 6
  }

  expect_failures = [
    var.name_prefix,
    var.deployment_account_ids,
    var.artifact_retention_days,
    var.noncurrent_version_retention_days,
    var.kms_service_principals,
    var.key_deletion_window_days,
  ]
}

# One rule of each of 6 variables; the comment above each value names the rule.
run "breaks_second_rule_of_each" {
  command = plan

  variables {
    # name_prefix_double_hyphen
    name_prefix = "acme--delivery"

    # deployment_account_ids_arn
    deployment_account_ids = ["arn:aws:iam::333333333333:root"]

    # artifact_retention_days_fraction
    artifact_retention_days = 1.5

    # noncurrent_version_retention_days_fraction
    noncurrent_version_retention_days = 0.5

    # kms_service_principals_duplicate
    kms_service_principals = ["logs", "logs"]

    # key_deletion_window_days_too_long
    key_deletion_window_days = 31
  }

  expect_failures = [
    var.name_prefix,
    var.deployment_account_ids,
    var.artifact_retention_days,
    var.noncurrent_version_retention_days,
    var.kms_service_principals,
    var.key_deletion_window_days,
  ]
}

# One rule of each of 3 variables; the comment above each value names the rule.
run "breaks_third_rule_of_each" {
  command = plan

  variables {
    # name_prefix_reserved_s3_prefix
    name_prefix = "sthree-shop-delivery"

    # deployment_account_ids_duplicate
    deployment_account_ids = ["333333333333", "333333333333"]

    # key_deletion_window_days_fraction
    key_deletion_window_days = 10.5
  }

  expect_failures = [
    var.name_prefix,
    var.deployment_account_ids,
    var.key_deletion_window_days,
  ]
}

run "name_prefix_reserved_s3_prefix_exact" {
  command = plan

  variables {
    name_prefix = "amzn-s3-demo" # the bucket would be amzn-s3-demo-artifacts-...
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_too_long" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-services-delivery" # 39 characters
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_longest_allowed" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-service-delivery" # 38 characters
  }

  override_data {
    target = data.aws_region.current
    values = {
      name = "ap-southeast-2" # one of the longest region names
    }
  }

  assert {
    condition     = length(aws_s3_bucket.this.bucket) == 63
    error_message = "The longest prefix must give a bucket name of exactly 63 characters in a 14-character region."
  }
}
