# --- Execution role --------------------------------------------------------------

resource "aws_iam_role" "this" {
  name        = local.role_name
  description = "Execution role of the deploy guard ${local.function_name}."

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Lambda"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = { Name = local.role_name }

  lifecycle {
    precondition {
      condition     = length(local.role_name) <= 64
      error_message = "The execution role name ${local.role_name} is longer than IAM's 64 characters: shorten the name_prefix."
    }
  }
}

# Least privilege, per action by the resource types AWS's service
# authorization reference gives it: this application's deployment groups,
# this cluster's services, these alarms, this topic and its key, this log
# group.
resource "aws_iam_role_policy" "this" {
  name = "deploy-guard"
  role = aws_iam_role.this.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "ReadDeployments"
        Effect = "Allow"
        Action = [
          "codedeploy:GetDeployment",
          "codedeploy:GetDeploymentGroup",
          "codedeploy:ListDeployments",
        ]
        Resource = local.deployment_group_arns
      },
      {
        Sid      = "ListDeploymentGroups"
        Effect   = "Allow"
        Action   = "codedeploy:ListDeploymentGroups"
        Resource = local.application_arn
      },
      {
        # codedeploy:PutLifecycleEventHookExecutionStatus and
        # codedeploy:StopDeployment have no resource-level permissions (and no
        # condition keys); the function only calls them for deployments it has
        # read, which ReadDeployments limits to this application's groups.
        Sid    = "ReportAndStop"
        Effect = "Allow"
        Action = [
          "codedeploy:PutLifecycleEventHookExecutionStatus",
          "codedeploy:StopDeployment",
        ]
        Resource = "*"
      },
      {
        # elasticloadbalancing:DescribeListeners and DescribeTargetHealth have
        # no resource-level permissions.
        Sid    = "DescribeLoadBalancing"
        Effect = "Allow"
        Action = [
          "elasticloadbalancing:DescribeListeners",
          "elasticloadbalancing:DescribeTargetHealth",
        ]
        Resource = "*"
      },
      {
        Sid      = "DescribeServices"
        Effect   = "Allow"
        Action   = "ecs:DescribeServices"
        Resource = local.service_arns
      },
      {
        Sid      = "DescribeAlarms"
        Effect   = "Allow"
        Action   = "cloudwatch:DescribeAlarms"
        Resource = local.alarm_arns
      },
      {
        Sid      = "Notify"
        Effect   = "Allow"
        Action   = "sns:Publish"
        Resource = var.notifications_topic_arn
      },
      {
        # The topic is encrypted: publishing needs a data key of its key.
        Sid    = "NotifyEncrypted"
        Effect = "Allow"
        Action = [
          "kms:Decrypt",
          "kms:GenerateDataKey",
        ]
        Resource = var.notifications_kms_key_arn
      },
      {
        Sid    = "Logs"
        Effect = "Allow"
        Action = [
          "logs:CreateLogStream",
          "logs:PutLogEvents",
        ]
        Resource = "${aws_cloudwatch_log_group.this.arn}:log-stream:*"
      },
    ]
  })
}
