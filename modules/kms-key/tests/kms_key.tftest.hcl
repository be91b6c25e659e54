# Plan-only tests of the kms-key module against a mocked AWS provider. The key
# policy is built with jsonencode from known values, so it is known in the
# plan and the tests decode it and assert on its statements.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
    }
  }

  mock_resource "aws_kms_alias" {
    defaults = {
      arn = "arn:aws:kms:us-east-1:123456789012:alias/acme-shop-prod-logs"
    }
  }

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
  name_prefix        = "acme-shop-prod"
  name               = "logs"
  description        = "CloudWatch Logs and SNS topics of acme-shop-prod"
  service_principals = ["logs", "sns", "events", "cloudwatch", "codestar-notifications"]
  user_role_arns = [
    "arn:aws:iam::123456789012:role/acme-shop-prod-api-task-us-east-1",
    "arn:aws:iam::123456789012:role/acme-shop-prod-api-exec-us-east-1",
  ]
}

run "key_and_alias" {
  command = plan

  assert {
    condition     = aws_kms_key.this.enable_key_rotation == true
    error_message = "Key rotation must be enabled."
  }

  assert {
    condition     = aws_kms_key.this.deletion_window_in_days == 30
    error_message = "The deletion window must default to 30 days."
  }

  assert {
    condition     = aws_kms_key.this.key_usage == "ENCRYPT_DECRYPT" && aws_kms_key.this.description == var.description
    error_message = "Expected a symmetric encryption key with the given description."
  }

  assert {
    condition     = aws_kms_alias.this.name == "alias/acme-shop-prod-logs"
    error_message = "The alias must be alias/{name_prefix}-{name}."
  }

  assert {
    condition     = aws_kms_alias.this.target_key_id == aws_kms_key.this.key_id
    error_message = "The alias must point at the module's key."
  }

  assert {
    condition = (
      output.key_arn == aws_kms_key.this.arn
      && output.key_id == aws_kms_key.this.key_id
      && output.alias_name == "alias/acme-shop-prod-logs"
      && output.alias_arn == aws_kms_alias.this.arn
      && output.key_rotation_enabled == true
    )
    error_message = "The outputs must expose the key and alias attributes."
  }
}

run "policy_has_no_wildcard_action" {
  command = plan

  # No wildcard at all in an action: "*", "kms:*" and "kms:GenerateDataKey*" alike.
  assert {
    condition = alltrue([
      for action in flatten([for s in jsondecode(aws_kms_key.this.policy).Statement : s.Action]) :
      !strcontains(action, "*")
    ])
    error_message = "No statement of the key policy may use a wildcard in an action."
  }

  assert {
    condition     = alltrue([for s in jsondecode(aws_kms_key.this.policy).Statement : s.Effect == "Allow" && s.Resource == "*"])
    error_message = "Every key policy statement must allow on the key itself (Resource \"*\" in a key policy)."
  }
}

