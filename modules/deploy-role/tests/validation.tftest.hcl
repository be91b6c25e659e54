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
      account_id = "333333333333"
    }
  }
}

variables {
  name_prefix                 = "acme-shop-staging"
  trusted_role_arns           = ["arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline"]
  codedeploy_application_name = "acme-shop-staging-services"
  deployment_group_names      = ["acme-shop-staging-api-service"]
  pass_role_arns              = ["arn:aws:iam::333333333333:role/acme-shop-staging-api-task-us-east-1"]
  artifact_bucket_arns        = ["arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"]
  artifact_kms_alias_name     = "alias/acme-shop-delivery-artifacts"
  delivery_account_id         = "111111111111"
}

# One rule of each of 9 variables; the comment above each value names the rule.
run "breaks_first_rule_of_each" {
  command = plan

  variables {
    # name_prefix_uppercase
    name_prefix = "Acme-Shop-Staging"

    # trusted_role_arns_empty
    trusted_role_arns = []

    # codedeploy_application_name_invalid
    codedeploy_application_name = "acme shop services"

    # deployment_group_names_empty
    deployment_group_names = []

    # pass_role_arns_empty
    pass_role_arns = []

    # artifact_bucket_arns_empty
    artifact_bucket_arns = []

    # artifact_kms_alias_arn
    artifact_kms_alias_name = "arn:aws:kms:us-east-1:111111111111:alias/acme-shop-delivery-artifacts"

    # delivery_account_id_short
    delivery_account_id = "11111111111"

    # external_id_invalid_characters
    external_id = "acme shop"
  }

  expect_failures = [
    var.name_prefix,
    var.trusted_role_arns,
    var.codedeploy_application_name,
    var.deployment_group_names,
    var.pass_role_arns,
    var.artifact_bucket_arns,
    var.artifact_kms_alias_name,
    var.delivery_account_id,
    var.external_id,
  ]
}

# One rule of each of 7 variables; the comment above each value names the rule.
run "breaks_second_rule_of_each" {
  command = plan

  variables {
    # name_prefix_too_long
    name_prefix = "acme-order-fulfilment-service-production-12" # 43 characters

    # trusted_role_arns_account_root
    trusted_role_arns = ["arn:aws:iam::111111111111:root"]

    # deployment_group_names_invalid
    deployment_group_names = ["acme-shop-staging/api-service"]

    # pass_role_arns_user
    pass_role_arns = ["arn:aws:iam::333333333333:user/deployer"]

    # artifact_bucket_arns_object_path
    artifact_bucket_arns = ["arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1/*"]

    # artifact_kms_alias_aws_managed
    artifact_kms_alias_name = "alias/aws/s3"

    # external_id_too_short
    external_id = "a"
  }

  expect_failures = [
    var.name_prefix,
    var.trusted_role_arns,
    var.deployment_group_names,
    var.pass_role_arns,
    var.artifact_bucket_arns,
    var.artifact_kms_alias_name,
    var.external_id,
  ]
}

# One rule of each of 5 variables; the comment above each value names the rule.
run "breaks_third_rule_of_each" {
  command = plan

  variables {
    # trusted_role_arns_wildcard
    trusted_role_arns = ["arn:aws:iam::111111111111:role/*"]

    # deployment_group_names_twice
    deployment_group_names = ["acme-shop-staging-api-service", "acme-shop-staging-api-service"]

    # pass_role_arns_twice
    pass_role_arns = ["arn:aws:iam::333333333333:role/acme-shop-staging-api-task-us-east-1", "arn:aws:iam::333333333333:role/acme-shop-staging-api-task-us-east-1"]

    # artifact_bucket_arns_twice
    artifact_bucket_arns = ["arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1", "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"]

    # external_id_too_long
    external_id = format("%s%s", join("", [for i in range(1000) : "a"]), join("", [for i in range(225) : "b"])) # 1225 characters
  }

  expect_failures = [
    var.trusted_role_arns,
    var.deployment_group_names,
    var.pass_role_arns,
    var.artifact_bucket_arns,
    var.external_id,
  ]
}

run "trusted_role_arns_role_name" {
  command = plan

  variables {
    trusted_role_arns = ["acme-shop-delivery-pipeline"]
  }

  expect_failures = [var.trusted_role_arns]
}

run "trusted_role_arns_twice" {
  command = plan

  variables {
    trusted_role_arns = ["arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline", "arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline"]
  }

  expect_failures = [var.trusted_role_arns]
}

run "name_prefix_longest_allowed" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-service-production-1" # 42 characters
  }

  # The longest region name (14 characters).
  override_data {
    target = data.aws_region.current
    values = {
      name = "ap-southeast-3"
    }
  }

  assert {
    condition     = length(aws_iam_role.this.name) == 64
    error_message = "A 42-character prefix must give a role name of exactly 64 characters in the longest region."
  }
}
