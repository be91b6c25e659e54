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
  name_prefix      = "acme-shop-delivery"
  repository_names = ["api-service", "build-image"]
  pull_account_ids = ["333333333333"]
}

# One rule of each of 6 variables; the comment above each value names the rule.
run "breaks_first_rule_of_each" {
  command = plan

  variables {
    # name_prefix_uppercase
    name_prefix = "Acme-Shop-Delivery"

    # pull_account_ids_not_twelve_digits
    pull_account_ids = ["3333333333333"]

    # untagged_image_expiry_days_zero
    untagged_image_expiry_days = 0

    # max_image_count_zero
    max_image_count = 0

    # replication_regions_availability_zone
    replication_regions = ["us-west-2a"]

    # kms_key_arn_alias
    kms_key_arn = "arn:aws:kms:us-east-1:111111111111:alias/acme-shop-delivery-ecr"
  }

  expect_failures = [
    var.name_prefix,
    var.pull_account_ids,
    var.untagged_image_expiry_days,
    var.max_image_count,
    var.replication_regions,
    var.kms_key_arn,
  ]
}

# One rule of each of 6 variables; the comment above each value names the rule.
run "breaks_second_rule_of_each" {
  command = plan

  variables {
    # repository_names_empty_list
    repository_names = []

    # pull_account_ids_duplicate
    pull_account_ids = ["333333333333", "333333333333"]

    # untagged_image_expiry_days_fraction
    untagged_image_expiry_days = 2.5

    # max_image_count_fraction
    max_image_count = 9.5

    # replication_regions_duplicate
    replication_regions = ["us-west-2", "us-west-2"]

    # kms_key_arn_key_id
    kms_key_arn = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  expect_failures = [
    var.repository_names,
    var.pull_account_ids,
    var.untagged_image_expiry_days,
    var.max_image_count,
    var.replication_regions,
    var.kms_key_arn,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_third_rule_of_each" {
  command = plan

  variables {
    # repository_names_uppercase
    repository_names = ["Api-Service"]

    # replication_regions_too_many
    replication_regions = [for i in range(26) : "us-west-${i + 1}"]
  }

  expect_failures = [
    var.repository_names,
    var.replication_regions,
  ]
}

run "repository_names_empty_name" {
  command = plan

  variables {
    repository_names = ["api-service", ""]
  }

  expect_failures = [var.repository_names]
}

run "repository_names_with_slash" {
  command = plan

  variables {
    repository_names = ["team/api-service"]
  }

  expect_failures = [var.repository_names]
}

run "repository_names_duplicate" {
  command = plan

  variables {
    repository_names = ["api-service", "api-service"]
  }

  expect_failures = [var.repository_names]
}

run "repository_names_too_long" {
  command = plan

  variables {
    repository_names = [join("-", [for i in range(60) : "abcd"])] # 299 characters
  }

  expect_failures = [var.repository_names]
}

run "replication_regions_own_region" {
  command = plan

  variables {
    replication_regions = ["us-east-1"]
  }

  expect_failures = [aws_ecr_replication_configuration.this]
}

run "kms_key_arn_other_region" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  expect_failures = [aws_ecr_repository.this]
}
