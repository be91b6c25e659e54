# Plan-only tests of the pipeline module against a mocked AWS provider.
# override_during = plan makes the mocked computed values (ARNs) known in the
# plan; each role gets its own ARN so that the tests can tell them apart.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111111111111:role/mocked"
    }
  }
  mock_resource "aws_iam_role_policy" {}
  mock_resource "aws_codecommit_repository" {
    defaults = {
      clone_url_http = "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/acme-shop-delivery-monorepo"
    }
  }
  mock_resource "aws_codepipeline" {
    defaults = {
      arn = "arn:aws:codepipeline:us-east-1:111111111111:acme-shop-delivery-pipeline"
    }
  }
  mock_resource "aws_codecommit_approval_rule_template" {}
  mock_resource "aws_codecommit_approval_rule_template_association" {}
  mock_resource "aws_cloudwatch_event_rule" {}
  mock_resource "aws_cloudwatch_event_target" {}

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111111111111"
    }
  }
}

override_resource {
  target          = aws_iam_role.service
  override_during = plan
  values          = { arn = "arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline" }
}

override_resource {
  target          = aws_iam_role.stage["source"]
  override_during = plan
  values          = { arn = "arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline-source" }
}

override_resource {
  target          = aws_iam_role.stage["build"]
  override_during = plan
  values          = { arn = "arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline-build" }
}

override_resource {
  target          = aws_iam_role.stage["test"]
  override_during = plan
  values          = { arn = "arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline-test" }
}

variables {
  name_prefix = "acme-shop-delivery"
  artifact_stores = {
    us-east-1 = {
      bucket_name = "acme-shop-delivery-artifacts-us-east-1"
      bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"
      kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"
    }
    us-west-2 = {
      bucket_name = "acme-shop-delivery-artifacts-us-west-2"
      bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-west-2"
      kms_key_arn = "arn:aws:kms:us-west-2:111111111111:key/22222222-2222-2222-2222-222222222222"
    }
  }
  build_projects = {
    api-service          = "acme-shop-delivery-api-service"
    auth-service         = "acme-shop-delivery-auth-service"
    notification-service = "acme-shop-delivery-notification-service"
  }
  test_project_name = "acme-shop-delivery-integration-tests"
  staging = {
    region                      = "us-east-1"
    account_id                  = "333333333333"
    deploy_role_arn             = "arn:aws:iam::333333333333:role/acme-shop-staging-deploy-us-east-1"
    codedeploy_application_name = "acme-shop-staging-services"
    deployment_group_names = {
      api-service          = "acme-shop-staging-api-service"
      auth-service         = "acme-shop-staging-auth-service"
      notification-service = "acme-shop-staging-notification-service"
    }
    target = "staging-us-east-1"
  }
  production = [
    {
      region                      = "us-east-1"
      account_id                  = "444444444444"
      deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-east-1"
      codedeploy_application_name = "acme-shop-prod-services"
      deployment_group_names = {
        api-service          = "acme-shop-prod-api-service"
        auth-service         = "acme-shop-prod-auth-service"
        notification-service = "acme-shop-prod-notification-service"
      }
      target = "prod-us-east-1"
    },
    {
      region                      = "us-west-2"
      account_id                  = "444444444444"
      deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-west-2"
      codedeploy_application_name = "acme-shop-prod-services"
      deployment_group_names = {
        api-service          = "acme-shop-prod-api-service"
        auth-service         = "acme-shop-prod-auth-service"
        notification-service = "acme-shop-prod-notification-service"
      }
      target = "prod-us-west-2"
    },
  ]
  approval_topic_arn = "arn:aws:sns:us-east-1:111111111111:acme-shop-delivery-approvals"
}

run "five_stages_in_order" {
  command = plan

  assert {
    condition     = [for s in aws_codepipeline.this.stage : s.name] == ["Source", "Build", "Test", "Staging", "Production"]
    error_message = "The pipeline must have exactly the stages Source, Build, Test, Staging and Production, in this order."
  }

  assert {
    condition     = aws_codepipeline.this.name == "acme-shop-delivery-pipeline" && aws_codepipeline.this.pipeline_type == "V2"
    error_message = "The pipeline must be the V2 pipeline {name_prefix}-pipeline."
  }

  assert {
    condition     = aws_codepipeline.this.role_arn == aws_iam_role.service.arn
    error_message = "The pipeline must run as its service role."
  }
}

