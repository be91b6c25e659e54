# Source, build, approval and blue/green deployment of the service.

resource "aws_codecommit_repository" "service" {
  repository_name = "${var.name}-service"
  description     = "Service source."
}

locals {
  build_environment = {
    compute_type = "BUILD_GENERAL1_SMALL"
    image        = "aws/codebuild/amazonlinux2-x86_64-standard:5.0"
    type         = "LINUX_CONTAINER"
  }
}

resource "aws_codebuild_project" "build" {
  name           = "${var.name}-build"
  description    = "Builds and pushes the service image; writes the deployment artifacts."
  service_role   = aws_iam_role.codebuild.arn
  encryption_key = aws_kms_key.platform.arn
  build_timeout  = 30

  source {
    type      = "CODEPIPELINE"
    buildspec = "buildspec.yml"
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  environment {
    compute_type    = local.build_environment.compute_type
    image           = local.build_environment.image
    type            = local.build_environment.type
    privileged_mode = true

    environment_variable {
      name  = "IMAGE_REPOSITORY"
      value = aws_ssm_parameter.image_repository.name
      type  = "PARAMETER_STORE"
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.build.name
    }
  }
}

resource "aws_codebuild_project" "test" {
  name           = "${var.name}-test"
  description    = "Unit tests, in parallel with the build."
  service_role   = aws_iam_role.codebuild.arn
  encryption_key = aws_kms_key.platform.arn
  build_timeout  = 20

  source {
    type      = "CODEPIPELINE"
    buildspec = "buildspec-test.yml"
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  environment {
    compute_type = local.build_environment.compute_type
    image        = local.build_environment.image
    type         = local.build_environment.type
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.build.name
    }
  }
}

resource "aws_codebuild_project" "housekeeping" {
  name          = "${var.name}-housekeeping"
  description   = "Scheduled clean-up job; no source; keeps blue ${var.bake_minutes} minutes."
  service_role  = aws_iam_role.codebuild.arn
  build_timeout = 10

  source {
    type      = "NO_SOURCE"
    buildspec = <<-YAML
      version: 0.2
      phases:
        build:
          commands:
            - echo "pruning stale preview environments"
    YAML
  }

  artifacts {
    type = "NO_ARTIFACTS"
  }

  environment {
    compute_type = local.build_environment.compute_type
    image        = local.build_environment.image
    type         = local.build_environment.type
  }
}

# --- CodeDeploy (blue/green on ECS) ------------------------------------------

resource "aws_codedeploy_app" "service" {
  name             = "${var.name}-service"
  compute_platform = "ECS"
}

resource "aws_codedeploy_deployment_group" "service" {
  app_name               = aws_codedeploy_app.service.name
  deployment_group_name  = "${var.name}-service"
  service_role_arn       = aws_iam_role.codedeploy.arn
  deployment_config_name = "CodeDeployDefault.ECSAllAtOnce"

  deployment_style {
    deployment_option = "WITH_TRAFFIC_CONTROL"
    deployment_type   = "BLUE_GREEN"
  }

  blue_green_deployment_config {
    deployment_ready_option {
      action_on_timeout    = "STOP_DEPLOYMENT"
      wait_time_in_minutes = 30
    }

    terminate_blue_instances_on_deployment_success {
      action                           = "TERMINATE"
      termination_wait_time_in_minutes = var.bake_minutes
    }
  }

  alarm_configuration {
    enabled = true
    alarms  = [aws_cloudwatch_metric_alarm.target_5xx.alarm_name]
  }

  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
  }

  ecs_service {
    cluster_name = aws_ecs_cluster.this.name
    service_name = aws_ecs_service.service.name
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
        name = aws_lb_target_group.service["blue"].name
      }

      target_group {
        name = aws_lb_target_group.service["green"].name
      }
    }
  }
}

# --- CodePipeline ------------------------------------------------------------

resource "aws_codepipeline" "service" {
  name          = "${var.name}-service"
  role_arn      = aws_iam_role.pipeline.arn
  pipeline_type = "V2"

  artifact_store {
    type     = "S3"
    location = aws_s3_bucket.artifacts.bucket

    encryption_key {
      id   = aws_kms_alias.platform.arn
      type = "KMS"
    }
  }

  stage {
    name = "Source"

    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeCommit"
      version          = "1"
      output_artifacts = ["source"]

      configuration = {
        RepositoryName       = aws_codecommit_repository.service.repository_name
        BranchName           = "main"
        PollForSourceChanges = "false"
      }
    }
  }

  stage {
    name = "Build"

    # Build and Test run in parallel: same run_order.
    action {
      name             = "Build"
      category         = "Build"
      owner            = "AWS"
      provider         = "CodeBuild"
      version          = "1"
      run_order        = 1
      input_artifacts  = ["source"]
      output_artifacts = ["build"]

      configuration = {
        ProjectName = aws_codebuild_project.build.name
      }
    }

    action {
      name            = "Test"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      run_order       = 1
      input_artifacts = ["source"]

      configuration = {
        ProjectName = aws_codebuild_project.test.name
      }
    }
  }

  stage {
    name = "Approve"

    action {
      name     = "Release"
      category = "Approval"
      owner    = "AWS"
      provider = "Manual"
      version  = "1"

      configuration = {
        NotificationArn = aws_sns_topic.pipeline.arn
        CustomData      = "Release ${var.name} service to production?"
      }
    }
  }

  stage {
    name = "Deploy"

    action {
      name            = "BlueGreen"
      category        = "Deploy"
      owner           = "AWS"
      provider        = "CodeDeployToECS"
      version         = "1"
      input_artifacts = ["build"]

      configuration = {
        ApplicationName                = aws_codedeploy_app.service.name
        DeploymentGroupName            = aws_codedeploy_deployment_group.service.deployment_group_name
        TaskDefinitionTemplateArtifact = "build"
        TaskDefinitionTemplatePath     = "taskdef.json"
        AppSpecTemplateArtifact        = "build"
        AppSpecTemplatePath            = "appspec.yaml"
        Image1ArtifactName             = "build"
        Image1ContainerName            = "IMAGE1_NAME"
      }
    }
  }

  depends_on = [aws_iam_role_policy.pipeline]
}

resource "aws_codestarnotifications_notification_rule" "pipeline" {
  name        = "${var.name}-pipeline"
  resource    = aws_codepipeline.service.arn
  detail_type = "FULL"
  event_type_ids = [
    "codepipeline-pipeline-pipeline-execution-failed",
    "codepipeline-pipeline-pipeline-execution-succeeded",
    "codepipeline-pipeline-manual-approval-needed",
  ]

  target {
    address = aws_sns_topic.pipeline.arn
  }

  depends_on = [aws_sns_topic_policy.pipeline]
}
