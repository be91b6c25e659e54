# Plan-only tests of the parameters module against a mocked AWS provider.
# The read policies are decoded and compared statement by statement: they
# must reach exactly the microservice's namespace.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
      key_id = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    }
  }
  mock_resource "aws_kms_alias" {}
  mock_resource "aws_iam_policy" {}

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
      account_id = "123456789012"
    }
  }
}

variables {
  name_prefix = "acme-shop-staging"
  environment = "staging"
  microservices = {
    api-service          = { short_name = "api" }
    auth-service         = { short_name = "auth" }
    notification-service = { short_name = "notify" }
  }
  secret_names = {
    auth-service = ["JWT_SIGNING_KEY", "DB_PASSWORD"]
    shared       = ["SENTRY_DSN"]
  }
  parameters = {
    api-service = { RATE_LIMIT_PER_MINUTE = "600", LOG_LEVEL = "info" }
    shared      = { LOG_LEVEL = "warn", REGION_LABEL = "east" }
  }
}

run "namespaces_and_policies" {
  command = plan

  # Terraform creates no parameter: the deployer owns the values.
  assert {
    condition     = output.parameter_paths == { api-service = "/pipeline/staging/api-service/", auth-service = "/pipeline/staging/auth-service/", notification-service = "/pipeline/staging/notification-service/" }
    error_message = "Each microservice's namespace must be /pipeline/{environment}/{microservice}/."
  }

  # KMS key: rotation, alias, explicit actions only.
  assert {
    condition     = module.key.key_rotation_enabled && module.key.alias_name == "alias/acme-shop-staging-parameters" && output.kms_alias_name == "alias/acme-shop-staging-parameters"
    error_message = "The key must rotate and be aliased alias/{name_prefix}-parameters."
  }

  assert {
    condition = alltrue(flatten([
      for s in jsondecode(module.key.key_policy).Statement : [for a in flatten([s.Action]) : !strcontains(a, "*")]
    ]))
    error_message = "The key policy must list its actions one by one (no kms:* or other wildcard)."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(module.key.key_policy).Statement :
      s.Principal == { AWS = "arn:aws:iam::123456789012:root" }
    ])
    error_message = "The key policy must name only this account."
  }

  assert {
    condition = one([
      for s in jsondecode(module.key.key_policy).Statement : s.Condition.StringEquals["kms:ViaService"]
      if contains(flatten([s.Action]), "kms:Decrypt")
    ]) == "ssm.us-east-1.amazonaws.com"
    error_message = "Encrypt and decrypt with the key only through Parameter Store."
  }

  assert {
    condition = !anytrue([
      for s in jsondecode(module.key.key_policy).Statement : contains(flatten([s.Action]), "kms:Decrypt")
      if try(s.Condition.StringEquals["kms:ViaService"], null) == null
    ])
    error_message = "No statement may allow kms:Decrypt outside Parameter Store."
  }

  # Read policies: names, exactly the namespace, no wildcard action.
  assert {
    condition = { for k, p in aws_iam_policy.read : k => p.name } == {
      api-service          = "acme-shop-staging-api-params-us-east-1"
      auth-service         = "acme-shop-staging-auth-params-us-east-1"
      notification-service = "acme-shop-staging-notify-params-us-east-1"
    }
    error_message = "Read policies must be named {name_prefix}-{short_name}-params-{region}."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_policy.read["api-service"].policy).Statement : s
      if s.Sid == "ReadParameters"
      ] == [{
        Sid    = "ReadParameters"
        Effect = "Allow"
        Action = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
        Resource = [
          "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/api-service",
          "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/api-service/*",
          "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/shared",
          "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/shared/*",
        ]
    }]
    error_message = "The api-service policy must allow GetParameter(s) and GetParametersByPath on exactly /pipeline/staging/api-service/, /pipeline/staging/shared/ and the paths themselves."
  }

  assert {
    condition = alltrue([
      for service, p in aws_iam_policy.read :
      toset(flatten([for s in jsondecode(p.policy).Statement : s.Resource if s.Sid == "ReadParameters"])) == toset([
        "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/${service}",
        "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/${service}/*",
        "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/shared",
        "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/shared/*",
      ])
    ])
    error_message = "Each read policy must reach its own namespace and the shared one, no other."
  }

  assert {
    condition = [
      for s in jsondecode(aws_iam_policy.read["auth-service"].policy).Statement : s
      if s.Sid == "DecryptParameters"
      ] == [{
        Sid      = "DecryptParameters"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = module.key.key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "ssm.us-east-1.amazonaws.com" }
          StringLike = { "kms:EncryptionContext:PARAMETER_ARN" = [
            "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/auth-service/*",
            "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/shared/*",
          ] }
        }
    }]
    error_message = "The policy must allow kms:Decrypt on the key only through Parameter Store and only for the namespace's parameters."
  }

  assert {
    condition = alltrue(flatten([
      for p in aws_iam_policy.read : [
        for s in jsondecode(p.policy).Statement : [for a in flatten([s.Action]) : !strcontains(a, "*")]
      ]
    ]))
    error_message = "No read policy may have a wildcard action."
  }

  assert {
    condition     = length(aws_iam_policy.read) == 2 + 1 && alltrue([for p in aws_iam_policy.read : length(jsondecode(p.policy).Statement) == 2])
    error_message = "Each microservice gets one read policy of two statements."
  }

  # Outputs for the task definitions.
  assert {
    condition = output.secret_parameter_arns == {
      api-service = {
        SENTRY_DSN = "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/shared/SENTRY_DSN"
      }
      auth-service = {
        JWT_SIGNING_KEY = "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/auth-service/JWT_SIGNING_KEY"
        DB_PASSWORD     = "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/auth-service/DB_PASSWORD"
        SENTRY_DSN      = "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/shared/SENTRY_DSN"
      }
      notification-service = {
        SENTRY_DSN = "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/shared/SENTRY_DSN"
      }
    }
    error_message = "secret_parameter_arns must give, per microservice, the ARN of its own secrets and of the shared ones."
  }

  assert {
    condition = output.parameter_arns["api-service"] == {
      LOG_LEVEL             = "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/api-service/LOG_LEVEL"
      RATE_LIMIT_PER_MINUTE = "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/api-service/RATE_LIMIT_PER_MINUTE"
      REGION_LABEL          = "arn:aws:ssm:us-east-1:123456789012:parameter/pipeline/staging/shared/REGION_LABEL"
    }
    error_message = "parameter_arns must give the ARN of every plain parameter, the microservice's own winning over a shared one of the same name."
  }

  assert {
    condition     = output.read_policy_arns == { for k, p in aws_iam_policy.read : k => p.arn }
    error_message = "read_policy_arns must map each microservice to its policy."
  }
}

