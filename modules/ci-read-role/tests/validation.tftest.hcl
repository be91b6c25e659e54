# Each validation of the module, broken alone (tests/unit/test_validation_mutants.py,
# bin/check-validations): the run expects exactly its variable to fail.

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

run "name_prefix_uppercase" {
  command = plan
  variables {
    name_prefix = "Acme-shop-staging"
  }
  expect_failures = [var.name_prefix]
}

run "name_prefix_too_long" {
  command = plan
  variables {
    name_prefix = "acme-shop-a-very-long-environment-name-xyz" # 42 characters
  }
  expect_failures = [var.name_prefix]
}

run "account_id_not_12_digits" {
  command = plan
  variables {
    account_id = "3333"
  }
  expect_failures = [var.account_id]
}

run "trusted_role_arns_empty" {
  command = plan
  variables {
    trusted_role_arns = []
  }
  expect_failures = [var.trusted_role_arns]
}

run "trusted_role_arns_root" {
  command = plan
  variables {
    trusted_role_arns = ["arn:aws:iam::111111111111:root"]
  }
  expect_failures = [var.trusted_role_arns]
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

run "bucket_name_prefix_wildcard" {
  command = plan
  variables {
    bucket_name_prefix = "acme-*"
  }
  expect_failures = [var.bucket_name_prefix]
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
