# Plan-only tests: the module has no resources, so its outputs are known at
# plan time and are decoded and asserted here.

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

run "defaults_for_codedeploy" {
  command = plan

  assert {
    condition = (
      jsondecode(output.task_definition_json).family == "acme-shop-prod-api-service"
      && jsondecode(output.task_definition_json).networkMode == "awsvpc"
      && jsondecode(output.task_definition_json).requiresCompatibilities == ["FARGATE"]
    )
    error_message = "The task definition must be a Fargate awsvpc task definition of the given family."
  }

  # RegisterTaskDefinition takes cpu and memory as strings.
  assert {
    condition     = jsondecode(output.task_definition_json).cpu == "256" && jsondecode(output.task_definition_json).memory == "512"
    error_message = "cpu and memory must be rendered as the strings \"256\" and \"512\"."
  }

  assert {
    condition = (
      jsondecode(output.task_definition_json).executionRoleArn == var.execution_role_arn
      && jsondecode(output.task_definition_json).taskRoleArn == var.task_role_arn
    )
    error_message = "The execution and task role ARNs must be passed through."
  }

  assert {
    condition     = toset(keys(jsondecode(output.task_definition_json))) == toset(["family", "networkMode", "requiresCompatibilities", "cpu", "memory", "executionRoleArn", "taskRoleArn", "containerDefinitions"])
    error_message = "taskdef.json must hold exactly the RegisterTaskDefinition fields the module renders."
  }

  # The placeholder CodePipeline's CodeDeployToECS action substitutes.
  assert {
    condition     = jsondecode(output.container_definitions_json)[0].image == "<IMAGE1_NAME>"
    error_message = "The default image must be the <IMAGE1_NAME> placeholder."
  }

  # Both outputs carry the same container definitions.
  assert {
    condition     = jsondecode(output.task_definition_json).containerDefinitions == jsondecode(output.container_definitions_json)
    error_message = "task_definition_json and container_definitions_json must hold the same container definitions."
  }

  assert {
    condition = (
      length(jsondecode(output.container_definitions_json)) == 1
      && jsondecode(output.container_definitions_json)[0].name == "api-service"
      && jsondecode(output.container_definitions_json)[0].essential == true
    )
    error_message = "There must be one essential container named after container_name."
  }

  assert {
    condition     = jsondecode(output.container_definitions_json)[0].portMappings == [{ containerPort = 8080, hostPort = 8080, protocol = "tcp" }]
    error_message = "The container must map container_port (awsvpc: host port = container port)."
  }

  assert {
    condition = jsondecode(output.container_definitions_json)[0].logConfiguration == {
      logDriver = "awslogs"
      options = {
        awslogs-group         = "/ecs/acme-shop-prod/api-service"
        awslogs-region        = "us-east-1"
        awslogs-stream-prefix = "api-service"
      }
    }
    error_message = "Logs must go to the given log group with the awslogs driver."
  }

  # No empty lists (ECS drops them, which would be a perpetual diff) and no
  # container health check without a path.
  assert {
    condition     = length(setintersection(keys(jsondecode(output.container_definitions_json)[0]), ["environment", "secrets", "healthCheck"])) == 0
    error_message = "Without variables, secrets or a health check path, those keys must be left out."
  }

  assert {
    condition     = output.container_name == "api-service" && output.container_port == 8080
    error_message = "container_name and container_port must be passed through for the AppSpec."
  }

  assert {
    condition     = output.family == "acme-shop-prod-api-service" && output.cpu == "256" && output.memory == "512"
    error_message = "family, cpu and memory outputs must match the rendered document."
  }
}

run "larger_size_real_image" {
  command = plan

  variables {
    cpu    = 512
    memory = 1024
    image  = "444444444444.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service:1.4.2"
  }

  assert {
    condition     = jsondecode(output.task_definition_json).cpu == "512" && jsondecode(output.task_definition_json).memory == "1024"
    error_message = "cpu and memory must follow the inputs."
  }

  assert {
    condition     = jsondecode(output.container_definitions_json)[0].image == "444444444444.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service:1.4.2"
    error_message = "A given image must replace the placeholder."
  }
}

run "largest_sizes" {
  command = plan

  variables {
    cpu    = 16384
    memory = 122880
  }

  assert {
    condition     = jsondecode(output.task_definition_json).cpu == "16384" && jsondecode(output.task_definition_json).memory == "122880"
    error_message = "16 vCPU with 120 GiB is a valid Fargate size."
  }
}

run "environment_and_secrets" {
  command = plan

  variables {
    environment_variables = {
      RATE_LIMIT_PER_MINUTE = "600"
      LOG_LEVEL             = "info"
    }
    secrets = {
      JWT_SIGNING_KEY = "arn:aws:ssm:us-east-1:444444444444:parameter/pipeline/prod/api-service/JWT_SIGNING_KEY"
    }
  }

  # Sorted by name: a stable order keeps the rendered JSON (and so the task
  # definition revision) unchanged between runs.
  assert {
    condition = jsondecode(output.container_definitions_json)[0].environment == [
      { name = "LOG_LEVEL", value = "info" },
      { name = "RATE_LIMIT_PER_MINUTE", value = "600" },
    ]
    error_message = "Environment variables must be rendered as name/value pairs sorted by name."
  }

  assert {
    condition = jsondecode(output.container_definitions_json)[0].secrets == [
      { name = "JWT_SIGNING_KEY", valueFrom = "arn:aws:ssm:us-east-1:444444444444:parameter/pipeline/prod/api-service/JWT_SIGNING_KEY" },
    ]
    error_message = "Secrets must be rendered as name/valueFrom pairs."
  }
}

run "container_health_check" {
  command = plan

  variables {
    health_check_path = "/health"
  }

  assert {
    condition     = jsondecode(output.container_definitions_json)[0].healthCheck.command == ["CMD-SHELL", "curl -fsS http://localhost:8080/health > /dev/null || exit 1"]
    error_message = "The health check must curl the path on the container port."
  }

  assert {
    condition     = jsondecode(output.container_definitions_json)[0].healthCheck.startPeriod == 60
    error_message = "The health check must give the application a start period."
  }
}
