# Plan-only tests of the build module against a mocked AWS provider.
# override_during = plan makes the mocked computed values (ARNs) known in the
# plan, so that policies that reference them can be decoded and asserted.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_cloudwatch_log_group" {}
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111111111111:role/mocked"
    }
  }
  mock_resource "aws_iam_role_policy" {}
  mock_resource "aws_codebuild_project" {}

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

# Distinct role ARNs, so that each project can be shown to use its own role.
override_resource {
  target          = aws_iam_role.this["api-service"]
  override_during = plan
  values          = { arn = "arn:aws:iam::111111111111:role/acme-shop-delivery-api-build-us-east-1" }
}

override_resource {
  target          = aws_iam_role.this["auth-service"]
  override_during = plan
  values          = { arn = "arn:aws:iam::111111111111:role/acme-shop-delivery-auth-build-us-east-1" }
}

override_resource {
  target          = aws_iam_role.this["integration-tests"]
  override_during = plan
  values          = { arn = "arn:aws:iam::111111111111:role/acme-shop-delivery-tests-build-us-east-1" }
}

variables {
  name_prefix = "acme-shop-delivery"
  projects = {
    api-service = {
      short_name     = "api"
      source_dir     = "services/api-service"
      repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"
      repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"
    }
    auth-service = {
      short_name     = "auth"
      source_dir     = "services/auth-service"
      repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-auth-service"
      repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-auth-service"
    }
  }
  build_image = {
    repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-build-image"
    repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-build-image"
    tag            = "2024.11.1"
  }
  artifact_bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"
  artifact_kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555"
  log_kms_key_arn      = "arn:aws:kms:us-east-1:111111111111:key/66666666-7777-8888-9999-000000000000"
  deploy_files = {
    api-service = {
      "taskdef-staging-us-east-1.json" = "{\"family\": \"acme-shop-staging-api-service\"}"
      "appspec-staging-us-east-1.yaml" = "version: 0.0\n"
      "taskdef-prod-us-west-2.json"    = "{\"family\": \"acme-shop-prod-api-service\"}"
      "appspec-prod-us-west-2.yaml"    = "version: 0.0\n"
    }
  }
}

run "projects" {
  command = plan

  assert {
    condition     = toset(keys(aws_codebuild_project.service)) == toset(["api-service", "auth-service"])
    error_message = "There must be one build project per microservice."
  }

  assert {
    condition = (
      aws_codebuild_project.service["api-service"].name == "acme-shop-delivery-api-service"
      && aws_codebuild_project.service["auth-service"].name == "acme-shop-delivery-auth-service"
      && aws_codebuild_project.tests.name == "acme-shop-delivery-integration-tests"
    )
    error_message = "Projects must be named {name_prefix}-{microservice} and {name_prefix}-integration-tests."
  }

  assert {
    condition = alltrue([for p in concat(values(aws_codebuild_project.service), [aws_codebuild_project.tests]) :
      p.source[0].type == "CODEPIPELINE" && p.artifacts[0].type == "CODEPIPELINE"
    ])
    error_message = "Every project must take its source from and give its artifacts to CodePipeline."
  }

  assert {
    condition = alltrue([for p in concat(values(aws_codebuild_project.service), [aws_codebuild_project.tests]) :
      p.environment[0].type == "LINUX_CONTAINER"
      && p.environment[0].image == "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-build-image:2024.11.1"
      && p.environment[0].image_pull_credentials_type == "SERVICE_ROLE"
    ])
    error_message = "Every project must run on the custom build image, pulled with its own role."
  }

  assert {
    condition     = alltrue([for p in values(aws_codebuild_project.service) : p.environment[0].privileged_mode]) && !aws_codebuild_project.tests.environment[0].privileged_mode
    error_message = "Microservice builds need privileged mode for docker; the test project must not have it."
  }

  assert {
    condition     = alltrue([for p in values(aws_codebuild_project.service) : p.environment[0].compute_type == "BUILD_GENERAL1_SMALL" && p.build_timeout == 30]) && aws_codebuild_project.tests.environment[0].compute_type == "BUILD_GENERAL1_SMALL"
    error_message = "Compute type and timeout defaults must be BUILD_GENERAL1_SMALL and 30 minutes."
  }

  assert {
    condition     = alltrue([for p in concat(values(aws_codebuild_project.service), [aws_codebuild_project.tests]) : p.encryption_key == var.artifact_kms_key_arn])
    error_message = "Build artifacts must be encrypted with the artifact key, which the runtime accounts can use."
  }
}

