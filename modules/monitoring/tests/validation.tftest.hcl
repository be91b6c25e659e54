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
      account_id = "123456789012"
    }
  }
}

variables {
  name_prefix = "acme-shop-staging"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
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
    name_prefix = "acme-order-fulfilment-service-production-eu12" # 45 characters
  }

  expect_failures = [var.name_prefix]
}

# --- kms_key_arn ---------------------------------------------------------------

run "kms_key_arn_alias" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:alias/acme-shop-staging-sns"
  }

  expect_failures = [var.kms_key_arn]
}

# --- notification_emails -------------------------------------------------------

run "notification_emails_not_an_address" {
  command = plan

  variables {
    notification_emails = ["platform-team"]
  }

  expect_failures = [var.notification_emails]
}

run "notification_emails_duplicate" {
  command = plan

  variables {
    notification_emails = ["oncall@example.com", "oncall@example.com"]
  }

  expect_failures = [var.notification_emails]
}

# --- services ------------------------------------------------------------------

run "services_key_uppercase" {
  command = plan

  variables {
    services = {
      API_Service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-api-service"
        alb_arn_suffix            = "app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["targetgroup/acme-shop-staging-api-blue/943f017f100becff", "targetgroup/acme-shop-staging-api-green/6d0ecf831eec9f09"]
        desired_count             = 2
      }
    }
  }

  expect_failures = [var.services]
}

run "services_desired_count_zero" {
  command = plan

  variables {
    services = {
      api-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-api-service"
        alb_arn_suffix            = "app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["targetgroup/acme-shop-staging-api-blue/943f017f100becff", "targetgroup/acme-shop-staging-api-green/6d0ecf831eec9f09"]
        desired_count             = 0
      }
    }
  }

  expect_failures = [var.services]
}

run "services_desired_count_fractional" {
  command = plan

  variables {
    services = {
      api-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-api-service"
        alb_arn_suffix            = "app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["targetgroup/acme-shop-staging-api-blue/943f017f100becff", "targetgroup/acme-shop-staging-api-green/6d0ecf831eec9f09"]
        desired_count             = 1.5
      }
    }
  }

  expect_failures = [var.services]
}

run "services_alb_arn_not_suffix" {
  command = plan

  variables {
    services = {
      api-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-api-service"
        alb_arn_suffix            = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["targetgroup/acme-shop-staging-api-blue/943f017f100becff", "targetgroup/acme-shop-staging-api-green/6d0ecf831eec9f09"]
        desired_count             = 2
      }
    }
  }

  expect_failures = [var.services]
}

run "services_no_target_group" {
  command = plan

  variables {
    services = {
      api-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-api-service"
        alb_arn_suffix            = "app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = []
        desired_count             = 2
      }
    }
  }

  expect_failures = [var.services]
}

run "services_target_group_not_suffix" {
  command = plan

  variables {
    services = {
      api-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-api-service"
        alb_arn_suffix            = "app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["acme-shop-staging-api-blue"]
        desired_count             = 2
      }
    }
  }

  expect_failures = [var.services]
}

run "services_target_group_twice" {
  command = plan

  variables {
    services = {
      api-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = "acme-shop-staging-api-service"
        alb_arn_suffix            = "app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["targetgroup/acme-shop-staging-api-blue/943f017f100becff", "targetgroup/acme-shop-staging-api-blue/943f017f100becff"]
        desired_count             = 2
      }
    }
  }

  expect_failures = [var.services]
}

run "services_empty_service_name" {
  command = plan

  variables {
    services = {
      api-service = {
        cluster_name              = "acme-shop-staging-cluster"
        service_name              = ""
        alb_arn_suffix            = "app/acme-shop-staging-api-alb/50dc6c495c0c9188"
        target_group_arn_suffixes = ["targetgroup/acme-shop-staging-api-blue/943f017f100becff", "targetgroup/acme-shop-staging-api-green/6d0ecf831eec9f09"]
        desired_count             = 2
      }
    }
  }

  expect_failures = [var.services]
}

# --- alarm_thresholds ----------------------------------------------------------

run "ratio_zero" {
  command = plan

  variables {
    alarm_thresholds = { running_tasks_min_ratio = 0 }
  }

  expect_failures = [var.alarm_thresholds]
}

run "ratio_above_one" {
  command = plan

  variables {
    alarm_thresholds = { running_tasks_min_ratio = 1.5 }
  }

  expect_failures = [var.alarm_thresholds]
}

run "unhealthy_targets_negative" {
  command = plan

  variables {
    alarm_thresholds = { unhealthy_targets = -1 }
  }

  expect_failures = [var.alarm_thresholds]
}

run "http_5xx_rate_percent_above_100" {
  command = plan

  variables {
    alarm_thresholds = { http_5xx_rate_percent = 150 }
  }

  expect_failures = [var.alarm_thresholds]
}

run "http_5xx_rate_percent_zero" {
  command = plan

  variables {
    alarm_thresholds = { http_5xx_rate_percent = 0 }
  }

  expect_failures = [var.alarm_thresholds]
}

run "evaluation_periods_zero" {
  command = plan

  variables {
    alarm_thresholds = { evaluation_periods = 0 }
  }

  expect_failures = [var.alarm_thresholds]
}

run "period_not_minutes" {
  command = plan

  variables {
    alarm_thresholds = { period_seconds = 90 }
  }

  expect_failures = [var.alarm_thresholds]
}

run "period_high_resolution" {
  command = plan

  variables {
    alarm_thresholds = { period_seconds = 30 }
  }

  expect_failures = [var.alarm_thresholds]
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

# --- codedeploy_application_name -----------------------------------------------

run "codedeploy_application_name_invalid" {
  command = plan

  variables {
    codedeploy_application_name = "acme shop services"
  }

  expect_failures = [var.codedeploy_application_name]
}

# --- pipeline_name -------------------------------------------------------------

run "pipeline_name_invalid" {
  command = plan

  variables {
    pipeline_name = "acme/shop/pipeline"
  }

  expect_failures = [var.pipeline_name]
}

# --- build_project_names -------------------------------------------------------

run "build_project_names_invalid" {
  command = plan

  variables {
    build_project_names = ["-acme-shop-build"]
  }

  expect_failures = [var.build_project_names]
}

# --- Limits that must still pass ---------------------------------------------

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
