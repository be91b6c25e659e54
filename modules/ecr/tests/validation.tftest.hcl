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
      account_id = "111111111111"
    }
  }
}

variables {
  name_prefix      = "acme-shop-delivery"
  repository_names = ["api-service", "build-image"]
  pull_account_ids = ["333333333333"]
}

# --- name_prefix -------------------------------------------------------------

run "name_prefix_uppercase" {
  command = plan

  variables {
    name_prefix = "Acme-Shop-Delivery"
  }

  expect_failures = [var.name_prefix]
}

# --- repository_names --------------------------------------------------------

run "repository_names_empty_list" {
  command = plan

  variables {
    repository_names = []
  }

  expect_failures = [var.repository_names]
}

run "repository_names_uppercase" {
  command = plan

  variables {
    repository_names = ["Api-Service"]
  }

  expect_failures = [var.repository_names]
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

# --- pull_account_ids --------------------------------------------------------

run "pull_account_ids_not_twelve_digits" {
  command = plan

  variables {
    pull_account_ids = ["3333333333333"]
  }

  expect_failures = [var.pull_account_ids]
}

run "pull_account_ids_duplicate" {
  command = plan

  variables {
    pull_account_ids = ["333333333333", "333333333333"]
  }

  expect_failures = [var.pull_account_ids]
}

# --- lifecycle ---------------------------------------------------------------

run "untagged_image_expiry_days_zero" {
  command = plan

  variables {
    untagged_image_expiry_days = 0
  }

  expect_failures = [var.untagged_image_expiry_days]
}

run "untagged_image_expiry_days_fraction" {
  command = plan

  variables {
    untagged_image_expiry_days = 2.5
  }

  expect_failures = [var.untagged_image_expiry_days]
}

run "max_image_count_zero" {
  command = plan

  variables {
    max_image_count = 0
  }

  expect_failures = [var.max_image_count]
}

run "max_image_count_fraction" {
  command = plan

  variables {
    max_image_count = 9.5
  }

  expect_failures = [var.max_image_count]
}

# --- replication_regions -----------------------------------------------------

run "replication_regions_availability_zone" {
  command = plan

  variables {
    replication_regions = ["us-west-2a"]
  }

  expect_failures = [var.replication_regions]
}

run "replication_regions_duplicate" {
  command = plan

  variables {
    replication_regions = ["us-west-2", "us-west-2"]
  }

  expect_failures = [var.replication_regions]
}

run "replication_regions_too_many" {
  command = plan

  variables {
    replication_regions = [for i in range(26) : "us-west-${i + 1}"]
  }

  expect_failures = [var.replication_regions]
}

run "replication_regions_own_region" {
  command = plan

  variables {
    replication_regions = ["us-east-1"]
  }

  expect_failures = [aws_ecr_replication_configuration.this]
}

# --- kms_key_arn -------------------------------------------------------------

run "kms_key_arn_alias" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:111111111111:alias/acme-shop-delivery-ecr"
  }

  expect_failures = [var.kms_key_arn]
}

run "kms_key_arn_key_id" {
  command = plan

  variables {
    kms_key_arn = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  expect_failures = [var.kms_key_arn]
}

run "kms_key_arn_other_region" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  expect_failures = [aws_ecr_repository.this]
}