run "source_codecommit" {
  command = plan

  assert {
    condition = (
      aws_codepipeline.this.stage[0].action[0].provider == "CodeCommit"
      && aws_codepipeline.this.stage[0].action[0].configuration == tomap({
        RepositoryName       = "acme-shop-delivery-monorepo"
        BranchName           = "main"
        OutputArtifactFormat = "CODE_ZIP"
        PollForSourceChanges = "false"
      })
      && aws_codepipeline.this.stage[0].action[0].output_artifacts == tolist(["SourceOutput"])
    )
    error_message = "The Source action must read branch main of {name_prefix}-monorepo as a CODE_ZIP SourceOutput."
  }

  assert {
    condition     = aws_codepipeline.this.stage[0].action[0].role_arn == aws_iam_role.stage["source"].arn
    error_message = "The Source action must run as the source stage role."
  }

  assert {
    condition     = aws_codecommit_repository.this[0].repository_name == "acme-shop-delivery-monorepo"
    error_message = "The module must create the {name_prefix}-monorepo repository."
  }

  assert {
    condition = (
      jsondecode(aws_cloudwatch_event_rule.source[0].event_pattern).resources == ["arn:aws:codecommit:us-east-1:111111111111:acme-shop-delivery-monorepo"]
      && jsondecode(aws_cloudwatch_event_rule.source[0].event_pattern).detail.referenceName == ["main"]
      && aws_cloudwatch_event_target.source[0].arn == aws_codepipeline.this.arn
      && aws_cloudwatch_event_target.source[0].role_arn == aws_iam_role.trigger[0].arn
    )
    error_message = "A push to the branch must start the pipeline through EventBridge."
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.stage["source"].policy).Statement : s if s.Sid == "ReadRepository"] == [{
      Sid    = "ReadRepository"
      Effect = "Allow"
      Action = [
        "codecommit:GetBranch",
        "codecommit:GetCommit",
        "codecommit:UploadArchive",
        "codecommit:GetUploadArchiveStatus",
        "codecommit:CancelUploadArchive",
      ]
      Resource = "arn:aws:codecommit:us-east-1:111111111111:acme-shop-delivery-monorepo"
    }]
    error_message = "The source role must read the repository only."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.stage["source"].policy).Statement : s.Resource if s.Sid == "WriteSourceArtifact"] == [["arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1/*", "arn:aws:s3:::acme-shop-delivery-artifacts-us-west-2/*"]]
      && [for s in jsondecode(aws_iam_role_policy.stage["source"].policy).Statement : s.Resource if s.Sid == "ArtifactKeys"] == [[for s in values(var.artifact_stores) : s.kms_key_arn]]
    )
    error_message = "The source role must write into the artifact buckets with their keys."
  }

  assert {
    condition = (
      aws_codecommit_approval_rule_template.this[0].name == "acme-shop-delivery-monorepo-review"
      && jsondecode(aws_codecommit_approval_rule_template.this[0].content).DestinationReferences == ["refs/heads/main"]
      && jsondecode(aws_codecommit_approval_rule_template.this[0].content).Statements[0].NumberOfApprovalsNeeded == 2
      && aws_codecommit_approval_rule_template_association.this[0].repository_name == "acme-shop-delivery-monorepo"
      && aws_codecommit_approval_rule_template_association.this[0].approval_rule_template_name == "acme-shop-delivery-monorepo-review"
    )
    error_message = "Pull requests into the branch must need two approvals by default."
  }

  assert {
    condition     = output.repository_clone_url_http == "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/acme-shop-delivery-monorepo" && output.repository_name == "acme-shop-delivery-monorepo"
    error_message = "repository_clone_url_http and repository_name must describe the created repository."
  }
}

