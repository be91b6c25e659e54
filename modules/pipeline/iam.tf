# The pipeline's service role assumes a distinct role for each stage: Source,
# Build and Test run as the stage roles below, Staging and Production as the
# runtime accounts' deploy roles (inputs), which trust this service role.

locals {
  codebuild_project_arn_base = "arn:${local.partition}:codebuild:${local.region}:${local.account_id}:project"

  artifact_bucket_arns  = [for s in values(var.artifact_stores) : s.bucket_arn]
  artifact_object_arns  = [for s in values(var.artifact_stores) : "${s.bucket_arn}/*"]
  artifact_kms_key_arns = [for s in values(var.artifact_stores) : s.kms_key_arn]

  source_statements = local.is_codecommit ? [
    {
      Sid    = "ReadRepository"
      Effect = "Allow"
      Action = [
        "codecommit:GetBranch",
        "codecommit:GetCommit",
        "codecommit:UploadArchive",
        "codecommit:GetUploadArchiveStatus",
        "codecommit:CancelUploadArchive",
      ]
      Resource = local.repository_arn
    },
    ] : [
    {
      Sid      = "ReadSourceBucket"
      Effect   = "Allow"
      Action   = ["s3:GetBucketVersioning"]
      Resource = "arn:${local.partition}:s3:::${var.pipeline_source.s3_bucket}"
    },
    {
      Sid      = "ReadSourceObject"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:GetObjectVersion"]
      Resource = "arn:${local.partition}:s3:::${var.pipeline_source.s3_bucket}/${var.pipeline_source.s3_object_key}"
    },
  ]

  stage_policies = {
    source = concat(local.source_statements, [
      {
        Sid      = "WriteSourceArtifact"
        Effect   = "Allow"
        Action   = ["s3:PutObject"]
        Resource = local.artifact_object_arns
      },
      {
        Sid      = "ArtifactKeys"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
        Resource = local.artifact_kms_key_arns
      },
    ])
    build = [
      {
        Sid      = "RunBuilds"
        Effect   = "Allow"
        Action   = ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"]
        Resource = [for project in values(var.build_projects) : "${local.codebuild_project_arn_base}/${project}"]
      },
    ]
    test = [
      {
        Sid      = "RunTests"
        Effect   = "Allow"
        Action   = ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"]
        Resource = ["${local.codebuild_project_arn_base}/${var.test_project_name}"]
      },
    ]
  }
}

# --- Service role ------------------------------------------------------------

resource "aws_iam_role" "service" {
  name        = local.service_role_name
  description = "Service role of ${local.pipeline_name}: assumes the stage roles and the runtime accounts' deploy roles."

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CodePipeline"
      Effect    = "Allow"
      Principal = { Service = "codepipeline.amazonaws.com" }
      Action    = "sts:AssumeRole"
      # No aws:SourceArn/SourceAccount condition: CodePipeline does not
      # document them for its service role, and a condition on a key the
      # service does not send would deny every execution.
    }]
  })
}

resource "aws_iam_role_policy" "service" {
  name = "pipeline"
  role = aws_iam_role.service.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "AssumeStageRoles"
          Effect   = "Allow"
          Action   = "sts:AssumeRole"
          Resource = [for stage in ["source", "build", "test"] : aws_iam_role.stage[stage].arn]
        },
        {
          Sid      = "AssumeDeployRoles"
          Effect   = "Allow"
          Action   = "sts:AssumeRole"
          Resource = local.deploy_role_arns
        },
        {
          # Cross-region actions: CodePipeline copies artifacts between stores.
          Sid      = "ArtifactBuckets"
          Effect   = "Allow"
          Action   = ["s3:GetBucketVersioning", "s3:GetBucketLocation"]
          Resource = local.artifact_bucket_arns
        },
        {
          Sid      = "Artifacts"
          Effect   = "Allow"
          Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
          Resource = local.artifact_object_arns
        },
        {
          Sid      = "ArtifactKeys"
          Effect   = "Allow"
          Action   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
          Resource = local.artifact_kms_key_arns
        },
        {
          # The manual approval runs as the service role.
          Sid      = "PublishApprovalRequest"
          Effect   = "Allow"
          Action   = "sns:Publish"
          Resource = var.approval_topic_arn
        },
      ],
      var.approval_topic_kms_key_arn == null ? [] : [
        {
          Sid      = "ApprovalTopicKey"
          Effect   = "Allow"
          Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
          Resource = var.approval_topic_kms_key_arn
        },
      ],
    )
  })
}

# --- Stage roles -------------------------------------------------------------

resource "aws_iam_role" "stage" {
  for_each = local.stage_role_names

  name        = each.value
  description = "The ${each.key} stage of ${local.pipeline_name}, assumed by its service role only."

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "PipelineServiceRole"
      Effect    = "Allow"
      Principal = { AWS = aws_iam_role.service.arn }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "stage" {
  for_each = local.stage_role_names

  name = each.key
  role = aws_iam_role.stage[each.key].id

  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.stage_policies[each.key]
  })
}

# --- EventBridge trigger (CodeCommit) ----------------------------------------

resource "aws_iam_role" "trigger" {
  count = local.is_codecommit ? 1 : 0

  name        = local.trigger_name
  description = "Lets EventBridge start ${local.pipeline_name} on a push."

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EventBridge"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
      }
    }]
  })
}

resource "aws_iam_role_policy" "trigger" {
  count = local.is_codecommit ? 1 : 0

  name = "start-pipeline"
  role = aws_iam_role.trigger[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "StartPipeline"
      Effect   = "Allow"
      Action   = "codepipeline:StartPipelineExecution"
      Resource = local.pipeline_arn
    }]
  })
}
