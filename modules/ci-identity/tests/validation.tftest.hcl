# One run per validation: each input breaks exactly one rule and the run
# expects that rule to fail.

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

# --- name_prefix -----------------------------------------------------------------

run "name_prefix_invalid_characters" {
  command = plan

  variables {
    name_prefix = "Acme_Shop"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_too_long" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-service-production-eu-central-1xyz" # 56 characters
  }

  expect_failures = [var.name_prefix]
}

# --- account_id ------------------------------------------------------------------

run "account_id_not_twelve_digits" {
  command = plan

  variables {
    account_id = "11111111111"
  }

  expect_failures = [var.account_id]
}

# --- github_repository -----------------------------------------------------------

run "github_repository_without_owner" {
  command = plan

  variables {
    github_repository = "shop-platform"
  }

  expect_failures = [var.github_repository]
}

run "github_repository_wildcard" {
  command = plan

  variables {
    github_repository = "acme/*"
  }

  expect_failures = [var.github_repository]
}

# --- state -----------------------------------------------------------------------

run "state_bucket_arn" {
  command = plan

  variables {
    state = {
      bucket           = "arn:aws:s3:::acme-shop-delivery-tfstate"
      region           = "us-east-1"
      key_prefix       = "workspaces"
      run_history_path = "/deployer/runs"
    }
  }

  expect_failures = [var.state]
}

run "state_region_invalid" {
  command = plan

  variables {
    state = {
      bucket           = "acme-shop-delivery-tfstate"
      region           = "US East"
      key_prefix       = "workspaces"
      run_history_path = "/deployer/runs"
    }
  }

  expect_failures = [var.state]
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

# --- apply_branch ----------------------------------------------------------------

run "apply_branch_wildcard" {
  command = plan

  variables {
    apply_branch = "release/*"
  }

  expect_failures = [var.apply_branch]
}

# --- environments ----------------------------------------------------------------

run "environments_name_wildcard" {
  command = plan

  variables {
    environments = { "prod*" = {} }
  }

  expect_failures = [var.environments]
}

run "environments_deploy_role_not_a_role" {
  command = plan

  variables {
    environments = { prod = { deploy_role_arn = "arn:aws:iam::444444444444:root" } }
  }

  expect_failures = [var.environments]
}

# --- read_role_arns ---------------------------------------------------------------

run "read_role_arns_wildcard" {
  command = plan

  variables {
    read_role_arns = ["arn:aws:iam::333333333333:role/acme-shop-staging-ci-read-*"]
  }

  expect_failures = [var.read_role_arns]
}

# --- Limits that must still pass -------------------------------------------------

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
