data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  build_image_uri = "${var.build_image.repository_url}:${var.build_image.tag}"

  test_project_key  = "integration-tests"
  test_project_name = "${var.name_prefix}-integration-tests"

  # Every project, keyed by microservice name plus "integration-tests" (a name
  # the projects validation keeps free): what its log group and role need.
  # repository_arn is null for the test project, which pushes no image.
  projects = merge(
    {
      for name, p in var.projects : name => {
        project_name   = "${var.name_prefix}-${name}"
        role_name      = "${var.name_prefix}-${p.short_name}-build-${local.region}"
        description    = "Tests and builds the ${name} image, pushes it to ECR and writes its deployment files."
        repository_arn = p.repository_arn
        parameter_path = "${var.parameter_path_prefix}/${name}/"
      }
    },
    {
      (local.test_project_key) = {
        project_name   = local.test_project_name
        role_name      = "${var.name_prefix}-tests-build-${local.region}"
        description    = "Runs the integration tests of ${var.name_prefix}."
        repository_arn = null
        parameter_path = "${var.parameter_path_prefix}/${local.test_project_key}/"
      }
    },
  )

  # CodeBuild creates a report group "<project>-<name>" for each name in the
  # buildspec's reports section.
  unit_test_report_group        = "unit-tests"
  integration_test_report_group = "integration-tests"
}

# --- Logs --------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.projects

  #checkov:skip=CKV_AWS_338:Build logs are operational; their retention is the environment's setting (30 days, 14 for DR and seed), the pipeline history keeps what was built.
  name              = "/aws/codebuild/${each.value.project_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
}

# --- Microservice builds -----------------------------------------------------

resource "aws_codebuild_project" "service" {
  for_each = var.projects

  #checkov:skip=CKV_AWS_316:Privileged mode runs the Docker daemon that builds the service image; the build runs only the monorepo's own code.
  name           = local.projects[each.key].project_name
  description    = local.projects[each.key].description
  service_role   = aws_iam_role.this[each.key].arn
  encryption_key = var.artifact_kms_key_arn
  build_timeout  = var.build_timeout_minutes

  source {
    type = "CODEPIPELINE"
    buildspec = templatefile("${path.module}/buildspecs/service.yml.tftpl", {
      service_name = each.key
      source_dir   = each.value.source_dir
      report_group = local.unit_test_report_group
    })
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  environment {
    type                        = "LINUX_CONTAINER"
    compute_type                = var.compute_type
    image                       = local.build_image_uri
    image_pull_credentials_type = "SERVICE_ROLE"
    privileged_mode             = true # docker build

    environment_variable {
      name  = "SERVICE_NAME"
      value = each.key
      type  = "PLAINTEXT"
    }

    environment_variable {
      name  = "SOURCE_DIR"
      value = each.value.source_dir
      type  = "PLAINTEXT"
    }

    environment_variable {
      name  = "REPOSITORY_URI"
      value = each.value.repository_url
      type  = "PLAINTEXT"
    }

    environment_variable {
      name  = "DEPLOY_FILES"
      value = jsonencode(lookup(var.deploy_files, each.key, {}))
      type  = "PLAINTEXT"
    }

    environment_variable {
      name  = "PARAMETER_PATH"
      value = local.projects[each.key].parameter_path
      type  = "PLAINTEXT"
    }
  }

  logs_config {
    cloudwatch_logs {
      status     = "ENABLED"
      group_name = aws_cloudwatch_log_group.this[each.key].name
    }

    s3_logs {
      status = "DISABLED"
    }
  }

  # The role must be able to pull the build image before the first build.
  depends_on = [aws_iam_role_policy.this]
}

# --- Integration tests -------------------------------------------------------

resource "aws_codebuild_project" "tests" {
  name           = local.test_project_name
  description    = local.projects[local.test_project_key].description
  service_role   = aws_iam_role.this[local.test_project_key].arn
  encryption_key = var.artifact_kms_key_arn
  build_timeout  = var.build_timeout_minutes

  source {
    type = "CODEPIPELINE"
    buildspec = templatefile("${path.module}/buildspecs/integration-tests.yml.tftpl", {
      source_dir   = var.test_project.source_dir
      report_group = local.integration_test_report_group
    })
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  environment {
    type                        = "LINUX_CONTAINER"
    compute_type                = var.test_project.compute_type
    image                       = local.build_image_uri
    image_pull_credentials_type = "SERVICE_ROLE"
    privileged_mode             = false

    environment_variable {
      name  = "SOURCE_DIR"
      value = var.test_project.source_dir
      type  = "PLAINTEXT"
    }

    environment_variable {
      name  = "PARAMETER_PATH"
      value = local.projects[local.test_project_key].parameter_path
      type  = "PLAINTEXT"
    }
  }

  logs_config {
    cloudwatch_logs {
      status     = "ENABLED"
      group_name = aws_cloudwatch_log_group.this[local.test_project_key].name
    }

    s3_logs {
      status = "DISABLED"
    }
  }

  depends_on = [aws_iam_role_policy.this]
}
