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
  name_prefix = "acme-shop-prod"
  microservice = {
    name              = "api-service"
    short_name        = "api"
    port              = 8080
    health_check_path = "/health"
  }
  vpc_id                      = "vpc-0a1b2c3d4e5f60718"
  public_subnet_ids           = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
  private_subnet_ids          = ["subnet-1111111111111111a", "subnet-1111111111111111b"]
  cluster_arn                 = "arn:aws:ecs:us-east-1:444444444444:cluster/acme-shop-prod-cluster"
  cluster_name                = "acme-shop-prod-cluster"
  codedeploy_app_name         = "acme-shop-prod-services"
  codedeploy_service_role_arn = "arn:aws:iam::444444444444:role/acme-shop-prod-codedeploy-us-east-1"
  container_image             = "public.ecr.aws/nginx/nginx:1.27"
  cpu                         = 256
  memory                      = 512
}

# One rule of each of 24 variables; the comment above each value names the rule.
run "breaks_first_rule_of_each" {
  command = plan

  variables {
    # name_prefix_uppercase
    name_prefix = "Acme-Shop-Prod"

    # health_check_interval_too_short
    health_check = { interval_seconds = 4, timeout_seconds = 3 }

    # vpc_id_invalid
    vpc_id = "acme-vpc"

    # public_subnet_ids_one_zone
    public_subnet_ids = ["subnet-0000000000000000a"]

    # private_subnet_ids_empty
    private_subnet_ids = []

    # cluster_arn_is_a_name
    cluster_arn = "acme-shop-prod-cluster"

    # cluster_name_is_an_arn
    cluster_name = "arn:aws:ecs:us-east-1:444444444444:cluster/acme-shop-prod-cluster"

    # codedeploy_app_name_empty
    codedeploy_app_name = ""

    # codedeploy_service_role_arn_invalid
    codedeploy_service_role_arn = "acme-shop-prod-codedeploy-us-east-1"

    # container_image_empty
    container_image = ""

    # cpu_not_a_fargate_size
    cpu = 384

    # desired_count_negative
    desired_count = -1

    # log_retention_days_not_accepted
    log_retention_days = 10

    # log_kms_key_arn_alias
    log_kms_key_arn = "arn:aws:kms:us-east-1:444444444444:alias/logs"

    # secrets_not_parameter_arns
    secrets = { JWT_SIGNING_KEY = "arn:aws:secretsmanager:us-east-1:444444444444:secret:jwt" }

    # execution_role_policy_arns_not_policies
    execution_role_policy_arns = ["arn:aws:iam::444444444444:role/acme"]

    # ecr_repository_arns_not_repositories
    ecr_repository_arns = ["111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"]

    # ingress_cidr_blocks_not_cidrs
    ingress_cidr_blocks = ["10.0.0.1"]

    # production_listener_port_out_of_range
    production_listener_port = 0

    # certificate_arn_not_acm
    certificate_arn = "arn:aws:iam::444444444444:server-certificate/acme"

    # deployment_alarm_names_more_than_ten
    deployment_alarm_names = [for i in range(11) : "acme-shop-prod-api-service-alarm-${i}"]

    # deployment_config_name_ec2_config
    deployment_config_name = "CodeDeployDefault.OneAtATime"

    # termination_wait_minutes_too_long
    termination_wait_minutes = 2881

    # autoscaling_min_above_max
    enable_autoscaling = true
    autoscaling        = { min_capacity = 5, max_capacity = 3 }
  }

  expect_failures = [
    var.name_prefix,
    var.health_check,
    var.vpc_id,
    var.public_subnet_ids,
    var.private_subnet_ids,
    var.cluster_arn,
    var.cluster_name,
    var.codedeploy_app_name,
    var.codedeploy_service_role_arn,
    var.container_image,
    var.cpu,
    var.desired_count,
    var.log_retention_days,
    var.log_kms_key_arn,
    var.secrets,
    var.execution_role_policy_arns,
    var.ecr_repository_arns,
    var.ingress_cidr_blocks,
    var.production_listener_port,
    var.certificate_arn,
    var.deployment_alarm_names,
    var.deployment_config_name,
    var.termination_wait_minutes,
    var.autoscaling,
  ]
}

