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
  name_prefix        = "acme-orders-prod"
  cidr_block         = "10.40.0.0/16"
  availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
}

# One rule of each of 5 variables; the comment above each value names the rule.
run "breaks_first_rule_of_each" {
  command = plan

  variables {
    # name_prefix_uppercase
    name_prefix = "Acme-Orders-Prod"

    # cidr_block_not_a_cidr
    cidr_block = "10.40.0.0"

    # availability_zones_two
    availability_zones = ["us-east-1a", "us-east-1b"]

    # nat_gateway_mode_unknown
    nat_gateway_mode = "none"

    # flow_logs_traffic_type
    flow_logs = {
      traffic_type = "all"
    }
  }

  expect_failures = [
    var.name_prefix,
    var.cidr_block,
    var.availability_zones,
    var.nat_gateway_mode,
    var.flow_logs,
  ]
}

# One rule of each of 4 variables; the comment above each value names the rule.
run "breaks_second_rule_of_each" {
  command = plan

  variables {
    # name_prefix_trailing_hyphen
    name_prefix = "acme-orders-"

    # cidr_block_not_network_address
    cidr_block = "10.40.1.0/16"

    # availability_zones_duplicate
    availability_zones = ["us-east-1a", "us-east-1b", "us-east-1a"]

    # flow_logs_retention
    flow_logs = {
      retention_in_days = 10
    }
  }

  expect_failures = [
    var.name_prefix,
    var.cidr_block,
    var.availability_zones,
    var.flow_logs,
  ]
}

# One rule of each of 4 variables; the comment above each value names the rule.
run "breaks_third_rule_of_each" {
  command = plan

  variables {
    # name_prefix_reserved_sg
    name_prefix = "sg-orders-prod"

    # cidr_block_ipv6
    cidr_block = "2001:db8::/56"

    # availability_zones_zone_ids
    availability_zones = ["use1-az1", "use1-az2", "use1-az4"]

    # flow_logs_kms_alias
    flow_logs = {
      kms_key_arn = "arn:aws:kms:us-east-1:123456789012:alias/logs"
    }
  }

  expect_failures = [
    var.name_prefix,
    var.cidr_block,
    var.availability_zones,
    var.flow_logs,
  ]
}

# One rule of each of 3 variables; the comment above each value names the rule.
run "breaks_fourth_rule_of_each" {
  command = plan

  variables {
    # name_prefix_too_long
    name_prefix = "acme-order-fulfilment-service-production" # 40 characters

    # cidr_block_too_large
    cidr_block = "10.0.0.0/15"

    # availability_zones_mixed_regions
    availability_zones = ["us-east-1a", "us-east-1b", "us-west-2c"]
  }

  expect_failures = [
    var.name_prefix,
    var.cidr_block,
    var.availability_zones,
  ]
}

run "name_prefix_longest_allowed" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-service-productio" # 39 characters
  }

  assert {
    condition     = length(aws_iam_role.flow_logs[0].name) <= 64
    error_message = "The flow logs role name must fit the 64-character IAM limit."
  }
}

run "cidr_block_too_small" {
  command = plan

  variables {
    cidr_block = "10.40.0.0/24"
  }

  expect_failures = [var.cidr_block]
}

run "availability_zones_other_region" {
  command = plan

  variables {
    availability_zones = ["us-west-2a", "us-west-2b", "us-west-2c"]
  }

  expect_failures = [aws_vpc.this]
}
