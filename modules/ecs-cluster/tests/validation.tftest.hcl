# Each validation has a run whose input breaks that rule and no other rule of its
# variable, and expects the variable to fail (bin/check-validations checks both).
# The other modules' validation tests merge runs that break rules of different
# variables (CI time); this module validates one variable only, and a run never
# breaks two rules of one variable, so its runs stay one per case.

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
      account_id = "444444444444"
    }
  }
}

variables {
  name_prefix = "acme-shop-prod"
}

run "name_prefix_uppercase" {
  command = plan

  variables {
    name_prefix = "Acme-Shop-Prod"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_trailing_hyphen" {
  command = plan

  variables {
    name_prefix = "acme-shop-"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_too_long" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-service-producti0" # 39 characters
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_longest_allowed" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-service-producti" # 38 characters
  }

  override_data {
    target = data.aws_region.current
    values = {
      name = "ap-southeast-5" # one of the longest region names
    }
  }

  assert {
    condition     = length(aws_iam_role.codedeploy.name) == 64
    error_message = "The longest prefix in the longest region must give a 64-character role name."
  }
}
