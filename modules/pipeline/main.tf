data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  pipeline_name     = "${var.name_prefix}-pipeline"
  pipeline_arn      = "arn:${local.partition}:codepipeline:${local.region}:${local.account_id}:${local.pipeline_name}"
  service_role_name = "${var.name_prefix}-pipeline"
  stage_role_names = {
    source = "${var.name_prefix}-pipeline-source"
    build  = "${var.name_prefix}-pipeline-build"
    test   = "${var.name_prefix}-pipeline-test"
  }
  trigger_name = "${var.name_prefix}-pipeline-trigger"

  # --- Source ----------------------------------------------------------------

  is_codecommit     = var.pipeline_source.type == "CodeCommit"
  create_repository = local.is_codecommit && var.pipeline_source.create_repository
  repository_name   = coalesce(var.pipeline_source.repository_name, "${var.name_prefix}-monorepo")
  repository_arn    = "arn:${local.partition}:codecommit:${local.region}:${local.account_id}:${local.repository_name}"

  enable_review        = local.create_repository && var.required_approvals > 0
  review_template_name = "${local.repository_name}-review"

  source_configuration = local.is_codecommit ? tomap({
    RepositoryName       = local.repository_name
    BranchName           = var.pipeline_source.branch
    OutputArtifactFormat = "CODE_ZIP"
    PollForSourceChanges = "false" # the EventBridge rule starts the pipeline
    }) : tomap({
    S3Bucket             = var.pipeline_source.s3_bucket
    S3ObjectKey          = var.pipeline_source.s3_object_key
    PollForSourceChanges = "true"
  })

  # --- Artifacts and deploy targets -------------------------------------------

  # Artifact names are letters, digits and underscores.
  build_artifacts = { for name in keys(var.build_projects) : name => "BuildOutput_${replace(name, "-", "_")}" }

  # Variable namespace of each Build action, where the build's exported
  # variables (DEPLOYMENT_ID) land: #{Build_api_service.DEPLOYMENT_ID}.
  build_namespaces = { for name in keys(var.build_projects) : name => "Build_${replace(name, "-", "_")}" }

  # Production deploy actions, one per microservice per target, in target order.
  production_deploys = flatten([
    for target in var.production : [
      for name in keys(var.build_projects) : {
        name                  = "${name}-${target.target}"
        microservice          = name
        target                = target.target
        region                = target.region
        role_arn              = target.deploy_role_arn
        application_name      = target.codedeploy_application_name
        deployment_group_name = target.deployment_group_names[name]
      }
    ]
  ])

  deploy_role_arns = distinct(concat([var.staging.deploy_role_arn], [for t in var.production : t.deploy_role_arn]))

  # What the approver promotes: the commit (or S3 object version) that passed
  # staging, each service with the deployment ID its build exported, and the
  # production targets. CodePipeline resolves the variables and caps
  # CustomData at 500 characters: when every service does not fit, the
  # request names as many as fit, whole (a cut variable reference would not
  # resolve), and counts the rest; the execution link shows them all.
  approval_head = join(" ", [
    coalesce(var.approval_message, "Promote ${local.pipeline_name} to production?"),
    local.is_codecommit ? "Commit #{SourceVariables.CommitId} on ${var.pipeline_source.branch}" : "Source version #{SourceVariables.VersionId}",
    "passed ${var.staging.target}.",
  ])
  approval_deployments = [for name in keys(var.build_projects) : "${name} #{${local.build_namespaces[name]}.DEPLOYMENT_ID}"]
  approval_targets     = "Targets: ${join(", ", [for t in var.production : t.target])}."
  # The request with every service, then with one fewer each time, to none.
  approval_candidates = [
    for shown in range(length(local.approval_deployments), -1, -1) : join(" ", [
      local.approval_head,
      "Deployments: ${join(", ", concat(slice(local.approval_deployments, 0, shown), shown < length(local.approval_deployments) ? ["${length(local.approval_deployments) - shown} more in the execution"] : []))}.",
      local.approval_targets,
    ])
  ]
  approval_custom_data = try(
    [for text in local.approval_candidates : text if length(text) <= 500][0],
    substr(local.approval_candidates[length(local.approval_candidates) - 1], 0, 500),
  )

  # The execution awaiting approval, in the console.
  approval_execution_link = "https://${local.region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/${local.pipeline_name}/executions/#{codepipeline.PipelineExecutionId}/timeline?region=${local.region}"
}

# --- Repository --------------------------------------------------------------

# No default_branch: CodeCommit refuses to set a branch that does not exist
# yet, and a new repository is empty until the first push (which makes that
# branch the default).
resource "aws_codecommit_repository" "this" {
  count = local.create_repository ? 1 : 0

  repository_name = local.repository_name
  description     = "Monorepo of ${var.name_prefix}: services/<microservice>/ and tests/integration/, built by ${local.pipeline_name}."
}

# Pull requests into the pipeline's branch need approvals before they merge.
resource "aws_codecommit_approval_rule_template" "this" {
  count = local.enable_review ? 1 : 0

  name        = local.review_template_name
  description = "Pull requests into ${var.pipeline_source.branch} of ${local.repository_name} need ${var.required_approvals} approval(s)."

  content = jsonencode({
    Version               = "2018-11-08"
    DestinationReferences = ["refs/heads/${var.pipeline_source.branch}"]
    Statements = [{
      Type                    = "Approvers"
      NumberOfApprovalsNeeded = var.required_approvals
    }]
  })
}

resource "aws_codecommit_approval_rule_template_association" "this" {
  count = local.enable_review ? 1 : 0

  approval_rule_template_name = aws_codecommit_approval_rule_template.this[0].name
  repository_name             = aws_codecommit_repository.this[0].repository_name
}

