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

  # Services the key's cryptographic use may be restricted to
  # (usage_via_service): the endpoint kms:ViaService names and the actions
  # that service calls on the caller's behalf.
  via_services = {
    ssm = {
      sid      = "KeyUsageThroughParameterStore"
      endpoint = "ssm.${local.region}.amazonaws.com"
      # Parameter Store encrypts standard parameters with Encrypt and advanced
      # ones with GenerateDataKey (envelope encryption); both decrypt with Decrypt.
      actions = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    }
  }

  # What the account, the user roles and the other accounts may do with the
  # key: the usage actions, or only what the one service calls, through it.
  usage = var.usage_via_service == null ? {
    sid       = "KeyUsage"
    actions   = local.usage_actions
    condition = null
    } : {
    sid       = local.via_services[var.usage_via_service].sid
    actions   = local.via_services[var.usage_via_service].actions
    condition = { StringEquals = { "kms:ViaService" = local.via_services[var.usage_via_service].endpoint } }
  }
  usage_condition = local.usage.condition == null ? {} : { Condition = local.usage.condition }

  # Principals outside the account's own delegation, each with the usage
  # statement's actions and condition: roles named directly, and other
  # accounts' roots (IAM policies there decide which roles may use the key).
  # In this platform the other accounts are the runtime accounts deploying
  # from the delivery account (docs/architecture.md, kms:ResourceAliases),
  # hence the statement's name. No statement for an empty list: an empty
  # principal makes the policy malformed.
  grantees = [
    { sid = "UserRoles", principals = var.user_role_arns },
    { sid = "DeploymentAccounts", principals = [for id in var.account_ids : "arn:${local.partition}:iam::${id}:root"] },
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
      merge({
        Sid       = local.usage.sid
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = local.usage.actions
        Resource  = "*"
      }, local.usage_condition),
    ],
    # Grants only for AWS services acting for a principal of this account; a
    # key restricted to one service has none (they would reach past it).
    var.usage_via_service == null ? [{
      Sid       = "KeyGrantsForAwsServices"
      Effect    = "Allow"
      Principal = { AWS = local.account_root }
      Action    = ["kms:CreateGrant"]
      Resource  = "*"
      Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
    }] : [],
    [
      for grantee in local.grantees : merge({
        Sid       = grantee.sid
        Effect    = "Allow"
        Principal = { AWS = grantee.principals }
        Action    = local.usage.actions
        Resource  = "*"
      }, local.usage_condition) if length(grantee.principals) > 0
    ],
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
