# The artifact key: CodePipeline encrypts artifacts with it, CodeBuild its
# logs, and the deployment accounts decrypt what they deploy (and encrypt what
# their actions write back).

locals {
  # The account root gets every action it needs to administer and use the key,
  # listed one by one (never kms:*): IAM policies in this account decide who
  # may actually call them (the pipeline and build roles). The list covers what
  # Terraform calls to manage the key and its alias.
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

  key_usage_actions = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
  ]

  # What each supported service principal may do (as in modules/kms-key).
  # Publishing services only need a data key for an encrypted SNS topic
  # (GenerateDataKey*) and Decrypt; CloudWatch Logs encrypts events itself.
  key_services = {
    logs = {
      sid       = "CloudWatchLogs"
      principal = "logs.${local.region}.amazonaws.com"
      actions   = local.key_usage_actions
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

  key_policy_statements = concat(
    [
      {
        Sid       = "KeyAdministration"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = local.key_admin_actions
        Resource  = "*" # in a key policy, "*" is this key
      },
      {
        Sid       = "KeyUsage"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = local.key_usage_actions
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
    # Cross-account read and write of artifacts. Key ARNs are random, so the
    # deploy roles are granted this key through its alias (see
    # docs/architecture.md, kms:ResourceAliases).
    length(local.deployment_account_roots) > 0 ? [{
      Sid       = "DeploymentAccounts"
      Effect    = "Allow"
      Principal = { AWS = local.deployment_account_roots }
      Action    = local.key_usage_actions
      Resource  = "*"
    }] : [],
    [
      for service in var.kms_service_principals : merge(
        {
          Sid       = local.key_services[service].sid
          Effect    = "Allow"
          Principal = { Service = local.key_services[service].principal }
          Action    = local.key_services[service].actions
          Resource  = "*"
        },
        local.key_services[service].condition == null ? {} : { Condition = local.key_services[service].condition },
      )
    ],
  )
}

resource "aws_kms_key" "this" {
  description             = "Pipeline artifacts of ${var.name_prefix} in ${local.region} (bucket ${local.bucket_name})"
  key_usage               = "ENCRYPT_DECRYPT"
  enable_key_rotation     = true
  deletion_window_in_days = var.key_deletion_window_days

  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.key_policy_statements
  })

  tags = { Name = local.kms_alias_name }
}

resource "aws_kms_alias" "this" {
  name          = local.kms_alias_name
  target_key_id = aws_kms_key.this.key_id
}
