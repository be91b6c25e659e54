# One run per validation (and per precondition): each input breaks exactly
# one rule and the run expects that rule to fail.

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

# --- name_prefix -------------------------------------------------------------

run "name_prefix_uppercase" {
  command = plan

  variables {
    name_prefix = "Acme-Orders-Prod"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_trailing_hyphen" {
  command = plan

  variables {
    name_prefix = "acme-orders-"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_reserved_sg" {
  command = plan

  variables {
    name_prefix = "sg-orders-prod"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_too_long" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-service-production" # 40 characters
  }

  expect_failures = [var.name_prefix]
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

# --- cidr_block --------------------------------------------------------------

run "cidr_block_not_a_cidr" {
  command = plan

  variables {
    cidr_block = "10.40.0.0"
  }

  expect_failures = [var.cidr_block]
}

run "cidr_block_not_network_address" {
  command = plan

  variables {
    cidr_block = "10.40.1.0/16"
  }

  expect_failures = [var.cidr_block]
}

run "cidr_block_ipv6" {
  command = plan

  variables {
    cidr_block = "2001:db8::/56"
  }

  expect_failures = [var.cidr_block]
}

run "cidr_block_too_large" {
  command = plan

  variables {
    cidr_block = "10.0.0.0/15"
  }

  expect_failures = [var.cidr_block]
}

run "cidr_block_too_small" {
  command = plan

  variables {
    cidr_block = "10.40.0.0/24"
  }

  expect_failures = [var.cidr_block]
}

# --- availability_zones ------------------------------------------------------

run "availability_zones_two" {
  command = plan

  variables {
    availability_zones = ["us-east-1a", "us-east-1b"]
  }

  expect_failures = [var.availability_zones]
}

run "availability_zones_duplicate" {
  command = plan

  variables {
    availability_zones = ["us-east-1a", "us-east-1b", "us-east-1a"]
  }

  expect_failures = [var.availability_zones]
}

run "availability_zones_zone_ids" {
  command = plan

  variables {
    availability_zones = ["use1-az1", "use1-az2", "use1-az4"]
  }

  expect_failures = [var.availability_zones]
}

run "availability_zones_mixed_regions" {
  command = plan

  variables {
    availability_zones = ["us-east-1a", "us-east-1b", "us-west-2c"]
  }

  expect_failures = [var.availability_zones]
}

run "availability_zones_other_region" {
  command = plan

  variables {
    availability_zones = ["us-west-2a", "us-west-2b", "us-west-2c"]
  }

  expect_failures = [aws_vpc.this]
}

# --- nat_gateway_mode --------------------------------------------------------

run "nat_gateway_mode_unknown" {
  command = plan

  variables {
    nat_gateway_mode = "none"
  }

  expect_failures = [var.nat_gateway_mode]
}

# --- flow_logs ---------------------------------------------------------------

run "flow_logs_traffic_type" {
  command = plan

  variables {
    flow_logs = {
      traffic_type = "all"
    }
  }

  expect_failures = [var.flow_logs]
}

run "flow_logs_retention" {
  command = plan

  variables {
    flow_logs = {
      retention_in_days = 10
    }
  }

  expect_failures = [var.flow_logs]
}

run "flow_logs_kms_alias" {
  command = plan

  variables {
    flow_logs = {
      kms_key_arn = "arn:aws:kms:us-east-1:123456789012:alias/logs"
    }
  }

  expect_failures = [var.flow_logs]
}
