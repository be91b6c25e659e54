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

mock_provider "aws" {}

variables {
  name_prefix       = "acme-shop-delivery"
  account_id        = "111111111111"
  github_repository = "acme/shop-platform"
  state = {
    bucket           = "acme-shop-delivery-tfstate"
    region           = "us-east-1"
    key_prefix       = "workspaces"
    run_history_path = "/deployer/runs"
  }
}

# One rule of each of 7 variables; the comment above each value names the rule.
run "breaks_first_rule_of_each" {
  command = plan

  variables {
    # name_prefix_invalid_characters
    name_prefix = "Acme_Shop"

    # account_id_not_twelve_digits
    account_id = "11111111111"

    # github_repository_without_owner
    github_repository = "shop-platform"

    # state_bucket_arn
    state = {
      bucket           = "arn:aws:s3:::acme-shop-delivery-tfstate"
      region           = "us-east-1"
      key_prefix       = "workspaces"
      run_history_path = "/deployer/runs"
    }

    # apply_branch_wildcard
    apply_branch = "release/*"

    # environments_name_wildcard
    environments = { "prod*" = {} }

    # read_role_arns_wildcard
    read_role_arns = ["arn:aws:iam::333333333333:role/acme-shop-staging-ci-read-*"]
  }

  expect_failures = [
    var.name_prefix,
    var.account_id,
    var.github_repository,
    var.state,
    var.apply_branch,
    var.environments,
    var.read_role_arns,
  ]
}

# One rule of each of 4 variables; the comment above each value names the rule.
run "breaks_second_rule_of_each" {
  command = plan

  variables {
    # name_prefix_too_long
    name_prefix = "acme-order-fulfilment-service-production-eu-central-1xyz" # 56 characters

    # github_repository_wildcard
    github_repository = "acme/*"

    # state_region_invalid
    state = {
      bucket           = "acme-shop-delivery-tfstate"
      region           = "US East"
      key_prefix       = "workspaces"
      run_history_path = "/deployer/runs"
    }

    # environments_deploy_role_not_a_role
    environments = { prod = { deploy_role_arn = "arn:aws:iam::444444444444:root" } }
  }

  expect_failures = [
    var.name_prefix,
    var.github_repository,
    var.state,
    var.environments,
  ]
}

run "state_key_prefix_wildcard" {
  command = plan

  variables {
    state = {
      bucket           = "acme-shop-delivery-tfstate"
      region           = "us-east-1"
      key_prefix       = "workspaces/*"
      run_history_path = "/deployer/runs"
    }
  }

  expect_failures = [var.state]
}

run "state_run_history_path_relative" {
  command = plan

  variables {
    state = {
      bucket           = "acme-shop-delivery-tfstate"
      region           = "us-east-1"
      key_prefix       = "workspaces"
      run_history_path = "deployer/runs"
    }
  }

  expect_failures = [var.state]
}

run "name_prefix_longest_allowed" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-service-production-eu-central-1xy" # 55 characters
  }

  assert {
    condition     = length(aws_iam_role.apply.name) == 64
    error_message = "A 55-character prefix must give an apply role name of exactly 64 characters."
  }
}
