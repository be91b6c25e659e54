variables {
  company  = "acme"
  service  = "shop"
  delivery = { environment = "delivery", account_id = "111111111111", region = "us-east-1" }
  microservices = {
    "api-service"          = { short_name = "api" }
    "notification-service" = { short_name = "notify" }
  }
  environments = {
    staging = { account_id = "333333333333", regions = ["us-east-1"] }
    prod    = { account_id = "444444444444", regions = ["us-east-1", "us-west-2"] }
  }
}

run "delivery_names" {
  command = plan

  assert {
    condition     = output.delivery.pipeline_role_arn == "arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline"
    error_message = "The pipeline service role ARN must follow the convention."
  }

  assert {
    condition     = output.delivery.artifact_buckets == { "us-east-1" = "acme-shop-delivery-artifacts-us-east-1", "us-west-2" = "acme-shop-delivery-artifacts-us-west-2" }
    error_message = "There must be one artifact bucket per region any environment uses."
  }

  assert {
    condition     = output.delivery.dr_regions == ["us-west-2"]
    error_message = "The DR regions are the runtime regions other than the delivery region."
  }

  assert {
    condition     = output.delivery.ecr_repository_names["api-service"] == "acme-shop-delivery-api-service"
    error_message = "ECR repositories are named {delivery_prefix}-{microservice}."
  }
}

run "targets_per_environment_and_region" {
  command = plan

  assert {
    condition     = toset(keys(output.targets)) == toset(["staging-us-east-1", "prod-us-east-1", "prod-us-west-2"])
    error_message = "There must be one target per environment and region."
  }

  assert {
    condition     = output.targets["prod-us-west-2"].deploy_role == "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-west-2"
    error_message = "Deploy roles carry the region token (IAM is global)."
  }

  assert {
    condition     = output.targets["prod-us-west-2"].deploy_guard_arn == "arn:aws:lambda:us-west-2:444444444444:function:acme-shop-prod-deploy-guard"
    error_message = "The deploy guard of each target lives in that target's account and region."
  }

  assert {
    condition     = output.targets["prod-us-east-1"].is_primary && !output.targets["prod-us-west-2"].is_primary
    error_message = "The first region of an environment is its primary."
  }

  assert {
    condition     = output.targets["staging-us-east-1"].services["notification-service"].execution_role_arn == "arn:aws:iam::333333333333:role/acme-shop-staging-notify-exec-us-east-1"
    error_message = "Execution roles use the short name and the region."
  }

  assert {
    condition     = output.targets["prod-us-west-2"].services["api-service"].image_repository == "111111111111.dkr.ecr.us-west-2.amazonaws.com/acme-shop-delivery-api-service"
    error_message = "Tasks pull from the delivery account's ECR repository in their own region."
  }

  assert {
    condition     = output.targets["staging-us-east-1"].services["api-service"].deployment_alarms == ["acme-shop-staging-api-service-running-tasks", "acme-shop-staging-api-service-unhealthy-targets", "acme-shop-staging-api-service-5xx-rate"]
    error_message = "The deployment alarms are the monitoring module's three metric alarms."
  }

  assert {
    condition     = output.targets["staging-us-east-1"].services["api-service"].parameter_path == "/pipeline/staging/api-service/"
    error_message = "The SSM namespace is /pipeline/{stage}/{service}/."
  }

  assert {
    condition     = toset(output.target_accounts) == toset(["333333333333", "444444444444"])
    error_message = "The target accounts are the runtime environments' accounts."
  }
}

run "names_other_modules_create" {
  command = plan

  assert {
    condition     = output.delivery.state_bucket == "acme-shop-delivery-tfstate"
    error_message = "The default state bucket is {delivery_prefix}-tfstate."
  }

  assert {
    condition = [output.delivery.ci_plan_role, output.delivery.ci_apply_role] == [
      "arn:aws:iam::111111111111:role/acme-shop-delivery-ci-plan",
      "arn:aws:iam::111111111111:role/acme-shop-delivery-ci-apply",
    ]
    error_message = "The CI roles are {delivery_prefix}-ci-plan and -ci-apply in the delivery account, as modules/ci-identity creates them."
  }

  assert {
    condition     = output.targets["prod-us-west-2"].parameters_kms_alias == "alias/acme-shop-prod-parameters"
    error_message = "The parameters key alias is alias/{prefix}-parameters, as modules/parameters creates it."
  }

  assert {
    condition     = output.targets["prod-us-west-2"].notifications_topic_name == "acme-shop-prod-notifications"
    error_message = "The notifications topic is {prefix}-notifications, as modules/monitoring creates it."
  }

  assert {
    condition     = output.targets["prod-us-west-2"].notifications == "arn:aws:sns:us-west-2:444444444444:acme-shop-prod-notifications"
    error_message = "The notifications topic ARN names the topic in the target's account and region."
  }

  assert {
    condition     = output.targets["staging-us-east-1"].services["notification-service"].alb_name == "acme-shop-staging-notify-alb"
    error_message = "The load balancer is {prefix}-{short_name}-alb, as modules/ecs-service creates it."
  }

  assert {
    condition     = output.targets["staging-us-east-1"].services["notification-service"].target_group_names == { blue = "acme-shop-staging-notify-blue", green = "acme-shop-staging-notify-green" }
    error_message = "The target groups are {prefix}-{short_name}-blue and -green, as modules/ecs-service creates them."
  }

  assert {
    condition     = output.targets["prod-us-east-1"].services["api-service"].alarm_names.health == "acme-shop-prod-api-service-health"
    error_message = "The composite alarm is {prefix}-{microservice}-health, as modules/monitoring creates it."
  }

  assert {
    condition = [
      for k in ["running_tasks", "unhealthy_targets", "http_5xx_rate"] :
      output.targets["prod-us-east-1"].services["api-service"].alarm_names[k]
    ] == output.targets["prod-us-east-1"].services["api-service"].deployment_alarms
    error_message = "The deployment alarms are the three metric alarms of alarm_names, in that order."
  }
}

run "rejects_a_bad_account_id" {
  command = plan

  variables {
    delivery = { environment = "delivery", account_id = "1234", region = "us-east-1" }
  }

  expect_failures = [var.delivery]
}

run "rejects_a_long_short_name" {
  command = plan

  variables {
    microservices = { "api-service" = { short_name = "averyverylongname" } }
  }

  expect_failures = [var.microservices]
}

run "rejects_an_uppercase_company" {
  command = plan

  variables {
    company = "Acme"
  }

  expect_failures = [var.company]
}

run "rejects_an_uppercase_service" {
  command = plan

  variables {
    service = "Shop"
  }

  expect_failures = [var.service]
}

run "rejects_an_environment_without_regions" {
  command = plan

  variables {
    environments = { dev = { account_id = "222222222222", regions = [] } }
  }

  expect_failures = [var.environments]
}
