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
      account_id = "333333333333"
    }
  }
}

variables {
  name_prefix                 = "acme-shop-staging"
  trusted_role_arns           = ["arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline"]
  codedeploy_application_name = "acme-shop-staging-services"
  deployment_group_names      = ["acme-shop-staging-api-service"]
  pass_role_arns              = ["arn:aws:iam::333333333333:role/acme-shop-staging-api-task-us-east-1"]
  artifact_bucket_arns        = ["arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"]
  artifact_kms_alias_name     = "alias/acme-shop-delivery-artifacts"
  delivery_account_id         = "111111111111"
}

# --- name_prefix ---------------------------------------------------------------

run "name_prefix_uppercase" {
  command = plan

  variables {
    name_prefix = "Acme-Shop-Staging"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_too_long" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-service-production-12" # 43 characters
  }

  expect_failures = [var.name_prefix]
}

# --- trusted_role_arns ---------------------------------------------------------

run "trusted_role_arns_empty" {
  command = plan

  variables {
    trusted_role_arns = []
  }

  expect_failures = [var.trusted_role_arns]
}

run "trusted_role_arns_account_root" {
  command = plan

  variables {
    trusted_role_arns = ["arn:aws:iam::111111111111:root"]
  }

  expect_failures = [var.trusted_role_arns]
}

run "trusted_role_arns_wildcard" {
  command = plan

  variables {
    trusted_role_arns = ["arn:aws:iam::111111111111:role/*"]
  }

  expect_failures = [var.trusted_role_arns]
}

run "trusted_role_arns_role_name" {
  command = plan

  variables {
    trusted_role_arns = ["acme-shop-delivery-pipeline"]
  }

  expect_failures = [var.trusted_role_arns]
}

run "trusted_role_arns_twice" {
  command = plan

  variables {
    trusted_role_arns = ["arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline", "arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline"]
  }

  expect_failures = [var.trusted_role_arns]
}

# --- codedeploy_application_name -----------------------------------------------

run "codedeploy_application_name_invalid" {
  command = plan

  variables {
    codedeploy_application_name = "acme shop services"
  }

  expect_failures = [var.codedeploy_application_name]
}

# --- deployment_group_names ----------------------------------------------------

run "deployment_group_names_empty" {
  command = plan

  variables {
    deployment_group_names = []
  }

  expect_failures = [var.deployment_group_names]
}

run "deployment_group_names_invalid" {
  command = plan

  variables {
    deployment_group_names = ["acme-shop-staging/api-service"]
  }

  expect_failures = [var.deployment_group_names]
}

run "deployment_group_names_twice" {
  command = plan

  variables {
    deployment_group_names = ["acme-shop-staging-api-service", "acme-shop-staging-api-service"]
  }

  expect_failures = [var.deployment_group_names]
}

# --- pass_role_arns ------------------------------------------------------------

run "pass_role_arns_empty" {
  command = plan

  variables {
    pass_role_arns = []
  }

  expect_failures = [var.pass_role_arns]
}

run "pass_role_arns_user" {
  command = plan

  variables {
    pass_role_arns = ["arn:aws:iam::333333333333:user/deployer"]
  }

  expect_failures = [var.pass_role_arns]
}

run "pass_role_arns_twice" {
  command = plan

  variables {
    pass_role_arns = ["arn:aws:iam::333333333333:role/acme-shop-staging-api-task-us-east-1", "arn:aws:iam::333333333333:role/acme-shop-staging-api-task-us-east-1"]
  }

  expect_failures = [var.pass_role_arns]
}

# --- artifact_bucket_arns ------------------------------------------------------

run "artifact_bucket_arns_empty" {
  command = plan

  variables {
    artifact_bucket_arns = []
  }

  expect_failures = [var.artifact_bucket_arns]
}

run "artifact_bucket_arns_object_path" {
  command = plan

  variables {
    artifact_bucket_arns = ["arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1/*"]
  }

  expect_failures = [var.artifact_bucket_arns]
}

run "artifact_bucket_arns_twice" {
  command = plan

  variables {
    artifact_bucket_arns = ["arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1", "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"]
  }

  expect_failures = [var.artifact_bucket_arns]
}

# --- artifact_kms_alias_name ---------------------------------------------------

run "artifact_kms_alias_arn" {
  command = plan

  variables {
    artifact_kms_alias_name = "arn:aws:kms:us-east-1:111111111111:alias/acme-shop-delivery-artifacts"
  }

  expect_failures = [var.artifact_kms_alias_name]
}

run "artifact_kms_alias_aws_managed" {
  command = plan

  variables {
    artifact_kms_alias_name = "alias/aws/s3"
  }

  expect_failures = [var.artifact_kms_alias_name]
}

# --- delivery_account_id -------------------------------------------------------

run "delivery_account_id_short" {
  command = plan

  variables {
    delivery_account_id = "11111111111"
  }

  expect_failures = [var.delivery_account_id]
}

# --- external_id ---------------------------------------------------------------

run "external_id_invalid_characters" {
  command = plan

  variables {
    external_id = "acme shop"
  }

  expect_failures = [var.external_id]
}

run "external_id_too_short" {
  command = plan

  variables {
    external_id = "a"
  }

  expect_failures = [var.external_id]
}

run "external_id_too_long" {
  command = plan

  variables {
    external_id = format("%s%s", join("", [for i in range(1000) : "a"]), join("", [for i in range(225) : "b"])) # 1225 characters
  }

  expect_failures = [var.external_id]
}

# --- Limits that must still pass ---------------------------------------------

run "name_prefix_longest_allowed" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-service-production-1" # 42 characters
  }

  # The longest region name (14 characters).
  override_data {
    target = data.aws_region.current
    values = {
      name = "ap-southeast-3"
    }
  }

  assert {
    condition     = length(aws_iam_role.this.name) == 64
    error_message = "A 42-character prefix must give a role name of exactly 64 characters in the longest region."
  }
}
