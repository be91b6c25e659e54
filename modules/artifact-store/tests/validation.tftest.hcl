# One run per validation: each input breaks exactly one rule and the run
# expects that rule to fail.

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
  name_prefix            = "acme-shop-delivery"
  deployment_account_ids = ["333333333333", "444444444444"]
}

# --- name_prefix -------------------------------------------------------------

run "name_prefix_uppercase" {
  command = plan

  variables {
    name_prefix = "Acme-Shop-Delivery"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_double_hyphen" {
  command = plan

  variables {
    name_prefix = "acme--delivery"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_reserved_s3_prefix" {
  command = plan

  variables {
    name_prefix = "sthree-shop-delivery"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_reserved_s3_prefix_exact" {
  command = plan

  variables {
    name_prefix = "amzn-s3-demo" # the bucket would be amzn-s3-demo-artifacts-...
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_too_long" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-services-delivery" # 39 characters
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_longest_allowed" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-service-delivery" # 38 characters
  }

  override_data {
    target = data.aws_region.current
    values = {
      name = "ap-southeast-2" # one of the longest region names
    }
  }

  assert {
    condition     = length(aws_s3_bucket.this.bucket) == 63
    error_message = "The longest prefix must give a bucket name of exactly 63 characters in a 14-character region."
  }
}

# --- deployment_account_ids --------------------------------------------------

run "deployment_account_ids_not_twelve_digits" {
  command = plan

  variables {
    deployment_account_ids = ["33333333333"]
  }

  expect_failures = [var.deployment_account_ids]
}

run "deployment_account_ids_arn" {
  command = plan

  variables {
    deployment_account_ids = ["arn:aws:iam::333333333333:root"]
  }

  expect_failures = [var.deployment_account_ids]
}

run "deployment_account_ids_duplicate" {
  command = plan

  variables {
    deployment_account_ids = ["333333333333", "333333333333"]
  }

  expect_failures = [var.deployment_account_ids]
}

# --- retention ---------------------------------------------------------------

run "artifact_retention_days_zero" {
  command = plan

  variables {
    artifact_retention_days = 0
  }

  expect_failures = [var.artifact_retention_days]
}

run "artifact_retention_days_fraction" {
  command = plan

  variables {
    artifact_retention_days = 1.5
  }

  expect_failures = [var.artifact_retention_days]
}

run "noncurrent_version_retention_days_zero" {
  command = plan

  variables {
    noncurrent_version_retention_days = 0
  }

  expect_failures = [var.noncurrent_version_retention_days]
}

run "noncurrent_version_retention_days_fraction" {
  command = plan

  variables {
    noncurrent_version_retention_days = 0.5
  }

  expect_failures = [var.noncurrent_version_retention_days]
}

# --- kms_service_principals --------------------------------------------------

run "kms_service_principals_unknown" {
  command = plan

  variables {
    kms_service_principals = ["logs", "codepipeline"]
  }

  expect_failures = [var.kms_service_principals]
}

run "kms_service_principals_duplicate" {
  command = plan

  variables {
    kms_service_principals = ["logs", "logs"]
  }

  expect_failures = [var.kms_service_principals]
}

# --- key_deletion_window_days ------------------------------------------------

run "key_deletion_window_days_too_short" {
  command = plan

  variables {
    key_deletion_window_days = 6
  }

  expect_failures = [var.key_deletion_window_days]
}

run "key_deletion_window_days_too_long" {
  command = plan

  variables {
    key_deletion_window_days = 31
  }

  expect_failures = [var.key_deletion_window_days]
}

run "key_deletion_window_days_fraction" {
  command = plan

  variables {
    key_deletion_window_days = 10.5
  }

  expect_failures = [var.key_deletion_window_days]
}
