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
      account_id = "123456789012"
    }
  }
}

variables {
  name_prefix = "acme-shop-prod"
  name        = "logs"
  description = "CloudWatch Logs of acme-shop-prod"
}

# One rule of each of 6 variables; the comment above each value names the rule.
run "breaks_first_rule_of_each" {
  command = plan

  variables {
    # name_prefix_uppercase
    name_prefix = "Acme-Shop-Prod"

    # description_empty
    description = " "

    # service_principals_unknown
    service_principals = ["logs", "s3"]

    # user_role_arns_account_root
    user_role_arns = ["arn:aws:iam::123456789012:root"]

    # account_ids_not_an_account_id
    account_ids = ["33333333333"] # 11 digits

    # deletion_window_days_too_short
    deletion_window_days = 6
  }

  expect_failures = [
    var.name_prefix,
    var.description,
    var.service_principals,
    var.user_role_arns,
    var.account_ids,
    var.deletion_window_days,
  ]
}

# One rule of each of 5 variables; the comment above each value names the rule.
run "breaks_second_rule_of_each" {
  command = plan

  variables {
    # name_with_slash
    name = "logs/app"

    # user_role_arns_role_name
    user_role_arns = ["acme-shop-prod-api-task-us-east-1"]

    # account_ids_account_root
    account_ids = ["arn:aws:iam::333333333333:root"]

    # usage_via_service_unknown
    usage_via_service = "s3"

    # deletion_window_days_too_long
    deletion_window_days = 31
  }

  expect_failures = [
    var.name,
    var.user_role_arns,
    var.account_ids,
    var.usage_via_service,
    var.deletion_window_days,
  ]
}

# One rule of each of 5 variables; the comment above each value names the rule.
run "breaks_third_rule_of_each" {
  command = plan

  variables {
    # name_alias_too_long
    name = join("-", [for i in range(50) : "abcd"]) # 249 characters

    # service_principals_full_principal
    service_principals = ["logs.us-east-1.amazonaws.com"]

    # user_role_arns_duplicate
    user_role_arns = [
      "arn:aws:iam::123456789012:role/acme-shop-prod-api-task-us-east-1",
      "arn:aws:iam::123456789012:role/acme-shop-prod-api-task-us-east-1",
    ]

    # account_ids_duplicate
    account_ids = ["333333333333", "333333333333"]

    # deletion_window_days_fraction
    deletion_window_days = 7.5
  }

  expect_failures = [
    var.name,
    var.service_principals,
    var.user_role_arns,
    var.account_ids,
    var.deletion_window_days,
  ]
}

run "service_principals_duplicate" {
  command = plan

  variables {
    service_principals = ["sns", "sns"]
  }

  expect_failures = [var.service_principals]
}

run "usage_via_service_full_endpoint" {
  command = plan

  variables {
    usage_via_service = "ssm.us-east-1.amazonaws.com"
  }

  expect_failures = [var.usage_via_service]
}

run "usage_via_service_with_service_principals" {
  command = plan

  variables {
    usage_via_service  = "ssm"
    service_principals = ["sns"]
  }

  expect_failures = [var.usage_via_service]
}
