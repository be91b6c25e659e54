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
  region       = data.aws_region.current.name
  partition    = data.aws_partition.current.partition
  account_id   = data.aws_caller_identity.current.account_id
  account_root = "arn:${local.partition}:iam::${local.account_id}:root"
  ssm_service  = "ssm.${local.region}.amazonaws.com"

  alias_name = "alias/${var.name_prefix}-parameters"

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

  # The account root administers the key, action by action (never kms:*);
  # IAM policies in the account decide who may actually call them.
  key_admin_actions = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
  ]

  # Parameter Store encrypts standard parameters with Encrypt and advanced
  # ones with GenerateDataKey (envelope encryption); both decrypt with Decrypt.
  key_usage_actions = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
  ]
}

# --- KMS key for SecureString parameters -------------------------------------

resource "aws_kms_key" "this" {
  description             = "SecureString parameters under /pipeline/${var.environment}/ (${var.name_prefix})."
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "KeyAdministration"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = local.key_admin_actions
        Resource  = "*" # in a key policy, "*" is this key
      },
      {
        # The key encrypts parameters and nothing else: cryptographic use only
        # through Parameter Store in this region.
        Sid       = "KeyUsageThroughParameterStore"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = local.key_usage_actions
        Resource  = "*"
        Condition = {
          StringEquals = { "kms:ViaService" = local.ssm_service }
        }
      },
    ]
  })

  tags = { Name = local.alias_name }
}

resource "aws_kms_alias" "this" {
  name          = local.alias_name
  target_key_id = aws_kms_key.this.key_id
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
        Resource = aws_kms_key.this.arn
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
