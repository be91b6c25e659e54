locals {
  # ECS tasks of this account and region only (confused-deputy protection).
  ecs_tasks_trust_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EcsTasks"
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:*" }
      }
    }]
  })
}

# --- Task role (the application's own AWS calls) -----------------------------

resource "aws_iam_role" "task" {
  name               = local.task_role_name
  description        = "Role of the ${local.service_name} application in its tasks."
  assume_role_policy = local.ecs_tasks_trust_policy

  tags = { Name = local.task_role_name }
}

# --- Execution role (the ECS agent: pull the image, write logs, secrets) -----

resource "aws_iam_role" "execution" {
  name               = local.execution_role_name
  description        = "ECS agent role of ${local.service_name}: pulls the image and writes the logs."
  assume_role_policy = local.ecs_tasks_trust_policy

  tags = { Name = local.execution_role_name }
}

resource "aws_iam_role_policy" "execution" {
  name = "pull-and-log"
  role = aws_iam_role.execution.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid    = "WriteLogs"
        Effect = "Allow"
        Action = [
          "logs:CreateLogStream",
          "logs:PutLogEvents",
        ]
        Resource = "${aws_cloudwatch_log_group.this.arn}:*"
      }],
      [for statement in [
        {
          # ecr:GetAuthorizationToken has no resource-level permissions.
          Sid      = "EcrLogin"
          Effect   = "Allow"
          Action   = "ecr:GetAuthorizationToken"
          Resource = "*"
        },
        {
          Sid    = "PullImages"
          Effect = "Allow"
          Action = [
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
          ]
          Resource = var.ecr_repository_arns
        },
      ] : statement if length(var.ecr_repository_arns) > 0],
    )
  })
}

# count, not for_each: the policies are often created in the same apply, and
# for_each cannot key on ARNs that are not known until then.
resource "aws_iam_role_policy_attachment" "execution" {
  count = length(var.execution_role_policy_arns)

  role       = aws_iam_role.execution.name
  policy_arn = var.execution_role_policy_arns[count.index]
}
