# The role the delivery pipeline's CodeDeployToECS actions run as in a runtime
# account: CodePipeline's service role (delivery account) assumes it, reads the
# build output from the artifact bucket, registers the task definition and
# starts the CodeDeploy blue/green deployment.

data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  # IAM is global: the region keeps the name unique when the same prefix is
  # deployed to several regions of one account (prod and its DR region).
  role_name = "${var.name_prefix}-deploy-${local.region}"

  codedeploy_arn_prefix = "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}"
  application_arn       = "${local.codedeploy_arn_prefix}:application:${var.codedeploy_application_name}"
  deployment_group_arns = [
    for group in var.deployment_group_names : "${local.codedeploy_arn_prefix}:deploymentgroup:${var.codedeploy_application_name}/${group}"
  ]
  # The deployment configuration is whatever the deployment group names: a
  # predefined CodeDeployDefault.ECS* or a custom one of this account and
  # region. GetDeploymentConfig only reads it.
  deployment_config_arn = "${local.codedeploy_arn_prefix}:deploymentconfig:*"

  # Any key of the delivery account, in any region: the condition narrows it
  # to the keys carrying the artifact alias.
  delivery_keys_arn = "arn:${local.partition}:kms:*:${var.delivery_account_id}:key/*"

  trust_statement = merge(
    {
      Sid       = "DeliveryPipeline"
      Effect    = "Allow"
      Principal = { AWS = var.trusted_role_arns }
      Action    = "sts:AssumeRole"
    },
    var.external_id == null ? {} : {
      Condition = { StringEquals = { "sts:ExternalId" = var.external_id } }
    },
  )
}

resource "aws_iam_role" "this" {
  name                 = local.role_name
  description          = "Deploys ${var.codedeploy_application_name} (${local.region}) for the delivery pipeline: registers task definitions and starts CodeDeploy deployments."
  max_session_duration = 3600

  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [local.trust_statement]
  })

  tags = { Name = local.role_name }
}

resource "aws_iam_role_policy" "deploy" {
  name = "deploy"
  role = aws_iam_role.this.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "CodeDeployDeployments"
        Effect   = "Allow"
        Action   = ["codedeploy:CreateDeployment", "codedeploy:GetDeployment"]
        Resource = local.deployment_group_arns
      },
      {
        Sid    = "CodeDeployApplication"
        Effect = "Allow"
        Action = [
          "codedeploy:GetApplication",
          "codedeploy:GetApplicationRevision",
          "codedeploy:RegisterApplicationRevision",
        ]
        Resource = local.application_arn
      },
      {
        Sid      = "CodeDeployConfigs"
        Effect   = "Allow"
        Action   = "codedeploy:GetDeploymentConfig"
        Resource = local.deployment_config_arn
      },
      {
        # ecs:RegisterTaskDefinition and ecs:DescribeTaskDefinition support no
        # resource-level permissions: "*" is the only resource they accept.
        Sid      = "TaskDefinitions"
        Effect   = "Allow"
        Action   = ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"]
        Resource = "*"
      },
      {
        Sid      = "PassTaskRolesToEcs"
        Effect   = "Allow"
        Action   = "iam:PassRole"
        Resource = var.pass_role_arns
        Condition = {
          StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" }
        }
      },
      {
        Sid      = "ReadArtifacts"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion"]
        Resource = [for arn in var.artifact_bucket_arns : "${arn}/*"]
      },
      {
        Sid      = "ReadArtifactBuckets"
        Effect   = "Allow"
        Action   = "s3:GetBucketVersioning"
        Resource = var.artifact_bucket_arns
      },
      {
        Sid      = "DecryptArtifacts"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:DescribeKey"]
        Resource = local.delivery_keys_arn
        Condition = {
          "ForAnyValue:StringEquals" = { "kms:ResourceAliases" = var.artifact_kms_alias_name }
        }
      },
    ]
  })

  lifecycle {
    # ECS tasks can only run as roles of their own account.
    precondition {
      condition     = alltrue([for arn in var.pass_role_arns : split(":", arn)[4] == local.account_id])
      error_message = "The pass_role_arns must be roles of this account (${local.account_id}): ECS tasks cannot use another account's roles."
    }
  }
}
