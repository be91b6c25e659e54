# One run per validation: each input breaks exactly one rule and the run
# expects that rule to fail.

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

run "family_invalid_characters" {
  command = plan

  variables {
    family = "acme-shop-prod:api"
  }

  expect_failures = [var.family]
}

run "container_name_invalid_characters" {
  command = plan

  variables {
    container_name = "api service"
  }

  expect_failures = [var.container_name]
}

run "container_port_out_of_range" {
  command = plan

  variables {
    container_port = 70000
  }

  expect_failures = [var.container_port]
}

run "cpu_not_a_fargate_size" {
  command = plan

  variables {
    cpu = 300
  }

  expect_failures = [var.cpu]
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

run "execution_role_arn_not_a_role" {
  command = plan

  variables {
    execution_role_arn = "acme-shop-prod-api-exec-us-east-1"
  }

  expect_failures = [var.execution_role_arn]
}

run "task_role_arn_not_a_role" {
  command = plan

  variables {
    task_role_arn = "arn:aws:iam::444444444444:policy/acme"
  }

  expect_failures = [var.task_role_arn]
}

run "log_group_name_invalid" {
  command = plan

  variables {
    log_group_name = "/ecs/acme shop"
  }

  expect_failures = [var.log_group_name]
}

run "region_invalid" {
  command = plan

  variables {
    region = "us-east-1a"
  }

  expect_failures = [var.region]
}

run "image_empty" {
  command = plan

  variables {
    image = " "
  }

  expect_failures = [var.image]
}

run "secrets_not_parameter_arns" {
  command = plan

  variables {
    secrets = {
      JWT_SIGNING_KEY = "/pipeline/prod/api-service/JWT_SIGNING_KEY"
    }
  }

  expect_failures = [var.secrets]
}

run "health_check_path_shell_characters" {
  command = plan

  variables {
    health_check_path = "/health; rm -rf /"
  }

  expect_failures = [var.health_check_path]
}
