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
  name_prefix = "acme-shop-staging"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
}

# One rule of each of 8 variables; the comment above each value names the rule.
run "breaks_first_rule_of_each" {
  command = plan

  variables {
    # name_prefix_uppercase
    name_prefix = "Acme-Shop-Staging"

    # kms_key_arn_alias
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:alias/acme-shop-staging-sns"

    # notification_emails_not_an_address
    notification_emails = ["platform-team"]

    # services_key_uppercase
    services = {
      API_Service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-api-service"
        alb_arn_suffix            = "app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["targetgroup/acme-shop-staging-api-blue/943f017f100becff", "targetgroup/acme-shop-staging-api-green/6d0ecf831eec9f09"]
      }
    }

    # ratio_zero
    alarm_thresholds = { running_tasks_min_ratio = 0 }

    # codedeploy_application_name_invalid
    codedeploy_application_name = "acme shop services"

    # pipeline_name_invalid
    pipeline_name = "acme/shop/pipeline"

    # build_project_names_invalid
    build_project_names = ["-acme-shop-build"]
  }

  expect_failures = [
    var.name_prefix,
    var.kms_key_arn,
    var.notification_emails,
    var.services,
    var.alarm_thresholds,
    var.codedeploy_application_name,
    var.pipeline_name,
    var.build_project_names,
  ]
}

# One rule of each of 3 variables; the comment above each value names the rule.
run "breaks_second_rule_of_each" {
  command = plan

  variables {
    # name_prefix_too_long
    name_prefix = "acme-order-fulfilment-service-production-eu12" # 45 characters

    # notification_emails_duplicate
    notification_emails = ["oncall@example.com", "oncall@example.com"]

    # ratio_above_one
    alarm_thresholds = { running_tasks_min_ratio = 1.5 }
  }

  expect_failures = [
    var.name_prefix,
    var.notification_emails,
    var.alarm_thresholds,
  ]
}

# One rule of one variable; the comment above the value names the rule.
run "breaks_third_rule_of_each" {
  command = plan

  variables {
    # unhealthy_targets_negative
    alarm_thresholds = { unhealthy_targets = -1 }
  }

  expect_failures = [
    var.alarm_thresholds,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_fourth_rule_of_each" {
  command = plan

  variables {
    # services_alb_arn_not_suffix
    services = {
      api-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-api-service"
        alb_arn_suffix            = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["targetgroup/acme-shop-staging-api-blue/943f017f100becff", "targetgroup/acme-shop-staging-api-green/6d0ecf831eec9f09"]
      }
    }

    # http_5xx_rate_percent_above_100
    alarm_thresholds = { http_5xx_rate_percent = 150 }
  }

  expect_failures = [
    var.services,
    var.alarm_thresholds,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_fifth_rule_of_each" {
  command = plan

  variables {
    # services_no_target_group
    services = {
      api-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-api-service"
        alb_arn_suffix            = "app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = []
      }
    }

    # http_5xx_rate_percent_zero
    alarm_thresholds = { http_5xx_rate_percent = 0 }
  }

  expect_failures = [
    var.services,
    var.alarm_thresholds,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_sixth_rule_of_each" {
  command = plan

  variables {
    # services_target_group_not_suffix
    services = {
      api-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-api-service"
        alb_arn_suffix            = "app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["acme-shop-staging-api-blue"]
      }
    }

    # evaluation_periods_zero
    alarm_thresholds = { evaluation_periods = 0 }
  }

  expect_failures = [
    var.services,
    var.alarm_thresholds,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_seventh_rule_of_each" {
  command = plan

  variables {
    # services_target_group_twice
    services = {
      api-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-api-service"
        alb_arn_suffix            = "app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["targetgroup/acme-shop-staging-api-blue/943f017f100becff", "targetgroup/acme-shop-staging-api-blue/943f017f100becff"]
      }
    }

    # period_not_minutes
    alarm_thresholds = { period_seconds = 90 }
  }

  expect_failures = [
    var.services,
    var.alarm_thresholds,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_eighth_rule_of_each" {
  command = plan

  variables {
    # services_empty_service_name
    services = {
      api-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = ""
        alb_arn_suffix            = "app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["targetgroup/acme-shop-staging-api-blue/943f017f100becff", "targetgroup/acme-shop-staging-api-green/6d0ecf831eec9f09"]
      }
    }

    # period_high_resolution
    alarm_thresholds = { period_seconds = 30 }
  }

  expect_failures = [
    var.services,
    var.alarm_thresholds,
  ]
}

run "evaluation_range_over_a_day" {
  command = plan

  variables {
    alarm_thresholds = {
      period_seconds     = 3600
      evaluation_periods = 25
    }
  }

  expect_failures = [var.alarm_thresholds]
}

run "name_prefix_longest_allowed" {
  command = plan

  variables {
    name_prefix                 = "acme-order-fulfilment-service-production-eu1" # 44 characters
    codedeploy_application_name = "acme-order-fulfilment-service-production-eu1-services"
    pipeline_name               = "acme-order-fulfilment-service-production-eu1-pipeline"
    enable_approvals_topic      = true
  }

  assert {
    condition = (
      length(aws_cloudwatch_event_rule.deployment_failure[0].name) <= 64
      && length(aws_cloudwatch_event_rule.pipeline_state[0].name) <= 64
      && length(aws_codestarnotifications_notification_rule.pipeline[0].name) <= 64
    )
    error_message = "Rule names built from a 44-character prefix must fit 64 characters."
  }
}

run "evaluation_range_one_day" {
  command = plan

  variables {
    alarm_thresholds = {
      period_seconds     = 3600
      evaluation_periods = 24
    }
  }
}