run "environment_variables" {
  command = plan

  assert {
    condition = { for v in aws_codebuild_project.service["api-service"].environment[0].environment_variable : v.name => v.value if v.name != "DEPLOY_FILES" } == {
      SERVICE_NAME   = "api-service"
      SOURCE_DIR     = "services/api-service"
      REPOSITORY_URI = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"
      PARAMETER_PATH = "/pipeline/delivery/api-service/"
    }
    error_message = "The api-service build must get its name, folder, repository and parameter path."
  }

  assert {
    condition     = tomap(jsondecode(one([for v in aws_codebuild_project.service["api-service"].environment[0].environment_variable : v.value if v.name == "DEPLOY_FILES"]))) == var.deploy_files["api-service"]
    error_message = "DEPLOY_FILES must carry the service's deploy files as JSON, file name => content."
  }

  assert {
    condition     = one([for v in aws_codebuild_project.service["auth-service"].environment[0].environment_variable : v.value if v.name == "DEPLOY_FILES"]) == "{}"
    error_message = "A service without deploy files must get an empty JSON object."
  }

  assert {
    condition     = alltrue([for p in concat(values(aws_codebuild_project.service), [aws_codebuild_project.tests]) : alltrue([for v in p.environment[0].environment_variable : v.type == "PLAINTEXT"])])
    error_message = "Environment variables must be plain text (no secrets in the project definition)."
  }

  assert {
    condition = { for v in aws_codebuild_project.tests.environment[0].environment_variable : v.name => v.value } == {
      SOURCE_DIR     = "tests/integration"
      PARAMETER_PATH = "/pipeline/delivery/integration-tests/"
    }
    error_message = "The test project must get its folder and parameter path."
  }
}

