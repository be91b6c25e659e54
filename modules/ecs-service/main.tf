data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  # Fargate's allowed task sizes: CPU units => allowed memory (MiB). The
  # task-definition module's table (one file), checked here too so that a wrong
  # size is reported on this module's inputs.
  fargate_memory_by_cpu = jsondecode(file("${path.module}/../task-definition/fargate-sizes.json")).memory_by_cpu

  name       = var.microservice.name
  short_name = "${var.name_prefix}-${var.microservice.short_name}"

  # Names capped by AWS use the short name (validated <= 32 characters).
  alb_name          = "${local.short_name}-alb"
  target_group_name = { for color in ["blue", "green"] : color => "${local.short_name}-${color}" }
  alb_sg_name       = "${local.short_name}-alb"
  task_sg_name      = "${local.short_name}-tasks"
  # IAM is global: the region keeps role names unique when the same prefix is
  # deployed to several regions of one account.
  task_role_name      = "${local.short_name}-task-${local.region}"
  execution_role_name = "${local.short_name}-exec-${local.region}"

  service_name          = "${var.name_prefix}-${local.name}"
  family                = "${var.name_prefix}-${local.name}"
  deployment_group_name = "${var.name_prefix}-${local.name}"
  log_group_name        = "/ecs/${var.name_prefix}/${local.name}"
  autoscaling_policy    = "${var.name_prefix}-${local.name}-cpu"

  # Known at plan time when enable_https is set, even while certificate_arn is not.
  https                    = var.enable_https != null ? var.enable_https : var.certificate_arn != null
  listener_protocol        = local.https ? "HTTPS" : "HTTP"
  production_listener_port = coalesce(var.production_listener_port, local.https ? 443 : 80)
  # With a certificate, port 80 redirects to HTTPS (enable_http_redirect).
  http_redirect = local.https && var.enable_http_redirect
  listener_ports = merge(
    {
      production = local.production_listener_port
      test       = var.test_listener_port
    },
    local.http_redirect ? { redirect = 80 } : {},
  )
  endpoint_port_suffix = local.production_listener_port == (local.https ? 443 : 80) ? "" : ":${local.production_listener_port}"
}

# --- Task definition ---------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days input, set per environment (30 days by default for application logs); a year is not required for them.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
}

# The same renderer the delivery stack uses for taskdef.json, so that the
# baseline revision and the pipeline's revisions differ only in the image.
module "task_definition" {
  source = "../task-definition"

  family                = local.family
  container_name        = local.name
  container_port        = var.microservice.port
  image                 = var.container_image
  cpu                   = var.cpu
  memory                = var.memory
  execution_role_arn    = aws_iam_role.execution.arn
  task_role_arn         = aws_iam_role.task.arn
  log_group_name        = aws_cloudwatch_log_group.this.name
  region                = local.region
  environment_variables = var.environment_variables
  secrets               = var.secrets
}

resource "aws_ecs_task_definition" "this" {
  family                   = module.task_definition.family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = module.task_definition.cpu
  memory                   = module.task_definition.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = module.task_definition.container_definitions_json
}

# --- ECS service ---------------------------------------------------------------

resource "aws_ecs_service" "this" {
  name            = local.service_name
  cluster         = var.cluster_arn
  task_definition = aws_ecs_task_definition.this.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"

  deployment_controller {
    type = "CODE_DEPLOY"
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this["blue"].arn
    container_name   = module.task_definition.container_name
    container_port   = module.task_definition.container_port
  }

  # CodeDeploy owns these after the first deployment: each blue/green
  # deployment creates a task set from a new task definition revision (the
  # pipeline's taskdef.json) behind the other target group, then makes it the
  # service's primary task set, so DescribeServices reports the new revision
  # and the other target group. That is AWS's behaviour, not drift to undo:
  # Terraform sets them once, at creation, and ignores them afterwards.
  # Nothing else is ignored.
  lifecycle {
    ignore_changes = [task_definition, load_balancer]
  }

  # The target group must be attached to a load balancer (through a
  # listener) before a service can use it; the execution role must be able
  # to pull and log before tasks start.
  depends_on = [
    aws_lb_listener.production,
    aws_lb_listener.test,
    aws_iam_role_policy.execution,
  ]
}

# --- CodeDeploy ----------------------------------------------------------------

resource "aws_codedeploy_deployment_group" "this" {
  app_name               = var.codedeploy_app_name
  deployment_group_name  = local.deployment_group_name
  service_role_arn       = var.codedeploy_service_role_arn
  deployment_config_name = var.deployment_config_name

  deployment_style {
    deployment_type   = "BLUE_GREEN"
    deployment_option = "WITH_TRAFFIC_CONTROL"
  }

  ecs_service {
    cluster_name = var.cluster_name
    service_name = aws_ecs_service.this.name
  }

  # Roll back when the deployment fails, and when a deployment alarm goes
  # off (only meaningful with alarms: CodeDeploy has none to watch otherwise).
  auto_rollback_configuration {
    enabled = true
    events  = length(var.deployment_alarm_names) > 0 ? ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] : ["DEPLOYMENT_FAILURE"]
  }

  dynamic "alarm_configuration" {
    for_each = length(var.deployment_alarm_names) > 0 ? [var.deployment_alarm_names] : []

    content {
      enabled = true
      alarms  = alarm_configuration.value
    }
  }

  blue_green_deployment_config {
    deployment_ready_option {
      action_on_timeout = "CONTINUE_DEPLOYMENT"
    }

    terminate_blue_instances_on_deployment_success {
      action                           = "TERMINATE"
      termination_wait_time_in_minutes = var.termination_wait_minutes
    }
  }

  load_balancer_info {
    target_group_pair_info {
      prod_traffic_route {
        listener_arns = [aws_lb_listener.production.arn]
      }

      test_traffic_route {
        listener_arns = [aws_lb_listener.test.arn]
      }

      target_group {
        name = aws_lb_target_group.this["blue"].name
      }

      target_group {
        name = aws_lb_target_group.this["green"].name
      }
    }
  }
}

# --- Autoscaling -------------------------------------------------------------

resource "aws_appautoscaling_target" "this" {
  count = var.enable_autoscaling ? 1 : 0

  service_namespace  = "ecs"
  resource_id        = "service/${var.cluster_name}/${aws_ecs_service.this.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.autoscaling.min_capacity
  max_capacity       = var.autoscaling.max_capacity
}

resource "aws_appautoscaling_policy" "cpu" {
  count = var.enable_autoscaling ? 1 : 0

  name               = local.autoscaling_policy
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscaling.cpu_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
