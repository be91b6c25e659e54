# Plan-only tests of the deploy-role module against a mocked AWS provider.
# The trust and permission policies are decoded and compared statement by
# statement.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::333333333333:role/acme-shop-staging-deploy-us-east-1"
    }
  }
  mock_resource "aws_iam_role_policy" {}

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
      account_id = "333333333333"
    }
  }
}

variables {
  name_prefix                 = "acme-shop-staging"
  trusted_role_arns           = ["arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline"]
  codedeploy_application_name = "acme-shop-staging-services"
  deployment_group_names      = ["acme-shop-staging-api-service", "acme-shop-staging-auth-service"]
  pass_role_arns = [
    "arn:aws:iam::333333333333:role/acme-shop-staging-api-task-us-east-1",
    "arn:aws:iam::333333333333:role/acme-shop-staging-api-exec-us-east-1",
  ]
  artifact_bucket_arns    = ["arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1", "arn:aws:s3:::acme-shop-delivery-artifacts-us-west-2"]
  artifact_kms_alias_name = "alias/acme-shop-delivery-artifacts"
  delivery_account_id     = "111111111111"
}

run "deploy_role" {
  command = plan

  assert {
    condition     = aws_iam_role.this.name == "acme-shop-staging-deploy-us-east-1" && output.role_name == "acme-shop-staging-deploy-us-east-1"
    error_message = "The role must be named {name_prefix}-deploy-{region}."
  }

  assert {
    condition     = output.role_arn == aws_iam_role.this.arn
    error_message = "role_arn must be the role's ARN."
  }

  # Trust: exactly the trusted roles, sts:AssumeRole only, no condition.
  assert {
    condition = jsondecode(aws_iam_role.this.assume_role_policy).Statement == [{
      Sid       = "DeliveryPipeline"
      Effect    = "Allow"
      Principal = { AWS = ["arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline"] }
      Action    = "sts:AssumeRole"
    }]
    error_message = "The trust policy must let exactly the delivery pipeline's role assume the role."
  }

  # Permissions.
  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement : [for a in flatten([s.Action]) : !strcontains(a, "*")]
    ]))
    error_message = "No action may contain a wildcard."
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement : s.Sid if contains(flatten([s.Resource]), "*")] == ["TaskDefinitions"]
    error_message = "Only the task definition actions (no resource-level permissions) may use the \"*\" resource."
  }

  assert {
    condition     = toset(flatten([for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement : s.Action if s.Sid == "TaskDefinitions"])) == toset(["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"])
    error_message = "The \"*\" statement must hold only ecs:RegisterTaskDefinition and ecs:DescribeTaskDefinition."
  }

  assert {
    condition = { for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement : s.Sid => s.Resource if startswith(s.Sid, "CodeDeploy") } == {
      CodeDeployDeployments = [
        "arn:aws:codedeploy:us-east-1:333333333333:deploymentgroup:acme-shop-staging-services/acme-shop-staging-api-service",
        "arn:aws:codedeploy:us-east-1:333333333333:deploymentgroup:acme-shop-staging-services/acme-shop-staging-auth-service",
      ]
      CodeDeployApplication = "arn:aws:codedeploy:us-east-1:333333333333:application:acme-shop-staging-services"
      CodeDeployConfigs     = "arn:aws:codedeploy:us-east-1:333333333333:deploymentconfig:*"
    }
    error_message = "CodeDeploy permissions must be on the application, its deployment groups and this account's deployment configs."
  }

  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement : s.Action if startswith(s.Sid, "CodeDeploy")])) == toset([
      "codedeploy:CreateDeployment", "codedeploy:GetDeployment", "codedeploy:GetDeploymentConfig",
      "codedeploy:GetApplication", "codedeploy:GetApplicationRevision", "codedeploy:RegisterApplicationRevision",
    ])
    error_message = "The CodeDeploy actions must be exactly those the ECS deploy action calls."
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement : s if s.Sid == "PassTaskRolesToEcs"] == [{
      Sid       = "PassTaskRolesToEcs"
      Effect    = "Allow"
      Action    = "iam:PassRole"
      Resource  = ["arn:aws:iam::333333333333:role/acme-shop-staging-api-task-us-east-1", "arn:aws:iam::333333333333:role/acme-shop-staging-api-exec-us-east-1"]
      Condition = { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
    }]
    error_message = "iam:PassRole must reach only the task and execution roles, and only for ECS tasks."
  }

  assert {
    condition = (
      { for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement : s.Sid => s.Resource if startswith(s.Sid, "ReadArtifact") } == {
        ReadArtifacts       = ["arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1/*", "arn:aws:s3:::acme-shop-delivery-artifacts-us-west-2/*"]
        ReadArtifactBuckets = ["arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1", "arn:aws:s3:::acme-shop-delivery-artifacts-us-west-2"]
      }
      && toset(flatten([for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement : s.Action if startswith(s.Sid, "ReadArtifact")])) == toset(["s3:GetObject", "s3:GetObjectVersion", "s3:GetBucketVersioning"])
    )
    error_message = "The role must read objects of the artifact buckets and their versioning, nothing else."
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement : s if s.Sid == "DecryptArtifacts"] == [{
      Sid       = "DecryptArtifacts"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:DescribeKey"]
      Resource  = "arn:aws:kms:*:111111111111:key/*"
      Condition = { "ForAnyValue:StringEquals" = { "kms:ResourceAliases" = "alias/acme-shop-delivery-artifacts" } }
    }]
    error_message = "kms:Decrypt must reach only delivery account keys carrying the artifact alias."
  }

  assert {
    condition     = length(jsondecode(aws_iam_role_policy.deploy.policy).Statement) == 8
    error_message = "The deploy policy must hold exactly the eight documented statements."
  }
}

