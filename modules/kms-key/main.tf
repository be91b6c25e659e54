data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  region       = data.aws_region.current.name
  partition    = data.aws_partition.current.partition
  account_id   = data.aws_caller_identity.current.account_id
  account_root = "arn:${local.partition}:iam::${local.account_id}:root"

  alias_name = "alias/${var.name_prefix}-${var.name}"

  # The account root gets every action it needs to administer and use the key,
  # listed one by one (never kms:*): IAM policies in this account decide who
  # may actually call them. The list covers what Terraform calls to manage the
  # key and its alias (the alias actions are checked against the key too).
  admin_actions = [
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

  usage_actions = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
  ]

  # What each supported service principal may do. Publishing services only
  # need a data key for an encrypted SNS topic (GenerateDataKey*) and Decrypt
  # to read it back; CloudWatch Logs encrypts log events itself.
  services = {
    logs = {
      sid       = "CloudWatchLogs"
      principal = "logs.${local.region}.amazonaws.com"
      actions   = local.usage_actions
      # Only for log groups of this account and region (the encryption
      # context CloudWatch Logs sends names the log group).
      condition = {
        ArnLike = {
          "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"
        }
      }
    }
    sns = {
      sid       = "SNS"
      principal = "sns.amazonaws.com"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"]
      condition = null
    }
    events = {
      sid       = "EventBridge"
      principal = "events.amazonaws.com"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"]
      condition = null
    }
    cloudwatch = {
      sid       = "CloudWatchAlarms"
      principal = "cloudwatch.amazonaws.com"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"]
      condition = null
    }
    codestar-notifications = {
      sid       = "CodeStarNotifications"
      principal = "codestar-notifications.amazonaws.com"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"]
      # Only through SNS, as AWS documents for notification rules.
      condition = {
        StringEquals = { "kms:ViaService" = "sns.${local.region}.amazonaws.com" }
      }
    }
  }

  policy_statements = concat(
    [
      {
        Sid       = "KeyAdministration"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = local.admin_actions
        Resource  = "*" # in a key policy, "*" is this key
      },
      {
        Sid       = "KeyUsage"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = local.usage_actions
        Resource  = "*"
      },
      {
        # Grants only for AWS services acting for a principal of this account.
        Sid       = "KeyGrantsForAwsServices"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = ["kms:CreateGrant"]
        Resource  = "*"
        Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
      },
    ],
    length(var.user_role_arns) > 0 ? [{
      Sid       = "UserRoles"
      Effect    = "Allow"
      Principal = { AWS = var.user_role_arns }
      Action    = local.usage_actions
      Resource  = "*"
    }] : [],
    [
      for service in var.service_principals : merge(
        {
          Sid       = local.services[service].sid
          Effect    = "Allow"
          Principal = { Service = local.services[service].principal }
          Action    = local.services[service].actions
          Resource  = "*"
        },
        local.services[service].condition == null ? {} : { Condition = local.services[service].condition },
      )
    ],
  )
}

resource "aws_kms_key" "this" {
  description             = var.description
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_days

  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.policy_statements
  })

  tags = { Name = local.alias_name }
}

resource "aws_kms_alias" "this" {
  name          = local.alias_name
  target_key_id = aws_kms_key.this.key_id
}
