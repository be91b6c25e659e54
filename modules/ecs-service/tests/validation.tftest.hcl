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

# --- name_prefix ---------------------------------------------------------------

run "name_prefix_uppercase" {
  command = plan

  variables {
    name_prefix = "Acme-Shop-Prod"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_security_group_id" {
  command = plan

  variables {
    name_prefix = "sg-shop-prod"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_internal" {
  command = plan

  variables {
    name_prefix = "internal-shop"
  }

  expect_failures = [var.name_prefix]
}

# --- microservice --------------------------------------------------------------

run "microservice_name_invalid" {
  command = plan

  variables {
    microservice = {
      name              = "Api_Service"
      short_name        = "api"
      port              = 8080
      health_check_path = "/health"
    }
  }

  expect_failures = [var.microservice]
}

run "microservice_short_name_too_long" {
  command = plan

  # 13 characters. A short name_prefix keeps "<name_prefix>-<short_name>-green"
  # (24 characters) within the 32-character rule, so only this rule breaks.
  variables {
    microservice = {
      name              = "api-service"
      short_name        = "apigateway123"
      port              = 8080
      health_check_path = "/health"
    }
    name_prefix = "acme"
  }

  expect_failures = [var.microservice]
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

# --- network -------------------------------------------------------------------

# --- health_check ------------------------------------------------------------------

run "health_check_interval_too_short" {
  command = plan

  variables {
    health_check = { interval_seconds = 4, timeout_seconds = 3 }
  }

  expect_failures = [var.health_check]
}

run "health_check_timeout_too_short" {
  command = plan

  variables {
    health_check = { timeout_seconds = 1 }
  }

  expect_failures = [var.health_check]
}

run "health_check_timeout_not_below_interval" {
  command = plan

  variables {
    health_check = { interval_seconds = 10, timeout_seconds = 10 }
  }

  expect_failures = [var.health_check]
}

run "health_check_threshold_too_high" {
  command = plan

  variables {
    health_check = { unhealthy_threshold = 11 }
  }

  expect_failures = [var.health_check]
}

run "health_check_deregistration_delay_too_long" {
  command = plan

  variables {
    health_check = { deregistration_delay_seconds = 3601 }
  }

  expect_failures = [var.health_check]
}

run "vpc_id_invalid" {
  command = plan

  variables {
    vpc_id = "acme-vpc"
  }

  expect_failures = [var.vpc_id]
}

run "public_subnet_ids_one_zone" {
  command = plan

  variables {
    public_subnet_ids = ["subnet-0000000000000000a"]
  }

  expect_failures = [var.public_subnet_ids]
}

run "private_subnet_ids_empty" {
  command = plan

  variables {
    private_subnet_ids = []
  }

  expect_failures = [var.private_subnet_ids]
}

# --- cluster and CodeDeploy ----------------------------------------------------

run "cluster_arn_is_a_name" {
  command = plan

  variables {
    cluster_arn = "acme-shop-prod-cluster"
  }

  expect_failures = [var.cluster_arn]
}

run "cluster_name_is_an_arn" {
  command = plan

  variables {
    cluster_name = "arn:aws:ecs:us-east-1:444444444444:cluster/acme-shop-prod-cluster"
  }

  expect_failures = [var.cluster_name]
}

run "codedeploy_app_name_empty" {
  command = plan

  variables {
    codedeploy_app_name = ""
  }

  expect_failures = [var.codedeploy_app_name]
}

run "codedeploy_service_role_arn_invalid" {
  command = plan

  variables {
    codedeploy_service_role_arn = "acme-shop-prod-codedeploy-us-east-1"
  }

  expect_failures = [var.codedeploy_service_role_arn]
}

# --- task ----------------------------------------------------------------------

run "container_image_empty" {
  command = plan

  variables {
    container_image = ""
  }

  expect_failures = [var.container_image]
}

run "cpu_not_a_fargate_size" {
  command = plan

  variables {
    cpu = 384
  }

  expect_failures = [var.cpu]
}

run "memory_not_allowed_for_cpu" {
  command = plan

  variables {
    cpu    = 512
    memory = 512
  }

  expect_failures = [var.memory]
}

run "memory_off_step" {
  command = plan

  variables {
    cpu    = 2048
    memory = 5000
  }

  expect_failures = [var.memory]
}

run "desired_count_negative" {
  command = plan

  variables {
    desired_count = -1
  }

  expect_failures = [var.desired_count]
}

run "log_retention_days_not_accepted" {
  command = plan

  variables {
    log_retention_days = 10
  }

  expect_failures = [var.log_retention_days]
}

run "log_kms_key_arn_alias" {
  command = plan

  variables {
    log_kms_key_arn = "arn:aws:kms:us-east-1:444444444444:alias/logs"
  }

  expect_failures = [var.log_kms_key_arn]
}

run "secrets_not_parameter_arns" {
  command = plan

  variables {
    secrets = { JWT_SIGNING_KEY = "arn:aws:secretsmanager:us-east-1:444444444444:secret:jwt" }
  }

  expect_failures = [var.secrets]
}

run "execution_role_policy_arns_not_policies" {
  command = plan

  variables {
    execution_role_policy_arns = ["arn:aws:iam::444444444444:role/acme"]
  }

  expect_failures = [var.execution_role_policy_arns]
}

run "ecr_repository_arns_not_repositories" {
  command = plan

  variables {
    ecr_repository_arns = ["111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"]
  }

  expect_failures = [var.ecr_repository_arns]
}

# --- listeners -----------------------------------------------------------------

run "ingress_cidr_blocks_not_cidrs" {
  command = plan

  variables {
    ingress_cidr_blocks = ["10.0.0.1"]
  }

  expect_failures = [var.ingress_cidr_blocks]
}

run "ingress_cidr_blocks_host_bits" {
  command = plan

  variables {
    ingress_cidr_blocks = ["10.0.0.1/8"]
  }

  expect_failures = [var.ingress_cidr_blocks]
}

run "ingress_cidr_blocks_empty" {
  command = plan

  variables {
    ingress_cidr_blocks = []
  }

  expect_failures = [var.ingress_cidr_blocks]
}

run "production_listener_port_out_of_range" {
  command = plan

  variables {
    production_listener_port = 0
  }

  expect_failures = [var.production_listener_port]
}

run "test_listener_port_out_of_range" {
  command = plan

  variables {
    test_listener_port = 70000
  }

  expect_failures = [var.test_listener_port]
}

run "test_listener_port_same_as_http_production" {
  command = plan

  variables {
    test_listener_port = 80
  }

  expect_failures = [var.test_listener_port]
}

run "test_listener_port_same_as_https_production" {
  command = plan

  variables {
    certificate_arn    = "arn:aws:acm:us-east-1:444444444444:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    test_listener_port = 443
  }

  expect_failures = [var.test_listener_port]
}

run "certificate_arn_not_acm" {
  command = plan

  variables {
    certificate_arn = "arn:aws:iam::444444444444:server-certificate/acme"
  }

  expect_failures = [var.certificate_arn]
}

# --- deployment ----------------------------------------------------------------

run "deployment_alarm_names_more_than_ten" {
  command = plan

  variables {
    deployment_alarm_names = [for i in range(11) : "acme-shop-prod-api-service-alarm-${i}"]
  }

  expect_failures = [var.deployment_alarm_names]
}

run "deployment_config_name_ec2_config" {
  command = plan

  variables {
    deployment_config_name = "CodeDeployDefault.OneAtATime"
  }

  expect_failures = [var.deployment_config_name]
}

run "deployment_config_name_invalid_characters" {
  command = plan

  variables {
    deployment_config_name = "my config"
  }

  expect_failures = [var.deployment_config_name]
}

run "termination_wait_minutes_too_long" {
  command = plan

  variables {
    termination_wait_minutes = 2881
  }

  expect_failures = [var.termination_wait_minutes]
}

run "autoscaling_min_above_max" {
  command = plan

  variables {
    enable_autoscaling = true
    autoscaling        = { min_capacity = 5, max_capacity = 3 }
  }

  expect_failures = [var.autoscaling]
}

run "autoscaling_min_zero" {
  command = plan

  variables {
    autoscaling = { min_capacity = 0 }
  }

  expect_failures = [var.autoscaling]
}

run "autoscaling_cpu_target_above_100" {
  command = plan

  variables {
    autoscaling = { cpu_target = 150 }
  }

  expect_failures = [var.autoscaling]
}