run "service_buildspec" {
  command = plan

  assert {
    condition     = yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).version == 0.2
    error_message = "The service buildspec must be valid YAML of buildspec version 0.2."
  }

  assert {
    condition     = keys(yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).phases) == ["build", "install", "post_build", "pre_build"]
    error_message = "The service buildspec must have the install, pre_build, build and post_build phases."
  }

  assert {
    condition     = yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).env.shell == "bash"
    error_message = "The buildspec uses bash expansions (substrings), so its shell must be bash."
  }

  assert {
    condition     = contains(yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).phases.pre_build.commands, "export DEPLOYMENT_ID=$(date -u +%Y%m%dT%H%M%SZ)-$${CODEBUILD_RESOLVED_SOURCE_VERSION:0:7}")
    error_message = "pre_build must compute the deployment ID from the UTC time and the short commit."
  }

  # The pipeline's approval request names each service's deployment ID
  # (#{Build_<service>.DEPLOYMENT_ID}): the build must export it.
  assert {
    condition     = yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).env["exported-variables"] == ["DEPLOYMENT_ID"]
    error_message = "The build must export DEPLOYMENT_ID to the pipeline (env.exported-variables)."
  }

  assert {
    condition     = anytrue([for c in yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).phases.pre_build.commands : strcontains(c, "aws ecr get-login-password") && strcontains(c, "docker login")])
    error_message = "pre_build must log docker in to ECR."
  }

  assert {
    condition = yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).phases.build.commands == [
      "cd \"$CODEBUILD_SRC_DIR/$SOURCE_DIR\"",
      "python3 -m pip install --quiet -r requirements-dev.txt",
      "python3 -m pytest tests --junitxml=test-reports/unit-tests.xml",
      "docker build $${BASE_IMAGE:+--build-arg BASE_IMAGE=$BASE_IMAGE} --tag \"$REPOSITORY_URI:$DEPLOYMENT_ID\" .",
    ]
    error_message = "build must run the unit tests (JUnit report) in the service folder, then build the image tagged with the deployment ID (on BASE_IMAGE when that build-time parameter is set)."
  }

  assert {
    condition     = yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).phases.build["on-failure"] == "ABORT"
    error_message = "A failed test or image build must fail the build (ABORT: on to post_build, which then pushes nothing)."
  }

  assert {
    condition = (
      yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).phases.post_build.commands[0] == "test \"$CODEBUILD_BUILD_SUCCEEDING\" = 1"
      && yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).phases.post_build.commands[1] == "docker push \"$REPOSITORY_URI:$DEPLOYMENT_ID\""
      && anytrue([for c in yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).phases.post_build.commands : strcontains(c, "{\"ImageURI\": \"%s\"}") && strcontains(c, "> imageDetail.json")])
      && anytrue([for c in yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).phases.post_build.commands : strcontains(c, "os.environ[\"DEPLOY_FILES\"]") && strcontains(c, "(\"<IMAGE_TAG>\", \"\\\\u003cIMAGE_TAG\\\\u003e\")") && strcontains(c, "content.replace(placeholder, tag)")])
      && contains(yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).phases.post_build.commands, "echo \"$DEPLOYMENT_ID\" > deployment-id.txt")
    )
    error_message = "post_build must stop when the build phase failed (CodeBuild runs post_build anyway), else push the image, write imageDetail.json, the deploy files and deployment-id.txt."
  }

  assert {
    condition = yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).reports == {
      unit-tests = {
        files          = ["unit-tests.xml"]
        base-directory = "services/api-service/test-reports"
        file-format    = "JUNITXML"
      }
    }
    error_message = "The unit test report must be published from the service's folder (report group <project>-unit-tests)."
  }

  assert {
    condition     = yamldecode(aws_codebuild_project.service["api-service"].source[0].buildspec).artifacts.files == ["imageDetail.json", "taskdef-*.json", "appspec-*.yaml", "deployment-id.txt"]
    error_message = "The output artifact must hold imageDetail.json, the taskdef and appspec files and deployment-id.txt."
  }

  assert {
    condition     = yamldecode(aws_codebuild_project.service["auth-service"].source[0].buildspec).reports.unit-tests.base-directory == "services/auth-service/test-reports"
    error_message = "Each service's buildspec must be rendered with its own folder."
  }
}

run "test_buildspec" {
  command = plan

  assert {
    condition     = yamldecode(aws_codebuild_project.tests.source[0].buildspec).version == 0.2
    error_message = "The test buildspec must be valid YAML of buildspec version 0.2."
  }

  assert {
    condition     = contains(yamldecode(aws_codebuild_project.tests.source[0].buildspec).phases.build.commands, "python3 -m pytest . --junitxml=test-reports/integration-tests.xml")
    error_message = "The test project must run pytest with a JUnit report."
  }

  assert {
    condition     = yamldecode(aws_codebuild_project.tests.source[0].buildspec).reports.integration-tests.base-directory == "tests/integration/test-reports"
    error_message = "The integration test report must be published from the test folder."
  }

  assert {
    condition     = !strcontains(aws_codebuild_project.tests.source[0].buildspec, "docker")
    error_message = "The test project builds no image."
  }
}

run "logs" {
  command = plan

  assert {
    condition = { for k, g in aws_cloudwatch_log_group.this : k => g.name } == {
      api-service       = "/aws/codebuild/acme-shop-delivery-api-service"
      auth-service      = "/aws/codebuild/acme-shop-delivery-auth-service"
      integration-tests = "/aws/codebuild/acme-shop-delivery-integration-tests"
    }
    error_message = "Each project must have its own log group /aws/codebuild/{project}."
  }

  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.this : g.retention_in_days == 30 && g.kms_key_id == var.log_kms_key_arn])
    error_message = "Log groups must keep logs 30 days by default, encrypted with the log key."
  }

  assert {
    condition = (
      aws_codebuild_project.service["api-service"].logs_config[0].cloudwatch_logs[0].group_name == "/aws/codebuild/acme-shop-delivery-api-service"
      && aws_codebuild_project.service["api-service"].logs_config[0].cloudwatch_logs[0].status == "ENABLED"
      && aws_codebuild_project.tests.logs_config[0].cloudwatch_logs[0].group_name == "/aws/codebuild/acme-shop-delivery-integration-tests"
    )
    error_message = "Each project must log to its own log group."
  }
}