run "several_trusted_roles_and_external_id" {
  command = plan

  variables {
    trusted_role_arns = [
      "arn:aws:iam::111111111111:role/acme-shop-delivery-pipeline",
      "arn:aws:iam::111111111111:role/acme-shop-delivery-release-tool",
    ]
    external_id = "acme-shop-staging-deploy"
  }

  assert {
    condition = (
      length(jsondecode(aws_iam_role.this.assume_role_policy).Statement) == 1
      && toset(jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.AWS) == toset(var.trusted_role_arns)
      && keys(jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal) == ["AWS"]
    )
    error_message = "The trust policy principals must be exactly trusted_role_arns."
  }

  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition == { StringEquals = { "sts:ExternalId" = "acme-shop-staging-deploy" } }
    error_message = "With external_id, assuming the role must require it."
  }
}

run "dr_region" {
  command = plan

  variables {
    name_prefix = "acme-shop-prod"
    pass_role_arns = [
      "arn:aws:iam::444444444444:role/acme-shop-prod-api-task-us-west-2",
    ]
  }

  override_data {
    target = data.aws_region.current
    values = {
      name = "us-west-2"
    }
  }

  override_data {
    target = data.aws_caller_identity.current
    values = {
      account_id = "444444444444"
    }
  }

  assert {
    condition     = aws_iam_role.this.name == "acme-shop-prod-deploy-us-west-2"
    error_message = "The role name must carry the region (IAM is global)."
  }

  assert {
    condition     = strcontains(aws_iam_role_policy.deploy.policy, "arn:aws:codedeploy:us-west-2:444444444444:application:acme-shop-staging-services")
    error_message = "CodeDeploy ARNs must follow the region and account."
  }
}

run "pass_role_of_another_account" {
  command = plan

  variables {
    pass_role_arns = ["arn:aws:iam::111111111111:role/acme-shop-delivery-api-task-us-east-1"]
  }

  expect_failures = [aws_iam_role_policy.deploy]
}