# One rule of each of 7 variables; the comment above each value names the rule.
run "breaks_second_rule_of_each" {
  command = plan

  variables {
    # microservice_name_invalid
    microservice = {
      name              = "Api_Service"
      short_name        = "api"
      port              = 8080
      health_check_path = "/health"
    }

    # health_check_timeout_too_short
    health_check = { timeout_seconds = 1 }

    # memory_not_allowed_for_cpu
    cpu    = 512
    memory = 512

    # ingress_cidr_blocks_host_bits
    ingress_cidr_blocks = ["10.0.0.1/8"]

    # test_listener_port_out_of_range
    test_listener_port = 70000

    # deployment_config_name_invalid_characters
    deployment_config_name = "my config"

    # autoscaling_min_zero
    autoscaling = { min_capacity = 0 }
  }

  expect_failures = [
    var.microservice,
    var.health_check,
    var.memory,
    var.ingress_cidr_blocks,
    var.test_listener_port,
    var.deployment_config_name,
    var.autoscaling,
  ]
}

# One rule of each of 6 variables; the comment above each value names the rule.
run "breaks_third_rule_of_each" {
  command = plan

  variables {
    # name_prefix_security_group_id
    name_prefix = "sg-shop-prod"

    # health_check_timeout_not_below_interval
    health_check = { interval_seconds = 10, timeout_seconds = 10 }

    # memory_off_step
    cpu    = 2048
    memory = 5000

    # ingress_cidr_blocks_empty
    ingress_cidr_blocks = []

    # test_listener_port_same_as_http_production
    test_listener_port = 80

    # autoscaling_cpu_target_above_100
    autoscaling = { cpu_target = 150 }
  }

  expect_failures = [
    var.name_prefix,
    var.health_check,
    var.memory,
    var.ingress_cidr_blocks,
    var.test_listener_port,
    var.autoscaling,
  ]
}

# One rule of each of 3 variables; the comment above each value names the rule.
run "breaks_fourth_rule_of_each" {
  command = plan

  variables {
    # microservice_short_name_too_long:
    # 13 characters. A short name_prefix keeps "<name_prefix>-<short_name>-green"
    # (24 characters) within the 32-character rule, so only this rule breaks.
    microservice = {
      name              = "api-service"
      short_name        = "apigateway123"
      port              = 8080
      health_check_path = "/health"
    }
    name_prefix = "acme"

    # health_check_threshold_too_high
    health_check = { unhealthy_threshold = 11 }

    # test_listener_port_same_as_https_production
    certificate_arn    = "arn:aws:acm:us-east-1:444444444444:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    test_listener_port = 443
  }

  expect_failures = [
    var.microservice,
    var.health_check,
    var.test_listener_port,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_fifth_rule_of_each" {
  command = plan

  variables {
    # name_prefix_internal
    name_prefix = "internal-shop"

    # health_check_deregistration_delay_too_long
    health_check = { deregistration_delay_seconds = 3601 }
  }

  expect_failures = [
    var.name_prefix,
    var.health_check,
  ]
}

run "microservice_port_out_of_range" {
  command = plan

  variables {
    microservice = {
      name              = "api-service"
      short_name        = "api"
      port              = 0
      health_check_path = "/health"
    }
  }

  expect_failures = [var.microservice]
}

run "microservice_health_check_path_relative" {
  command = plan

  variables {
    microservice = {
      name              = "api-service"
      short_name        = "api"
      port              = 8080
      health_check_path = "health"
    }
  }

  expect_failures = [var.microservice]
}

run "microservice_names_too_long_for_target_groups" {
  command = plan

  variables {
    microservice = {
      name              = "api-service"
      short_name        = "frontend"
      port              = 8080
      health_check_path = "/health"
    }
    name_prefix = "acme-storefront-staging" # + "-frontend-green" = 38 characters
  }

  expect_failures = [var.microservice]
}