run "other_region_and_environment" {
  command = plan

  variables {
    name_prefix   = "acme-shop-prod"
    environment   = "prod"
    microservices = { api-service = { short_name = "api" } }
    secret_names  = {}
    parameters    = {}
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

  # The key's own module reads the region and account too.
  override_data {
    target = module.key.data.aws_region.current
    values = {
      name = "us-west-2"
    }
  }

  override_data {
    target = module.key.data.aws_caller_identity.current
    values = {
      account_id = "444444444444"
    }
  }

  assert {
    condition     = aws_iam_policy.read["api-service"].name == "acme-shop-prod-api-params-us-west-2"
    error_message = "The read policy name must carry the region (IAM is global)."
  }

  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_policy.read["api-service"].policy).Statement : s.Resource if s.Sid == "ReadParameters"])) == toset([
      "arn:aws:ssm:us-west-2:444444444444:parameter/pipeline/prod/api-service",
      "arn:aws:ssm:us-west-2:444444444444:parameter/pipeline/prod/api-service/*",
      "arn:aws:ssm:us-west-2:444444444444:parameter/pipeline/prod/shared",
      "arn:aws:ssm:us-west-2:444444444444:parameter/pipeline/prod/shared/*",
    ])
    error_message = "The namespace ARN must follow the region, account and environment."
  }

  assert {
    condition = (
      strcontains(module.key.key_policy, "ssm.us-west-2.amazonaws.com")
      && alltrue([for s in jsondecode(module.key.key_policy).Statement : s.Principal == { AWS = "arn:aws:iam::444444444444:root" }])
    )
    error_message = "The key must be usable through Parameter Store of its own region, by its own account."
  }

  assert {
    condition     = output.secret_parameter_arns == { api-service = {} } && output.parameter_arns == { api-service = {} }
    error_message = "Without secrets or parameters the ARN maps must be empty per microservice."
  }
}
