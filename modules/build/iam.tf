# One role per project, allowed only what that project's build does.

locals {
  ssm_parameter_arn_base = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter"

  ecr_pull_actions = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
  ]

  ecr_push_actions = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
  ]
}

resource "aws_iam_role" "this" {
  for_each = local.projects

  name        = each.value.role_name
  description = "CodeBuild role of ${each.value.project_name}."

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CodeBuild"
      Effect    = "Allow"
      Principal = { Service = "codebuild.amazonaws.com" }
      Action    = "sts:AssumeRole"
      # Confused-deputy protection: only this project of this account.
      Condition = {
        StringEquals = {
          "aws:SourceAccount" = local.account_id
          "aws:SourceArn"     = "arn:${local.partition}:codebuild:${local.region}:${local.account_id}:project/${each.value.project_name}"
        }
      }
    }]
  })

  lifecycle {
    precondition {
      condition     = length(each.value.role_name) <= 64
      error_message = "The role name ${each.value.role_name} is longer than the 64 characters IAM allows; shorten the name_prefix or the short_name."
    }
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.projects

  name = "build"
  role = aws_iam_role.this[each.key].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "WriteOwnLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = "${aws_cloudwatch_log_group.this[each.key].arn}:*"
        },
        {
          Sid      = "ReadArtifactBucket"
          Effect   = "Allow"
          Action   = ["s3:GetBucketAcl", "s3:GetBucketLocation"]
          Resource = var.artifact_bucket_arn
        },
        {
          Sid    = "Artifacts"
          Effect = "Allow"
          # Builds read the source artifact; microservice builds also write
          # their output artifact (the test project has none).
          Action = each.value.repository_arn == null ? ["s3:GetObject", "s3:GetObjectVersion"] : [
            "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject",
          ]
          Resource = "${var.artifact_bucket_arn}/*"
        },
        {
          Sid    = "ArtifactKey"
          Effect = "Allow"
          Action = each.value.repository_arn == null ? ["kms:Decrypt", "kms:DescribeKey"] : [
            "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
          ]
          Resource = var.artifact_kms_key_arn
        },
        {
          # ecr:GetAuthorizationToken has no resource-level permissions: the
          # token is for the registry, what it may touch is limited below.
          Sid      = "EcrLogin"
          Effect   = "Allow"
          Action   = "ecr:GetAuthorizationToken"
          Resource = "*"
        },
        {
          Sid      = "PullBuildImage"
          Effect   = "Allow"
          Action   = local.ecr_pull_actions
          Resource = var.build_image.repository_arn
        },
        {
          Sid    = "ReadBuildParameters"
          Effect = "Allow"
          Action = ["ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"]
          Resource = [
            "${local.ssm_parameter_arn_base}${trimsuffix(each.value.parameter_path, "/")}",
            "${local.ssm_parameter_arn_base}${each.value.parameter_path}*",
          ]
        },
        {
          Sid    = "TestReports"
          Effect = "Allow"
          Action = [
            "codebuild:CreateReportGroup",
            "codebuild:CreateReport",
            "codebuild:UpdateReport",
            "codebuild:BatchPutTestCases",
            "codebuild:BatchPutCodeCoverages",
          ]
          Resource = "arn:${local.partition}:codebuild:${local.region}:${local.account_id}:report-group/${each.value.project_name}-*"
        },
      ],
      each.value.repository_arn == null ? [] : [
        {
          Sid      = "PushOwnImage"
          Effect   = "Allow"
          Action   = local.ecr_push_actions
          Resource = each.value.repository_arn
        },
      ],
      var.parameter_kms_key_arn == null ? [] : [
        {
          Sid      = "DecryptBuildParameters"
          Effect   = "Allow"
          Action   = "kms:Decrypt"
          Resource = var.parameter_kms_key_arn
          Condition = {
            StringEquals = { "kms:ViaService" = "ssm.${local.region}.amazonaws.com" }
          }
        },
      ],
    )
  })
}
