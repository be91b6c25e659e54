# Each run breaks exactly one validation rule of each variable it expects to fail
# (bin/check-validations --runs checks it). Runs are merged across variables for CI
# time, except that record_names, whose rule reads zone_name, never shares a run
# with a broken zone_name (Terraform skips a variable's rules when one it reads
# fails).

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

run "prefix_environment_roles_and_names_of_the_wrong_form" {
  command = plan

  variables {
    name_prefix       = "Acme-shop-delivery"
    environment       = "Prod-1"
    record_names      = []
    trusted_role_arns = ["arn:aws:iam::444444444444:user/someone"]
  }

  expect_failures = [var.name_prefix, var.environment, var.record_names, var.trusted_role_arns]
}

run "prefix_too_long_no_roles_and_a_name_outside_the_zone" {
  command = plan

  variables {
    name_prefix       = "acme-shop-delivery-with-a-much-much-longer-name-here"
    record_names      = ["api-service.other.example.com"]
    trusted_role_arns = []
  }

  expect_failures = [var.name_prefix, var.record_names, var.trusted_role_arns]
}

run "record_name_with_a_wildcard_is_rejected" {
  command = plan

  variables {
    record_names = ["*.shop.example.com"]
  }

  expect_failures = [var.record_names]
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
