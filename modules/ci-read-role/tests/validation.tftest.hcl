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
  override_during = plan

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
}

variables {
  name_prefix        = "acme-shop-staging"
  account_id         = "333333333333"
  trusted_role_arns  = ["arn:aws:iam::111111111111:role/acme-shop-delivery-ci-plan"]
  bucket_name_prefix = "acme-shop-"
}

# One rule of each of 4 variables; the comment above each value names the rule.
run "breaks_first_rule_of_each" {
  command = plan

  variables {
    # name_prefix_uppercase
    name_prefix = "Acme-shop-staging"

    # account_id_not_12_digits
    account_id = "3333"

    # trusted_role_arns_empty
    trusted_role_arns = []

    # bucket_name_prefix_wildcard
    bucket_name_prefix = "acme-*"
  }

  expect_failures = [
    var.name_prefix,
    var.account_id,
    var.trusted_role_arns,
    var.bucket_name_prefix,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_second_rule_of_each" {
  command = plan

  variables {
    # name_prefix_too_long
    name_prefix = "acme-shop-a-very-long-environment-name-xyz" # 42 characters

    # trusted_role_arns_root
    trusted_role_arns = ["arn:aws:iam::111111111111:root"]
  }

  expect_failures = [
    var.name_prefix,
    var.trusted_role_arns,
  ]
}

run "trusted_role_arns_twice" {
  command = plan
  variables {
    trusted_role_arns = [
      "arn:aws:iam::111111111111:role/acme-shop-delivery-ci-plan",
      "arn:aws:iam::111111111111:role/acme-shop-delivery-ci-plan",
    ]
  }
  expect_failures = [var.trusted_role_arns]
}

# The longest prefix still fits: 41 characters, and 14 for the longest region name.
run "name_prefix_longest_allowed" {
  command = plan
  variables {
    name_prefix = "acme-shop-a-very-long-environment-name-xy"
  }
  assert {
    condition     = length(aws_iam_role.this.name) + length("ap-southeast-2") - length("us-east-1") == 64
    error_message = "A 41-character prefix must give a role name of 64 characters in the longest region."
  }
}
