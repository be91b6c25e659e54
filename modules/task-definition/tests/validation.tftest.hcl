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

variables {
  family             = "acme-shop-prod-api-service"
  container_name     = "api-service"
  container_port     = 8080
  cpu                = 256
  memory             = 512
  execution_role_arn = "arn:aws:iam::444444444444:role/acme-shop-prod-api-exec-us-east-1"
  task_role_arn      = "arn:aws:iam::444444444444:role/acme-shop-prod-api-task-us-east-1"
  log_group_name     = "/ecs/acme-shop-prod/api-service"
  region             = "us-east-1"
}

# One rule of each of 11 variables; the comment above each value names the rule.
run "breaks_first_rule_of_each" {
  command = plan

  variables {
    # family_invalid_characters
    family = "acme-shop-prod:api"

    # container_name_invalid_characters
    container_name = "api service"

    # container_port_out_of_range
    container_port = 70000

    # cpu_not_a_fargate_size
    cpu = 300

    # execution_role_arn_not_a_role
    execution_role_arn = "acme-shop-prod-api-exec-us-east-1"

    # task_role_arn_not_a_role
    task_role_arn = "arn:aws:iam::444444444444:policy/acme"

    # log_group_name_invalid
    log_group_name = "/ecs/acme shop"

    # region_invalid
    region = "us-east-1a"

    # image_empty
    image = " "

    # secrets_not_parameter_arns
    secrets = {
      JWT_SIGNING_KEY = "/pipeline/prod/api-service/JWT_SIGNING_KEY"
    }

    # health_check_path_shell_characters
    health_check_path = "/health; rm -rf /"
  }

  expect_failures = [
    var.family,
    var.container_name,
    var.container_port,
    var.cpu,
    var.execution_role_arn,
    var.task_role_arn,
    var.log_group_name,
    var.region,
    var.image,
    var.secrets,
    var.health_check_path,
  ]
}

run "memory_too_small_for_cpu" {
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
    cpu    = 1024
    memory = 2500
  }

  expect_failures = [var.memory]
}

run "memory_off_step_8_vcpu" {
  command = plan

  variables {
    cpu    = 8192
    memory = 17408 # 16384 + 1024: 8 vCPU goes in steps of 4096
  }

  expect_failures = [var.memory]
}

run "memory_too_large_for_cpu" {
  command = plan

  variables {
    cpu    = 256
    memory = 4096
  }

  expect_failures = [var.memory]
}