run "source_existing_repository" {
  command = plan

  variables {
    pipeline_source = {
      repository_name   = "shop"
      create_repository = false
      branch            = "release"
    }
  }

  assert {
    condition     = length(aws_codecommit_repository.this) == 0 && length(aws_codecommit_approval_rule_template.this) == 0 && output.repository_clone_url_http == null
    error_message = "create_repository = false must create neither a repository nor its approval rule."
  }

  assert {
    condition = (
      aws_codepipeline.this.stage[0].action[0].configuration["RepositoryName"] == "shop"
      && aws_codepipeline.this.stage[0].action[0].configuration["BranchName"] == "release"
      && jsondecode(aws_cloudwatch_event_rule.source[0].event_pattern).resources == ["arn:aws:codecommit:us-east-1:111111111111:shop"]
      && strcontains(aws_iam_role_policy.stage["source"].policy, "arn:aws:codecommit:us-east-1:111111111111:shop")
    )
    error_message = "An existing repository must be used by name, in the action, the trigger and the source role."
  }
}

run "required_approvals" {
  command = plan

  variables {
    required_approvals = 0
  }

  assert {
    condition     = length(aws_codecommit_repository.this) == 1 && length(aws_codecommit_approval_rule_template.this) == 0 && length(aws_codecommit_approval_rule_template_association.this) == 0
    error_message = "required_approvals = 0 must leave the repository without an approval rule."
  }
}

run "source_s3" {
  command = plan

  variables {
    pipeline_source = {
      type          = "S3"
      s3_bucket     = "acme-shop-delivery-source"
      s3_object_key = "monorepo.zip"
    }
  }

  assert {
    condition = (
      aws_codepipeline.this.stage[0].action[0].provider == "S3"
      && aws_codepipeline.this.stage[0].action[0].configuration == tomap({
        S3Bucket             = "acme-shop-delivery-source"
        S3ObjectKey          = "monorepo.zip"
        PollForSourceChanges = "true"
      })
    )
    error_message = "An S3 source must read the object from the bucket."
  }

  assert {
    condition     = length(aws_codecommit_repository.this) == 0 && length(aws_codecommit_approval_rule_template.this) == 0 && length(aws_cloudwatch_event_rule.source) == 0 && length(aws_iam_role.trigger) == 0 && output.repository_name == null
    error_message = "An S3 source needs no repository and no EventBridge trigger."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.stage["source"].policy).Statement : s.Resource if s.Sid == "ReadSourceObject"] == ["arn:aws:s3:::acme-shop-delivery-source/monorepo.zip"]
      && !strcontains(aws_iam_role_policy.stage["source"].policy, "codecommit")
    )
    error_message = "The source role must read the source object only."
  }

  assert {
    condition     = strcontains(aws_codepipeline.this.stage[4].action[0].configuration["CustomData"], "#{SourceVariables.VersionId}")
    error_message = "The approval must name the S3 object version being promoted."
  }
}

run "build_stage" {
  command = plan

  assert {
    condition     = [for a in aws_codepipeline.this.stage[1].action : a.name] == ["api-service", "auth-service", "notification-service"]
    error_message = "The Build stage must have one action per microservice."
  }

  assert {
    condition     = length(distinct([for a in aws_codepipeline.this.stage[1].action : a.run_order])) == 1
    error_message = "All Build actions must share a run_order, so that they run in parallel."
  }

  # The builds export DEPLOYMENT_ID; a namespace makes it a pipeline variable.
  assert {
    condition     = [for a in aws_codepipeline.this.stage[1].action : a.namespace] == ["Build_api_service", "Build_auth_service", "Build_notification_service"]
    error_message = "Each Build action must have the variable namespace Build_<microservice with underscores>."
  }

  assert {
    condition = alltrue([for a in aws_codepipeline.this.stage[1].action :
      a.category == "Build" && a.provider == "CodeBuild" && a.input_artifacts == tolist(["SourceOutput"])
      && a.configuration["ProjectName"] == var.build_projects[a.name]
      && a.output_artifacts == tolist(["BuildOutput_${replace(a.name, "-", "_")}"])
      && a.role_arn == aws_iam_role.stage["build"].arn
    ])
    error_message = "Each Build action must run its microservice's project on SourceOutput, as the build role, into BuildOutput_<name>."
  }

  assert {
    condition     = alltrue(flatten([for a in aws_codepipeline.this.stage[1].action : [for o in a.output_artifacts : can(regex("^[A-Za-z0-9_]+$", o))]]))
    error_message = "Artifact names must be letters, digits and underscores."
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.stage["build"].policy).Statement : s.Resource if s.Sid == "RunBuilds"] == [[
      "arn:aws:codebuild:us-east-1:111111111111:project/acme-shop-delivery-api-service",
      "arn:aws:codebuild:us-east-1:111111111111:project/acme-shop-delivery-auth-service",
      "arn:aws:codebuild:us-east-1:111111111111:project/acme-shop-delivery-notification-service",
    ]]
    error_message = "The build role may start the build projects only."
  }
}

