# Plan-only tests of the ci-read-role module against a mocked AWS provider. The
# trust and permission policies are decoded and checked statement by statement.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::333333333333:role/acme-shop-staging-ci-read-us-east-1"
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
}

variables {
  name_prefix        = "acme-shop-staging"
  account_id         = "333333333333"
  trusted_role_arns  = ["arn:aws:iam::111111111111:role/acme-shop-delivery-ci-plan"]
  bucket_name_prefix = "acme-shop-"
}

run "read_role" {
  command = plan

  assert {
    condition     = aws_iam_role.this.name == "acme-shop-staging-ci-read-us-east-1"
    error_message = "The role must be named {name_prefix}-ci-read-{region} (modules/naming's ci_read_role)."
  }

  assert {
    condition = jsondecode(aws_iam_role.this.assume_role_policy).Statement == [{
      Sid       = "CiPlanRole"
      Effect    = "Allow"
      Principal = { AWS = ["arn:aws:iam::111111111111:role/acme-shop-delivery-ci-plan"] }
      Action    = "sts:AssumeRole"
    }]
    error_message = "Only the trusted roles (the CI plan role) may assume the read role, with sts:AssumeRole."
  }

  # Every action reads configuration: Describe, Get, List or BatchGet, and none
  # of those that read data (objects, parameter values, secrets, log events,
  # images, source files, function code invocation).
  assert {
    condition = alltrue([
      for action in flatten([for s in jsondecode(aws_iam_role_policy.read.policy).Statement : s.Action]) :
      can(regex("^[a-z0-9-]+:(Describe|Get|List|BatchGet)[A-Za-z]+$", action))
    ])
    error_message = "Every action of the read role must be a Describe, Get, List or BatchGet action, without wildcard."
  }

  assert {
    condition = length([
      for action in flatten([for s in jsondecode(aws_iam_role_policy.read.policy).Statement : s.Action]) : action
      if contains([
        "s3:GetObject", "s3:GetObjectVersion", "ssm:GetParameter", "ssm:GetParameters",
        "secretsmanager:GetSecretValue", "kms:Decrypt",
        "logs:GetLogEvents", "logs:FilterLogEvents", "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer", "codecommit:GetFile", "codecommit:GetBlob",
        "codecommit:GetFolder", "lambda:InvokeFunction",
      ], action)
    ]) == 0
    error_message = "The read role must not read data: no object, parameter value, secret, log event, image layer or source file."
  }

  # One exception: the serving record of deployer dr failover (regions and counts), which
  # the runtime stack reads by path; no other parameter.
  assert {
    condition = [
      for r in jsondecode(aws_iam_role_policy.read.policy).Statement[0].Resource : r
      if startswith(r, "arn:aws:ssm:")
    ] == ["arn:aws:ssm:*:333333333333:parameter/deployer/dr"]
    error_message = "The read role may read parameters by path under /deployer/dr only (the serving record)."
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.read.policy).Statement : s.Sid] == ["ReadConfiguration", "DescribeConfiguration"]
    error_message = "The policy must have the ReadConfiguration (account-scoped) and DescribeConfiguration (\"*\") statements, in that order."
  }

  assert {
    condition = alltrue([
      for r in jsondecode(aws_iam_role_policy.read.policy).Statement[0].Resource :
      strcontains(r, ":333333333333:") || r == "arn:aws:s3:::acme-shop-*" || startswith(r, "arn:aws:route53:::")
    ])
    error_message = "The resource-level actions must be held to this account's ARNs, the project's bucket names and Route 53's account-less ARNs (no resource policies: this account's zones only)."
  }

  assert {
    condition     = length(setintersection(jsondecode(aws_iam_role_policy.read.policy).Statement[0].Action, jsondecode(aws_iam_role_policy.read.policy).Statement[1].Action)) == 0
    error_message = "An action is either account-scoped or on \"*\" (no resource-level permissions), never both."
  }
}
