# The SSM Parameter Store namespace of a runtime environment:
# /pipeline/{environment}/{microservice}/. Terraform owns the key SecureStrings
# are encrypted with and the policies that read each namespace; the values
# belong to the deployer (`deployer seed`), which writes plain values as
# String and secrets as SecureString with this key. No aws_ssm_parameter here:
# a secret in Terraform would sit in plans and state, and a plain value owned
# by both would be overwritten back and forth.

data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  region      = data.aws_region.current.name
  partition   = data.aws_partition.current.partition
  account_id  = data.aws_caller_identity.current.account_id
  ssm_service = "ssm.${local.region}.amazonaws.com"

  # Values every microservice reads (for example LOG_LEVEL), beside its own.
  shared_path     = "/pipeline/${var.environment}/shared/"
  shared_path_arn = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/pipeline/${var.environment}/shared"

  namespaces = {
    for service, m in var.microservices : service => {
      path = "/pipeline/${var.environment}/${service}/"
      # ARN of the path itself (GetParametersByPath is authorized on it) and
      # the prefix of the ARNs of the parameters under it.
      path_arn    = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/pipeline/${var.environment}/${service}"
      policy_name = "${var.name_prefix}-${m.short_name}-params-${local.region}"
    }
  }
}

# --- KMS key for SecureString parameters -------------------------------------

# The key encrypts parameters and nothing else: the account administers it,
# action by action, and may encrypt and decrypt with it only through Parameter
# Store in this region (kms:ViaService); IAM policies in the account decide who
# may actually call them (the read policies below).
module "key" {
  source = "../kms-key"

  name_prefix       = var.name_prefix
  name              = "parameters"
  description       = "SecureString parameters under /pipeline/${var.environment}/ (${var.name_prefix})."
  usage_via_service = "ssm"
}

# The key and its alias were this module's own resources: existing
# environments keep them (a KMS key is never replaced, and its SecureStrings
# would be lost with it).
moved {
  from = aws_kms_key.this
  to   = module.key.aws_kms_key.this
}

moved {
  from = aws_kms_alias.this
  to   = module.key.aws_kms_alias.this
}

# --- Read policies, one per microservice -------------------------------------

# Attached by the stack to the microservice's task execution role: the ECS
# agent reads the parameters named in the task definition's secrets. The
# policy reaches exactly the microservice's namespace.
resource "aws_iam_policy" "read" {
  for_each = local.namespaces

  name        = each.value.policy_name
  description = "Read the SSM parameters under ${each.value.path} and ${local.shared_path} (${local.region}) and decrypt their SecureStrings."

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "ReadParameters"
        Effect = "Allow"
        Action = [
          "ssm:GetParameter",
          "ssm:GetParameters",
          "ssm:GetParametersByPath",
        ]
        Resource = [
          each.value.path_arn,
          "${each.value.path_arn}/*",
          local.shared_path_arn,
          "${local.shared_path_arn}/*",
        ]
      },
      {
        # Parameter Store decrypts as the caller, with the parameter's ARN as
        # encryption context: only this namespace's SecureStrings.
        Sid      = "DecryptParameters"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = module.key.key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = local.ssm_service }
          StringLike = {
            "kms:EncryptionContext:PARAMETER_ARN" = ["${each.value.path_arn}/*", "${local.shared_path_arn}/*"]
          }
        }
      },
    ]
  })

  tags = { Name = each.value.policy_name }
}