run "test_stage" {
  command = plan

  assert {
    condition = (
      length(aws_codepipeline.this.stage[2].action) == 1
      && aws_codepipeline.this.stage[2].action[0].provider == "CodeBuild"
      && aws_codepipeline.this.stage[2].action[0].configuration["ProjectName"] == "acme-shop-delivery-integration-tests"
      && aws_codepipeline.this.stage[2].action[0].input_artifacts == tolist(["SourceOutput"])
      && aws_codepipeline.this.stage[2].action[0].role_arn == aws_iam_role.stage["test"].arn
    )
    error_message = "The Test stage must run the test project on SourceOutput, as the test role."
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.stage["test"].policy).Statement : s.Resource if s.Sid == "RunTests"] == [["arn:aws:codebuild:us-east-1:111111111111:project/acme-shop-delivery-integration-tests"]]
    error_message = "The test role may start the test project only."
  }
}

run "staging_stage" {
  command = plan

  assert {
    condition     = [for a in aws_codepipeline.this.stage[3].action : a.name] == ["api-service", "auth-service", "notification-service"]
    error_message = "The Staging stage must deploy each microservice once."
  }

  assert {
    condition = alltrue([for a in aws_codepipeline.this.stage[3].action :
      a.category == "Deploy" && a.provider == "CodeDeployToECS"
      && a.region == "us-east-1"
      && a.role_arn == "arn:aws:iam::333333333333:role/acme-shop-staging-deploy-us-east-1"
    ])
    error_message = "Staging deploys must run in the staging region as the staging account's deploy role."
  }

  assert {
    condition = aws_codepipeline.this.stage[3].action[0].configuration == tomap({
      ApplicationName                = "acme-shop-staging-services"
      DeploymentGroupName            = "acme-shop-staging-api-service"
      TaskDefinitionTemplateArtifact = "BuildOutput_api_service"
      TaskDefinitionTemplatePath     = "taskdef-staging-us-east-1.json"
      AppSpecTemplateArtifact        = "BuildOutput_api_service"
      AppSpecTemplatePath            = "appspec-staging-us-east-1.yaml"
    }) && aws_codepipeline.this.stage[3].action[0].input_artifacts == tolist(["BuildOutput_api_service"])
    error_message = "A staging deploy must use its service's build output and the staging target's files, with no Image1 substitution (the taskdef names its own region's image)."
  }
}

