locals {
  # Fargate's allowed task sizes: CPU units => allowed memory (MiB), in one file
  # that modules/ecs-service reads too (and the deployer's parity test).
  fargate_memory_by_cpu = jsondecode(file("${path.module}/fargate-sizes.json")).memory_by_cpu

  # Container health check: only when a path is given, because the image
  # must then ship curl. The load balancer's target group health check is
  # what gates a blue/green deployment; this one only makes ECS replace a
  # task whose process hangs.
  health_check = var.health_check_path == null ? {} : {
    healthCheck = {
      command     = ["CMD-SHELL", "curl -fsS http://localhost:${var.container_port}${var.health_check_path} > /dev/null || exit 1"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 60
    }
  }

  # Empty lists are left out rather than sent as [], so that the JSON ECS
  # returns matches the JSON rendered here (no perpetual diff).
  environment = length(var.environment_variables) == 0 ? {} : {
    environment = [for name, value in var.environment_variables : { name = name, value = value }]
  }
  secrets = length(var.secrets) == 0 ? {} : {
    secrets = [for name, arn in var.secrets : { name = name, valueFrom = arn }]
  }

  container_definition = merge(
    {
      name      = var.container_name
      image     = var.image
      essential = true
      portMappings = [{
        containerPort = var.container_port
        hostPort      = var.container_port # awsvpc: the host port is the container port
        protocol      = "tcp"
      }]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = var.log_group_name
          awslogs-region        = var.region
          awslogs-stream-prefix = var.container_name
        }
      }
    },
    local.environment,
    local.secrets,
    local.health_check,
  )

  container_definitions = [local.container_definition]

  # What CodeDeploy's taskdef.json holds: a RegisterTaskDefinition request.
  task_definition = {
    family                  = var.family
    networkMode             = "awsvpc"
    requiresCompatibilities = ["FARGATE"]
    cpu                     = tostring(var.cpu)
    memory                  = tostring(var.memory)
    executionRoleArn        = var.execution_role_arn
    taskRoleArn             = var.task_role_arn
    containerDefinitions    = local.container_definitions
  }
}