# --- Pipeline ----------------------------------------------------------------

resource "aws_codepipeline" "this" {
  name          = local.pipeline_name
  role_arn      = aws_iam_role.service.arn
  pipeline_type = "V2"

  # One store per region; CodePipeline wants "region" only when there are
  # several (a cross-region pipeline).
  dynamic "artifact_store" {
    for_each = var.artifact_stores

    content {
      type     = "S3"
      location = artifact_store.value.bucket_name
      region   = length(var.artifact_stores) > 1 ? artifact_store.key : null

      encryption_key {
        type = "KMS"
        id   = artifact_store.value.kms_key_arn
      }
    }
  }

  stage {
    name = "Source"

    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = var.pipeline_source.type
      version          = "1"
      run_order        = 1
      namespace        = "SourceVariables"
      role_arn         = aws_iam_role.stage["source"].arn
      output_artifacts = ["SourceOutput"]
      configuration    = local.source_configuration
    }
  }

  # One action per microservice, all with the same run_order: in parallel.
  stage {
    name = "Build"

    dynamic "action" {
      for_each = var.build_projects

      content {
        name             = action.key
        category         = "Build"
        owner            = "AWS"
        provider         = "CodeBuild"
        version          = "1"
        run_order        = 1
        namespace        = local.build_namespaces[action.key]
        role_arn         = aws_iam_role.stage["build"].arn
        input_artifacts  = ["SourceOutput"]
        output_artifacts = [local.build_artifacts[action.key]]

        configuration = {
          ProjectName = action.value
        }
      }
    }
  }

  stage {
    name = "Test"

    action {
      name            = "IntegrationTests"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      run_order       = 1
      role_arn        = aws_iam_role.stage["test"].arn
      input_artifacts = ["SourceOutput"]

      configuration = {
        ProjectName = var.test_project_name
      }
    }
  }

  # Cross-account: the actions run as the staging account's deploy role.
  stage {
    name = "Staging"

    dynamic "action" {
      for_each = var.build_projects

      # No Image1 substitution: each target's taskdef-<target>.json already names
      # the image in its own region's repository, tagged by the build.
      content {
        name            = action.key
        category        = "Deploy"
        owner           = "AWS"
        provider        = "CodeDeployToECS"
        version         = "1"
        run_order       = 1
        region          = var.staging.region
        role_arn        = var.staging.deploy_role_arn
        input_artifacts = [local.build_artifacts[action.key]]

        configuration = {
          ApplicationName                = var.staging.codedeploy_application_name
          DeploymentGroupName            = var.staging.deployment_group_names[action.key]
          TaskDefinitionTemplateArtifact = local.build_artifacts[action.key]
          TaskDefinitionTemplatePath     = "taskdef-${var.staging.target}.json"
          AppSpecTemplateArtifact        = local.build_artifacts[action.key]
          AppSpecTemplatePath            = "appspec-${var.staging.target}.yaml"
        }
      }
    }
  }

  # A manual approval first, then every microservice to every production
  # target, each action as that target's deploy role in that target's region.
  stage {
    name = "Production"

    action {
      name      = "Approve"
      category  = "Approval"
      owner     = "AWS"
      provider  = "Manual"
      version   = "1"
      run_order = 1

      configuration = {
        NotificationArn    = var.approval_topic_arn
        CustomData         = local.approval_custom_data
        ExternalEntityLink = local.approval_execution_link
      }
    }

    dynamic "action" {
      for_each = local.production_deploys

      content {
        name            = action.value.name
        category        = "Deploy"
        owner           = "AWS"
        provider        = "CodeDeployToECS"
        version         = "1"
        run_order       = 2
        region          = action.value.region
        role_arn        = action.value.role_arn
        input_artifacts = [local.build_artifacts[action.value.microservice]]

        configuration = {
          ApplicationName                = action.value.application_name
          DeploymentGroupName            = action.value.deployment_group_name
          TaskDefinitionTemplateArtifact = local.build_artifacts[action.value.microservice]
          TaskDefinitionTemplatePath     = "taskdef-${action.value.target}.json"
          AppSpecTemplateArtifact        = local.build_artifacts[action.value.microservice]
          AppSpecTemplatePath            = "appspec-${action.value.target}.yaml"
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = contains(keys(var.artifact_stores), local.region)
      error_message = "The artifact_stores must include the pipeline's own region (${local.region}, the provider's region)."
    }
  }

  # The stage roles must be usable by the first execution.
  depends_on = [aws_iam_role_policy.service, aws_iam_role_policy.stage]
}

# --- Start on push (CodeCommit) ----------------------------------------------

resource "aws_cloudwatch_event_rule" "source" {
  count = local.is_codecommit ? 1 : 0

  name        = local.trigger_name
  description = "Starts ${local.pipeline_name} on a push to ${local.repository_name}/${var.pipeline_source.branch}."

  event_pattern = jsonencode({
    source        = ["aws.codecommit"]
    "detail-type" = ["CodeCommit Repository State Change"]
    resources     = [local.repository_arn]
    detail = {
      event         = ["referenceCreated", "referenceUpdated"]
      referenceType = ["branch"]
      referenceName = [var.pipeline_source.branch]
    }
  })
}

resource "aws_cloudwatch_event_target" "source" {
  count = local.is_codecommit ? 1 : 0

  rule      = aws_cloudwatch_event_rule.source[0].name
  target_id = "pipeline"
  arn       = aws_codepipeline.this.arn
  role_arn  = aws_iam_role.trigger[0].arn
}