run "iam" {
  command = plan

  assert {
    condition = { for k, r in aws_iam_role.this : k => r.name } == {
      api-service       = "acme-shop-delivery-api-build-us-east-1"
      auth-service      = "acme-shop-delivery-auth-build-us-east-1"
      integration-tests = "acme-shop-delivery-tests-build-us-east-1"
    }
    error_message = "Roles must be named {name_prefix}-{short_name}-build-{region} and {name_prefix}-tests-build-{region}."
  }

  assert {
    condition = (
      aws_codebuild_project.service["api-service"].service_role == aws_iam_role.this["api-service"].arn
      && aws_codebuild_project.service["auth-service"].service_role == aws_iam_role.this["auth-service"].arn
      && aws_codebuild_project.tests.service_role == aws_iam_role.this["integration-tests"].arn
    )
    error_message = "Each project must run with its own role."
  }

  assert {
    condition = jsondecode(aws_iam_role.this["api-service"].assume_role_policy).Statement[0].Principal == { Service = "codebuild.amazonaws.com" } && (
      jsondecode(aws_iam_role.this["api-service"].assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceArn"] == "arn:aws:codebuild:us-east-1:111111111111:project/acme-shop-delivery-api-service"
    )
    error_message = "A build role must be assumable only by CodeBuild for its own project."
  }

  # No wildcard in any action; "*" as a resource only for ecr:GetAuthorizationToken.
  assert {
    condition = alltrue(flatten([for p in aws_iam_role_policy.this : [for s in jsondecode(p.policy).Statement : [
      for a in flatten([s.Action]) : !strcontains(a, "*")
    ]]]))
    error_message = "No policy action may contain a wildcard."
  }

  assert {
    condition = alltrue(flatten([for p in aws_iam_role_policy.this : [for s in jsondecode(p.policy).Statement :
      !contains(flatten([s.Resource]), "*") || flatten([s.Action]) == ["ecr:GetAuthorizationToken"]
    ]]))
    error_message = "Only ecr:GetAuthorizationToken (no resource-level permissions) may use the \"*\" resource."
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.this["api-service"].policy).Statement : s.Resource if s.Sid == "PushOwnImage"] == [
      "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"
    ]
    error_message = "A build must push to its own repository only."
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this["integration-tests"].policy).Statement : s if s.Sid == "PushOwnImage"]) == 0
    error_message = "The test project must not push images."
  }

  assert {
    condition = alltrue([for p in aws_iam_role_policy.this : [for s in jsondecode(p.policy).Statement : s.Resource if s.Sid == "PullBuildImage"] == [
      "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-build-image"
    ]])
    error_message = "Every project must be able to pull the build image."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.this["api-service"].policy).Statement : s.Resource if s.Sid == "WriteOwnLogs"] == ["${aws_cloudwatch_log_group.this["api-service"].arn}:*"]
      && [for s in jsondecode(aws_iam_role_policy.this["integration-tests"].policy).Statement : s.Resource if s.Sid == "WriteOwnLogs"] == ["${aws_cloudwatch_log_group.this["integration-tests"].arn}:*"]
    )
    error_message = "A project may write only to its own log group."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.this["api-service"].policy).Statement : s.Action if s.Sid == "Artifacts"] == [["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]]
      && [for s in jsondecode(aws_iam_role_policy.this["api-service"].policy).Statement : s.Resource if s.Sid == "Artifacts"] == ["arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1/*"]
      && [for s in jsondecode(aws_iam_role_policy.this["integration-tests"].policy).Statement : s.Action if s.Sid == "Artifacts"] == [["s3:GetObject", "s3:GetObjectVersion"]]
    )
    error_message = "Builds must read and write artifacts, the test project only read them, in the artifact bucket."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.this["api-service"].policy).Statement : s.Resource if s.Sid == "ArtifactKey"] == [var.artifact_kms_key_arn]
      && contains(one([for s in jsondecode(aws_iam_role_policy.this["api-service"].policy).Statement : s.Action if s.Sid == "ArtifactKey"]), "kms:GenerateDataKey")
    )
    error_message = "Builds must encrypt and decrypt with the artifact key."
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.this["api-service"].policy).Statement : s if s.Sid == "ReadBuildParameters"] == [{
      Sid      = "ReadBuildParameters"
      Effect   = "Allow"
      Action   = ["ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"]
      Resource = ["arn:aws:ssm:us-east-1:111111111111:parameter/pipeline/delivery/api-service", "arn:aws:ssm:us-east-1:111111111111:parameter/pipeline/delivery/api-service/*"]
    }]
    error_message = "A build must read only the parameters under its own path."
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this["api-service"].policy).Statement : s.Resource if s.Sid == "TestReports"] == ["arn:aws:codebuild:us-east-1:111111111111:report-group/acme-shop-delivery-api-service-*"]
    error_message = "A build may publish test reports only to its own report groups."
  }

  assert {
    condition     = length([for p in aws_iam_role_policy.this : p if strcontains(p.policy, "DecryptBuildParameters")]) == 0
    error_message = "Without parameter_kms_key_arn there must be no KMS grant for parameters."
  }
}