run "account_root_administers_and_uses" {
  command = plan

  assert {
    condition = (
      { for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["KeyAdministration"].Principal.AWS == "arn:aws:iam::123456789012:root"
      && { for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["KeyUsage"].Principal.AWS == "arn:aws:iam::123456789012:root"
    )
    error_message = "The account root must administer and use the key (delegating to IAM)."
  }

  # What Terraform itself needs to manage the key: without these the account
  # locks itself out of the key.
  assert {
    condition = length(setsubtract(
      ["kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DescribeKey", "kms:ScheduleKeyDeletion", "kms:EnableKeyRotation", "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateKeyDescription"],
      { for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["KeyAdministration"].Action,
    )) == 0
    error_message = "The administration statement must list the actions Terraform calls to manage the key."
  }

  assert {
    condition     = toset({ for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["KeyUsage"].Action) == toset(["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"])
    error_message = "The account's usage statement must list Encrypt, Decrypt, ReEncryptFrom/To, GenerateDataKey(WithoutPlaintext) and DescribeKey."
  }

  assert {
    condition     = { for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["KeyGrantsForAwsServices"].Condition.Bool["kms:GrantIsForAWSResource"] == "true"
    error_message = "Grants must be limited to AWS services acting for the account."
  }
}

run "user_roles" {
  command = plan

  assert {
    condition     = toset({ for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["UserRoles"].Principal.AWS) == toset(var.user_role_arns)
    error_message = "The user roles must be the principals of the UserRoles statement."
  }

  assert {
    condition     = toset({ for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["UserRoles"].Action) == toset(["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"])
    error_message = "The user roles must be able to encrypt and decrypt, nothing more."
  }
}

run "no_user_roles" {
  command = plan

  variables {
    user_role_arns = []
  }

  # An empty principal list is a malformed key policy.
  assert {
    condition     = !contains([for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid], "UserRoles")
    error_message = "Without user roles there must be no UserRoles statement."
  }
}

run "no_other_accounts" {
  command = plan

  # An empty principal list is a malformed key policy.
  assert {
    condition     = !contains([for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid], "DeploymentAccounts")
    error_message = "Without account_ids there must be no DeploymentAccounts statement."
  }
}

run "other_accounts" {
  command = plan

  variables {
    account_ids = ["333333333333", "444444444444"]
  }

  assert {
    condition     = toset({ for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["DeploymentAccounts"].Principal.AWS) == toset(["arn:aws:iam::333333333333:root", "arn:aws:iam::444444444444:root"])
    error_message = "The other accounts' roots must be the principals of the DeploymentAccounts statement."
  }

  assert {
    condition = (
      toset({ for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["DeploymentAccounts"].Action) == toset(["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"])
      && !can({ for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["DeploymentAccounts"].Condition)
    )
    error_message = "The other accounts must be able to encrypt and decrypt with the key, nothing more."
  }

  # The other accounts add a statement; the account's own stay as they are.
  assert {
    condition     = { for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["KeyUsage"].Principal.AWS == "arn:aws:iam::123456789012:root"
    error_message = "The account root must keep its usage statement."
  }
}

run "usage_only_through_parameter_store" {
  command = plan

  variables {
    service_principals = []
    user_role_arns     = ["arn:aws:iam::123456789012:role/acme-shop-prod-deployer"]
    account_ids        = ["333333333333"]
    usage_via_service  = "ssm"
  }

  assert {
    condition = (
      toset({ for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["KeyUsageThroughParameterStore"].Action) == toset(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"])
      && { for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["KeyUsageThroughParameterStore"].Principal.AWS == "arn:aws:iam::123456789012:root"
    )
    error_message = "The account must get only Encrypt, Decrypt and GenerateDataKey (what Parameter Store calls)."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key.this.policy).Statement :
      try(s.Condition.StringEquals["kms:ViaService"], null) == "ssm.us-east-1.amazonaws.com"
      if s.Sid != "KeyAdministration"
    ])
    error_message = "Every cryptographic statement (account, user roles, other accounts) must hold only through Parameter Store of this region."
  }

  assert {
    condition = alltrue([
      for sid in ["UserRoles", "DeploymentAccounts"] :
      toset({ for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }[sid].Action) == toset(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"])
    ])
    error_message = "The user roles and the other accounts must get only what Parameter Store calls."
  }

  # No unrestricted usage statement and no grants: a grant would let another
  # service use the key.
  assert {
    condition     = [for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid] == ["KeyAdministration", "KeyUsageThroughParameterStore", "UserRoles", "DeploymentAccounts"]
    error_message = "A key restricted to Parameter Store must have only the administration and the restricted usage statements."
  }

  assert {
    condition = length(setsubtract(
      ["kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DescribeKey", "kms:ScheduleKeyDeletion", "kms:EnableKeyRotation", "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateKeyDescription"],
      { for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["KeyAdministration"].Action,
    )) == 0 && !can({ for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["KeyAdministration"].Condition)
    error_message = "The administration statement must stay unrestricted (Terraform manages the key directly)."
  }

  assert {
    condition     = strcontains(output.key_policy, "ssm.us-east-1.amazonaws.com") && output.key_policy == aws_kms_key.this.policy
    error_message = "The key_policy output must be the key's policy."
  }
}

run "service_principals" {
  command = plan

  assert {
    condition = toset([
      for s in jsondecode(aws_kms_key.this.policy).Statement : s.Principal.Service if can(s.Principal.Service)
      ]) == toset([
      "logs.us-east-1.amazonaws.com", "sns.amazonaws.com", "events.amazonaws.com", "cloudwatch.amazonaws.com", "codestar-notifications.amazonaws.com",
    ])
    error_message = "Each requested service must have a statement, logs with its regional principal."
  }

  assert {
    condition     = { for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["CloudWatchLogs"].Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:us-east-1:123456789012:log-group:*"
    error_message = "CloudWatch Logs may only use the key for log groups of this account and region."
  }

  assert {
    condition     = contains({ for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["CloudWatchLogs"].Action, "kms:GenerateDataKey") && contains({ for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["CloudWatchLogs"].Action, "kms:Decrypt")
    error_message = "CloudWatch Logs must be able to generate data keys and decrypt."
  }

  assert {
    condition     = { for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }["CodeStarNotifications"].Condition.StringEquals["kms:ViaService"] == "sns.us-east-1.amazonaws.com"
    error_message = "CodeStar Notifications may only use the key through SNS."
  }

  assert {
    condition = alltrue([
      for sid in ["SNS", "EventBridge", "CloudWatchAlarms", "CodeStarNotifications"] :
      toset({ for s in jsondecode(aws_kms_key.this.policy).Statement : s.Sid => s }[sid].Action) == toset(["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"])
    ])
    error_message = "Publishing services must only get GenerateDataKey(WithoutPlaintext) and Decrypt."
  }
}

run "only_requested_services" {
  command = plan

  variables {
    service_principals = ["logs"]
  }

  assert {
    condition     = [for s in jsondecode(aws_kms_key.this.policy).Statement : s.Principal.Service if can(s.Principal.Service)] == ["logs.us-east-1.amazonaws.com"]
    error_message = "Only the requested services may use the key."
  }
}

run "custom_deletion_window" {
  command = plan

  variables {
    deletion_window_days = 7
  }

  assert {
    condition     = aws_kms_key.this.deletion_window_in_days == 7 && output.key_deletion_window_days == 7
    error_message = "deletion_window_days must set the key's deletion window (and the output)."
  }
}