run "production_stage" {
  command = plan

  assert {
    condition = (
      aws_codepipeline.this.stage[4].action[0].category == "Approval"
      && aws_codepipeline.this.stage[4].action[0].provider == "Manual"
      && aws_codepipeline.this.stage[4].action[0].run_order == 1
      && aws_codepipeline.this.stage[4].action[0].configuration["NotificationArn"] == "arn:aws:sns:us-east-1:111111111111:acme-shop-delivery-approvals"
    )
    error_message = "The Production stage must start with a manual approval that notifies the approvals topic."
  }

  assert {
    condition     = alltrue([for a in slice(aws_codepipeline.this.stage[4].action, 1, length(aws_codepipeline.this.stage[4].action)) : a.category == "Deploy" && a.run_order > aws_codepipeline.this.stage[4].action[0].run_order])
    error_message = "Every production deploy must run after the approval."
  }

  assert {
    condition = aws_codepipeline.this.stage[4].action[0].configuration["CustomData"] == join(" ", [
      "Promote acme-shop-delivery-pipeline to production?",
      "Commit #{SourceVariables.CommitId} on main passed staging-us-east-1.",
      "Deployments: api-service #{Build_api_service.DEPLOYMENT_ID}, auth-service #{Build_auth_service.DEPLOYMENT_ID}, notification-service #{Build_notification_service.DEPLOYMENT_ID}.",
      "Targets: prod-us-east-1, prod-us-west-2.",
    ]) && aws_codepipeline.this.stage[0].action[0].namespace == "SourceVariables"
    error_message = "The approval request must say what is promoted: the commit, each service with its build's deployment ID, and the targets."
  }

  # Every variable the request names is a namespace the pipeline defines.
  assert {
    condition = alltrue([
      for ref in regexall("#\\{([A-Za-z0-9_@-]+)\\.", aws_codepipeline.this.stage[4].action[0].configuration["CustomData"]) :
      contains(flatten([for st in aws_codepipeline.this.stage : [for a in st.action : a.namespace]]), ref[0])
    ])
    error_message = "The approval request must only reference variables of the pipeline's own namespaces."
  }

  assert {
    condition     = aws_codepipeline.this.stage[4].action[0].configuration["ExternalEntityLink"] == "https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/acme-shop-delivery-pipeline/executions/#{codepipeline.PipelineExecutionId}/timeline?region=us-east-1"
    error_message = "The approval must link to the execution awaiting it, in the console."
  }

  assert {
    condition = { for a in slice(aws_codepipeline.this.stage[4].action, 1, length(aws_codepipeline.this.stage[4].action)) : a.name => [a.region, a.role_arn, a.configuration["DeploymentGroupName"], a.configuration["TaskDefinitionTemplatePath"], a.configuration["AppSpecTemplatePath"], a.input_artifacts[0]] } == {
      "api-service-prod-us-east-1"          = ["us-east-1", "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-east-1", "acme-shop-prod-api-service", "taskdef-prod-us-east-1.json", "appspec-prod-us-east-1.yaml", "BuildOutput_api_service"]
      "auth-service-prod-us-east-1"         = ["us-east-1", "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-east-1", "acme-shop-prod-auth-service", "taskdef-prod-us-east-1.json", "appspec-prod-us-east-1.yaml", "BuildOutput_auth_service"]
      "notification-service-prod-us-east-1" = ["us-east-1", "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-east-1", "acme-shop-prod-notification-service", "taskdef-prod-us-east-1.json", "appspec-prod-us-east-1.yaml", "BuildOutput_notification_service"]
      "api-service-prod-us-west-2"          = ["us-west-2", "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-west-2", "acme-shop-prod-api-service", "taskdef-prod-us-west-2.json", "appspec-prod-us-west-2.yaml", "BuildOutput_api_service"]
      "auth-service-prod-us-west-2"         = ["us-west-2", "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-west-2", "acme-shop-prod-auth-service", "taskdef-prod-us-west-2.json", "appspec-prod-us-west-2.yaml", "BuildOutput_auth_service"]
      "notification-service-prod-us-west-2" = ["us-west-2", "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-west-2", "acme-shop-prod-notification-service", "taskdef-prod-us-west-2.json", "appspec-prod-us-west-2.yaml", "BuildOutput_notification_service"]
    }
    error_message = "There must be one deploy per microservice per production target, in the target's region, as its deploy role, with its files."
  }

  assert {
    condition     = length(aws_codepipeline.this.stage[4].action) == 7
    error_message = "The Production stage must hold the approval and six deploys (three microservices, two targets), nothing else."
  }
}