run "outputs" {
  command = plan

  assert {
    condition     = output.project_names == { api-service = "acme-shop-delivery-api-service", auth-service = "acme-shop-delivery-auth-service" }
    error_message = "project_names must map each microservice to its build project."
  }

  assert {
    condition     = keys(output.project_arns) == ["api-service", "auth-service"] && output.test_project_name == "acme-shop-delivery-integration-tests"
    error_message = "project_arns and test_project_name must describe the projects."
  }

  assert {
    condition     = keys(output.role_arns) == ["api-service", "auth-service", "integration-tests"] && output.role_arns["api-service"] == aws_iam_role.this["api-service"].arn
    error_message = "role_arns must list every project's role."
  }

  assert {
    condition     = output.log_group_names["integration-tests"] == "/aws/codebuild/acme-shop-delivery-integration-tests"
    error_message = "log_group_names must list every project's log group."
  }
}

run "dr_variant_settings" {
  command = plan

  variables {
    log_retention_days    = 14
    compute_type          = "BUILD_GENERAL1_MEDIUM"
    build_timeout_minutes = 60
    parameter_path_prefix = "/build/seed"
    parameter_kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/abababab-cdcd-efef-0101-232323232323"
    test_project = {
      source_dir   = "qa/smoke"
      compute_type = "BUILD_GENERAL1_LARGE"
    }
  }

  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.this : g.retention_in_days == 14])
    error_message = "log_retention_days must apply to every log group."
  }

  assert {
    condition     = alltrue([for p in values(aws_codebuild_project.service) : p.environment[0].compute_type == "BUILD_GENERAL1_MEDIUM" && p.build_timeout == 60]) && aws_codebuild_project.tests.environment[0].compute_type == "BUILD_GENERAL1_LARGE"
    error_message = "compute_type, build_timeout_minutes and test_project.compute_type must be passed through."
  }

  assert {
    condition = (
      yamldecode(aws_codebuild_project.tests.source[0].buildspec).reports.integration-tests.base-directory == "qa/smoke/test-reports"
      && one([for v in aws_codebuild_project.tests.environment[0].environment_variable : v.value if v.name == "SOURCE_DIR"]) == "qa/smoke"
    )
    error_message = "test_project.source_dir must be where the tests run and report from."
  }

  assert {
    condition     = one([for v in aws_codebuild_project.service["api-service"].environment[0].environment_variable : v.value if v.name == "PARAMETER_PATH"]) == "/build/seed/api-service/"
    error_message = "parameter_path_prefix must set the parameter path."
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.this["api-service"].policy).Statement : s if s.Sid == "DecryptBuildParameters"] == [{
      Sid       = "DecryptBuildParameters"
      Effect    = "Allow"
      Action    = "kms:Decrypt"
      Resource  = "arn:aws:kms:us-east-1:111111111111:key/abababab-cdcd-efef-0101-232323232323"
      Condition = { StringEquals = { "kms:ViaService" = "ssm.us-east-1.amazonaws.com" } }
    }]
    error_message = "parameter_kms_key_arn must allow decrypting parameters through SSM only."
  }
}
