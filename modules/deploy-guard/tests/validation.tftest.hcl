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
      account_id = "444444444444"
    }
  }
}

variables {
  name_prefix                 = "acme-shop-prod"
  package_path                = "build/deploy-guard.zip"
  package_hash                = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
  codedeploy_application_name = "acme-shop-prod-services"
  deployment_group_names      = ["acme-shop-prod-api-service"]
  cluster_name                = "acme-shop-prod-cluster"
  service_names               = ["acme-shop-prod-api-service"]
  alarm_names                 = ["acme-shop-prod-api-service-running-tasks"]
  notifications_topic_arn     = "arn:aws:sns:us-east-1:444444444444:acme-shop-prod-notifications"
  notifications_kms_key_arn   = "arn:aws:kms:us-east-1:444444444444:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

run "valid_inputs_plan" {
  command = plan
}

# --- name_prefix -------------------------------------------------------------

run "name_prefix_uppercase" {
  command = plan

  variables {
    name_prefix = "Acme-Shop-Prod"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_too_long" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-service-product" # 37 characters
  }

  expect_failures = [var.name_prefix]
}

# A region name longer than the 14 characters the prefix limit allows for.
run "role_name_too_long_for_the_region" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-service-produc" # 36 characters
  }

  override_data {
    target = data.aws_region.current
    values = {
      name = "xx-southeasterly-1" # 18 characters
    }
  }

  expect_failures = [aws_iam_role.this]
}

# --- package -----------------------------------------------------------------

run "package_path_not_a_zip" {
  command = plan

  variables {
    package_path = "functions/deploy_guard"
  }

  expect_failures = [var.package_path]
}

run "package_hash_hex" {
  command = plan

  variables {
    package_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
  }

  expect_failures = [var.package_hash]
}

# --- CodeDeploy --------------------------------------------------------------

run "codedeploy_application_name_empty" {
  command = plan

  variables {
    codedeploy_application_name = ""
  }

  expect_failures = [var.codedeploy_application_name]
}

run "deployment_group_names_empty" {
  command = plan

  variables {
    deployment_group_names = []
  }

  expect_failures = [var.deployment_group_names]
}

run "deployment_group_names_duplicate" {
  command = plan

  variables {
    deployment_group_names = ["acme-shop-prod-api-service", "acme-shop-prod-api-service"]
  }

  expect_failures = [var.deployment_group_names]
}

# --- ECS ---------------------------------------------------------------------

run "cluster_name_arn" {
  command = plan

  variables {
    cluster_name = "arn:aws:ecs:us-east-1:444444444444:cluster/acme-shop-prod-cluster"
  }

  expect_failures = [var.cluster_name]
}

run "service_names_empty" {
  command = plan

  variables {
    service_names = []
  }

  expect_failures = [var.service_names]
}

# --- Alarms ------------------------------------------------------------------

run "alarm_names_empty" {
  command = plan

  variables {
    alarm_names = []
  }

  expect_failures = [var.alarm_names]
}

run "alarm_names_duplicate" {
  command = plan

  variables {
    alarm_names = ["acme-shop-prod-api-service-5xx-rate", "acme-shop-prod-api-service-5xx-rate"]
  }

  expect_failures = [var.alarm_names]
}

# --- Notifications -----------------------------------------------------------

run "notifications_topic_arn_name" {
  command = plan

  variables {
    notifications_topic_arn = "acme-shop-prod-notifications"
  }

  expect_failures = [var.notifications_topic_arn]
}

run "notifications_kms_key_arn_alias" {
  command = plan

  variables {
    notifications_kms_key_arn = "arn:aws:kms:us-east-1:444444444444:alias/acme-shop-prod-notifications"
  }

  expect_failures = [var.notifications_kms_key_arn]
}

# --- Optional ----------------------------------------------------------------

run "log_retention_days_unsupported" {
  command = plan

  variables {
    log_retention_days = 31
  }

  expect_failures = [var.log_retention_days]
}

run "log_kms_key_arn_key_id" {
  command = plan

  variables {
    log_kms_key_arn = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  expect_failures = [var.log_kms_key_arn]
}

run "timeout_seconds_too_long" {
  command = plan

  variables {
    timeout_seconds = 901
  }

  expect_failures = [var.timeout_seconds]
}

run "memory_mb_too_small" {
  command = plan

  variables {
    memory_mb = 64
  }

  expect_failures = [var.memory_mb]
}

# --- validation_seconds -------------------------------------------------------

run "validation_seconds_beyond_lambdas_limit" {
  command = plan

  variables {
    validation_seconds = 841
  }

  expect_failures = [var.validation_seconds]
}