run "approval_message" {
  command = plan

  variables {
    approval_message = "Release the shop?"
  }

  assert {
    condition     = startswith(aws_codepipeline.this.stage[4].action[0].configuration["CustomData"], "Release the shop? Commit #{SourceVariables.CommitId} on main passed staging-us-east-1.")
    error_message = "approval_message must open the approval request."
  }

  assert {
    condition     = length(aws_codepipeline.this.stage[4].action[0].configuration["CustomData"]) <= 500
    error_message = "CustomData must fit the 500 characters CodePipeline allows."
  }
}

# The longest approval_message and a long branch: not every deployment fits
# in 500 characters, so the request names those that fit, whole, and counts
# the rest.
run "approval_request_too_long_for_every_service" {
  command = plan

  variables {
    approval_message = join("", [for i in range(20) : "Release?? "]) # 200 characters
    pipeline_source  = { branch = "release/2026-11-black-friday-hardening-1" }
  }

  assert {
    condition     = length(aws_codepipeline.this.stage[4].action[0].configuration["CustomData"]) <= 500
    error_message = "CustomData must fit the 500 characters CodePipeline allows."
  }

  assert {
    condition = strcontains(
      aws_codepipeline.this.stage[4].action[0].configuration["CustomData"],
      "Deployments: api-service #{Build_api_service.DEPLOYMENT_ID}, auth-service #{Build_auth_service.DEPLOYMENT_ID}, 1 more in the execution. Targets: prod-us-east-1, prod-us-west-2.",
    )
    error_message = "The request must name the deployments that fit, whole, and count the rest."
  }

  # No variable reference cut in half: each "#{" is a whole #{namespace.name}.
  assert {
    condition = (
      length(regexall("#\\{", aws_codepipeline.this.stage[4].action[0].configuration["CustomData"]))
      == length(regexall("#\\{[A-Za-z0-9_@-]+\\.[A-Za-z0-9_]+\\}", aws_codepipeline.this.stage[4].action[0].configuration["CustomData"]))
    )
    error_message = "A variable reference must never be cut."
  }
}

run "artifact_stores" {
  command = plan

  assert {
    condition = { for s in aws_codepipeline.this.artifact_store : s.region => [s.type, s.location, s.encryption_key[0].type, s.encryption_key[0].id] } == {
      us-east-1 = ["S3", "acme-shop-delivery-artifacts-us-east-1", "KMS", "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"]
      us-west-2 = ["S3", "acme-shop-delivery-artifacts-us-west-2", "KMS", "arn:aws:kms:us-west-2:111111111111:key/22222222-2222-2222-2222-222222222222"]
    }
    error_message = "There must be one artifact store per region, each encrypted with its region's KMS key."
  }
}

run "single_region" {
  command = plan

  variables {
    artifact_stores = {
      us-east-1 = {
        bucket_name = "acme-shop-delivery-artifacts-us-east-1"
        bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"
        kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"
      }
    }
    production = [
      {
        region                      = "us-east-1"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-east-1"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names = {
          api-service          = "acme-shop-prod-api-service"
          auth-service         = "acme-shop-prod-auth-service"
          notification-service = "acme-shop-prod-notification-service"
        }
        target = "prod-us-east-1"
      },
    ]
  }

  assert {
    condition     = length(aws_codepipeline.this.artifact_store) == 1 && one(aws_codepipeline.this.artifact_store).region == null && one(aws_codepipeline.this.artifact_store).encryption_key[0].type == "KMS"
    error_message = "A single-region pipeline must have one artifact store without a region (CodePipeline refuses one)."
  }
}

