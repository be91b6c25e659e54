# Each run breaks exactly one validation rule of the dns-zone module and expects
# its variable to fail.

mock_provider "aws" {
  override_during = plan

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
}

variables {
  name_prefix       = "acme-shop-delivery"
  environment       = "prod"
  zone_name         = "shop.example.com"
  record_names      = ["api-service.shop.example.com"]
  trusted_role_arns = ["arn:aws:iam::444444444444:role/OrganizationAccountAccessRole"]
}

run "name_prefix_with_uppercase_is_rejected" {
  command = plan

  variables {
    name_prefix = "Acme-shop-delivery"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_too_long_for_the_role_name_is_rejected" {
  command = plan

  variables {
    name_prefix = "acme-shop-delivery-with-a-much-much-longer-name-here"
  }

  expect_failures = [var.name_prefix]
}

run "environment_that_is_no_environment_name_is_rejected" {
  command = plan

  variables {
    environment = "Prod-1"
  }

  expect_failures = [var.environment]
}

run "zone_name_with_a_label_starting_with_a_hyphen_is_rejected" {
  command = plan

  variables {
    zone_name    = "-shop.example.com"
    record_names = ["api-service.-shop.example.com"]
  }

  expect_failures = [var.zone_name]
}

run "zone_name_of_one_label_is_rejected" {
  command = plan

  variables {
    zone_name    = "com"
    record_names = ["api-service.com"]
  }

  expect_failures = [var.zone_name]
}

run "no_record_names_is_rejected" {
  command = plan

  variables {
    record_names = []
  }

  expect_failures = [var.record_names]
}

run "record_name_outside_the_zone_is_rejected" {
  command = plan

  variables {
    record_names = ["api-service.other.example.com"]
  }

  expect_failures = [var.record_names]
}

run "record_name_with_a_wildcard_is_rejected" {
  command = plan

  variables {
    record_names = ["*.shop.example.com"]
  }

  expect_failures = [var.record_names]
}

run "trusted_role_that_is_no_role_arn_is_rejected" {
  command = plan

  variables {
    trusted_role_arns = ["arn:aws:iam::444444444444:user/someone"]
  }

  expect_failures = [var.trusted_role_arns]
}

run "no_trusted_role_is_rejected" {
  command = plan

  variables {
    trusted_role_arns = []
  }

  expect_failures = [var.trusted_role_arns]
}
