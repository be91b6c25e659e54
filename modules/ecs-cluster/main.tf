data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  cluster_name        = "${var.name_prefix}-cluster"
  codedeploy_app_name = "${var.name_prefix}-services"
  # IAM is global: the region keeps the role name unique when the same prefix
  # is deployed to several regions of one account.
  codedeploy_role_name = "${var.name_prefix}-codedeploy-${local.region}"

  # ARN prefixes of what this environment's CodeDeploy may touch in this
  # region and account.
  arn_prefix = {
    ecs        = "arn:${local.partition}:ecs:${local.region}:${local.account_id}"
    elb        = "arn:${local.partition}:elasticloadbalancing:${local.region}:${local.account_id}"
    lambda     = "arn:${local.partition}:lambda:${local.region}:${local.account_id}"
    cloudwatch = "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}"
    sns        = "arn:${local.partition}:sns:${local.region}:${local.account_id}"
    iam        = "arn:${local.partition}:iam::${local.account_id}"
  }
}

# --- ECS cluster -------------------------------------------------------------

resource "aws_ecs_cluster" "this" {
  name = local.cluster_name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

# Services run on Fargate; FARGATE_SPOT is available to services that ask
# for it in their own capacity provider strategy.
resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
    base              = 0
  }
}

# --- CodeDeploy --------------------------------------------------------------

# One application for the environment's microservices; each service adds its
# own deployment group (ecs-service).
resource "aws_codedeploy_app" "this" {
  name             = local.codedeploy_app_name
  compute_platform = "ECS"
}

resource "aws_iam_role" "codedeploy" {
  name        = local.codedeploy_role_name
  description = "CodeDeploy blue/green deployments of the ECS services in ${local.cluster_name}."

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CodeDeploy"
      Effect    = "Allow"
      Principal = { Service = "codedeploy.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = { Name = local.codedeploy_role_name }
}

# What AWSCodeDeployRoleForECS grants, narrowed to this environment's
# cluster, load balancers, hooks, alarms, topics and task roles.
resource "aws_iam_role_policy" "codedeploy" {
  name = "ecs-blue-green"
  role = aws_iam_role.codedeploy.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "EcsServices"
        Effect = "Allow"
        Action = [
          "ecs:DescribeServices",
          "ecs:UpdateServicePrimaryTaskSet",
        ]
        Resource = "${local.arn_prefix.ecs}:service/${local.cluster_name}/*"
      },
      {
        # ecs:CreateTaskSet has no resource-level permissions; the condition
        # keeps it to this cluster.
        Sid      = "EcsCreateTaskSet"
        Effect   = "Allow"
        Action   = "ecs:CreateTaskSet"
        Resource = "*"
        Condition = {
          ArnEquals = { "ecs:cluster" = aws_ecs_cluster.this.arn }
        }
      },
      {
        Sid      = "EcsDeleteTaskSet"
        Effect   = "Allow"
        Action   = "ecs:DeleteTaskSet"
        Resource = "${local.arn_prefix.ecs}:task-set/${local.cluster_name}/*"
      },
      {
        # elasticloadbalancing:DescribeListeners, DescribeRules and
        # DescribeTargetGroups have no resource-level permissions.
        Sid    = "DescribeLoadBalancing"
        Effect = "Allow"
        Action = [
          "elasticloadbalancing:DescribeListeners",
          "elasticloadbalancing:DescribeRules",
          "elasticloadbalancing:DescribeTargetGroups",
        ]
        Resource = "*"
      },
      {
        # Traffic shifting: the listeners and rules of the environment's
        # load balancers ({name_prefix}-{short_name}-alb).
        Sid    = "ShiftTraffic"
        Effect = "Allow"
        Action = [
          "elasticloadbalancing:ModifyListener",
          "elasticloadbalancing:ModifyRule",
        ]
        Resource = [
          "${local.arn_prefix.elb}:listener/app/${var.name_prefix}-*/*",
          "${local.arn_prefix.elb}:listener-rule/app/${var.name_prefix}-*/*",
        ]
      },
      {
        Sid      = "LifecycleHooks"
        Effect   = "Allow"
        Action   = "lambda:InvokeFunction"
        Resource = "${local.arn_prefix.lambda}:function:${var.name_prefix}-*"
      },
      {
        Sid      = "DeploymentAlarms"
        Effect   = "Allow"
        Action   = "cloudwatch:DescribeAlarms"
        Resource = "${local.arn_prefix.cloudwatch}:alarm:${var.name_prefix}-*"
      },
      {
        Sid      = "Notifications"
        Effect   = "Allow"
        Action   = "sns:Publish"
        Resource = "${local.arn_prefix.sns}:${var.name_prefix}-*"
      },
      {
        # The task and execution roles of the environment's services in this
        # region ({name_prefix}-{short_name}-task-{region}, -exec-{region}),
        # and only to hand them to ECS tasks.
        Sid    = "PassTaskRoles"
        Effect = "Allow"
        Action = "iam:PassRole"
        Resource = [
          "${local.arn_prefix.iam}:role/${var.name_prefix}-*-task-${local.region}",
          "${local.arn_prefix.iam}:role/${var.name_prefix}-*-exec-${local.region}",
        ]
        Condition = {
          StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" }
        }
      },
    ]
  })
}