run "iam" {
  command = plan

  assert {
    condition = (
      aws_iam_role.service.name == "acme-shop-delivery-pipeline"
      && { for k, r in aws_iam_role.stage : k => r.name } == {
        source = "acme-shop-delivery-pipeline-source"
        build  = "acme-shop-delivery-pipeline-build"
        test   = "acme-shop-delivery-pipeline-test"
      }
    )
    error_message = "The service role must be {name_prefix}-pipeline (the deploy roles trust that name) and the stage roles {name_prefix}-pipeline-<stage>."
  }

  assert {
    condition     = length(distinct(concat([aws_iam_role.service.arn], [for r in aws_iam_role.stage : r.arn]))) == 4
    error_message = "Each stage must have its own role, distinct from the service role."
  }

  assert {
    condition     = jsondecode(aws_iam_role.service.assume_role_policy).Statement[0].Principal == { Service = "codepipeline.amazonaws.com" }
    error_message = "The service role must be assumable by CodePipeline."
  }

  assert {
    condition     = alltrue([for r in aws_iam_role.stage : jsondecode(r.assume_role_policy).Statement == [{ Sid = "PipelineServiceRole", Effect = "Allow", Principal = { AWS = aws_iam_role.service.arn }, Action = "sts:AssumeRole" }]])
    error_message = "The stage roles must trust the pipeline's service role only."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.service.policy).Statement : s.Resource if s.Sid == "AssumeStageRoles"] == [[for k in ["source", "build", "test"] : aws_iam_role.stage[k].arn]]
      && [for s in jsondecode(aws_iam_role_policy.service.policy).Statement : s.Resource if s.Sid == "AssumeDeployRoles"] == [[
        "arn:aws:iam::333333333333:role/acme-shop-staging-deploy-us-east-1",
        "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-east-1",
        "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-west-2",
      ]]
    )
    error_message = "The service role must be allowed to assume the stage roles and the staging and production deploy roles."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.service.policy).Statement : s.Resource if s.Sid == "Artifacts"] == [["arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1/*", "arn:aws:s3:::acme-shop-delivery-artifacts-us-west-2/*"]]
      && [for s in jsondecode(aws_iam_role_policy.service.policy).Statement : s.Resource if s.Sid == "PublishApprovalRequest"] == ["arn:aws:sns:us-east-1:111111111111:acme-shop-delivery-approvals"]
      && !strcontains(aws_iam_role_policy.service.policy, "ApprovalTopicKey")
    )
    error_message = "The service role must reach the artifact stores and publish the approval request."
  }

  assert {
    condition = alltrue(flatten([for p in concat([aws_iam_role_policy.service.policy, aws_iam_role_policy.trigger[0].policy], [for sp in aws_iam_role_policy.stage : sp.policy]) : [
      for s in jsondecode(p).Statement : [for a in flatten([s.Action]) : !strcontains(a, "*")]
    ]]))
    error_message = "No policy action may contain a wildcard."
  }

  assert {
    condition = alltrue(flatten([for p in concat([aws_iam_role_policy.service.policy, aws_iam_role_policy.trigger[0].policy], [for sp in aws_iam_role_policy.stage : sp.policy]) : [
      for s in jsondecode(p).Statement : !contains(flatten([s.Resource]), "*")
    ]]))
    error_message = "No pipeline policy needs the \"*\" resource."
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.trigger[0].policy).Statement[0].Resource == "arn:aws:codepipeline:us-east-1:111111111111:acme-shop-delivery-pipeline" && aws_iam_role.trigger[0].name == "acme-shop-delivery-pipeline-trigger"
    error_message = "The trigger role may start this pipeline only."
  }
}

run "approval_topic_key" {
  command = plan

  variables {
    approval_topic_kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/33333333-3333-3333-3333-333333333333"
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.service.policy).Statement : s.Resource if s.Sid == "ApprovalTopicKey"] == ["arn:aws:kms:us-east-1:111111111111:key/33333333-3333-3333-3333-333333333333"]
    error_message = "The service role must be able to use the approval topic's key."
  }
}

run "outputs" {
  command = plan

  assert {
    condition     = output.pipeline_url == "https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/acme-shop-delivery-pipeline/view?region=us-east-1"
    error_message = "pipeline_url must open the pipeline in the console."
  }

  assert {
    condition = output.pipeline_name == "acme-shop-delivery-pipeline" && output.service_role_arn == aws_iam_role.service.arn && output.stage_role_arns == {
      source = "arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline-source"
      build  = "arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline-build"
      test   = "arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline-test"
    }
    error_message = "The outputs must describe the pipeline and its roles."
  }
}
