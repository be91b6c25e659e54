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

# One rule of each of 15 variables; the comment above each value names the rule.
run "breaks_first_rule_of_each" {
  command = plan

  variables {
    # name_prefix_uppercase
    name_prefix = "Acme-Shop-Prod"

    # package_path_not_a_zip
    package_path = "functions/deploy_guard"

    # package_hash_hex
    package_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

    # codedeploy_application_name_empty
    codedeploy_application_name = ""

    # deployment_group_names_empty
    deployment_group_names = []

    # cluster_name_arn
    cluster_name = "arn:aws:ecs:us-east-1:444444444444:cluster/acme-shop-prod-cluster"

    # service_names_empty
    service_names = []

    # alarm_names_empty
    alarm_names = []

    # notifications_topic_arn_name
    notifications_topic_arn = "acme-shop-prod-notifications"

    # notifications_kms_key_arn_alias
    notifications_kms_key_arn = "arn:aws:kms:us-east-1:444444444444:alias/acme-shop-prod-notifications"

    # log_retention_days_unsupported
    log_retention_days = 31

    # log_kms_key_arn_key_id
    log_kms_key_arn = "1234abcd-12ab-34cd-56ef-1234567890ab"

    # timeout_seconds_too_long
    timeout_seconds = 901

    # memory_mb_too_small
    memory_mb = 64

    # validation_seconds_beyond_lambdas_limit
    validation_seconds = 841
  }

  expect_failures = [
    var.name_prefix,
    var.package_path,
    var.package_hash,
    var.codedeploy_application_name,
    var.deployment_group_names,
    var.cluster_name,
    var.service_names,
    var.alarm_names,
    var.notifications_topic_arn,
    var.notifications_kms_key_arn,
    var.log_retention_days,
    var.log_kms_key_arn,
    var.timeout_seconds,
    var.memory_mb,
    var.validation_seconds,
  ]
}

# One rule of each of 3 variables; the comment above each value names the rule.
run "breaks_second_rule_of_each" {
  command = plan

  variables {
    # name_prefix_too_long
    name_prefix = "acme-order-fulfilment-service-product" # 37 characters

    # deployment_group_names_duplicate
    deployment_group_names = ["acme-shop-prod-api-service", "acme-shop-prod-api-service"]

    # alarm_names_duplicate
    alarm_names = ["acme-shop-prod-api-service-5xx-rate", "acme-shop-prod-api-service-5xx-rate"]
  }

  expect_failures = [
    var.name_prefix,
    var.deployment_group_names,
    var.alarm_names,
  ]
}

run "valid_inputs_plan" {
  command = plan
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
