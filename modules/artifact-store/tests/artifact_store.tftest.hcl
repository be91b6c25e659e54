# Plan-only tests of the artifact-store module against a mocked AWS provider.
# override_during = plan makes the mocked ARNs known in the plan, so the
# bucket and key policies (built with jsonencode) can be decoded and asserted.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
    }
  }

  mock_resource "aws_kms_alias" {
    defaults = {
      arn = "arn:aws:kms:us-east-1:111111111111:alias/acme-shop-delivery-artifacts"
    }
  }

  mock_resource "aws_s3_bucket" {
    defaults = {
      id                          = "acme-shop-delivery-artifacts-us-east-1"
      arn                         = "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"
      bucket_regional_domain_name = "acme-shop-delivery-artifacts-us-east-1.s3.us-east-1.amazonaws.com"
    }
  }

  mock_resource "aws_s3_bucket_ownership_controls" {}
  mock_resource "aws_s3_bucket_public_access_block" {}
  mock_resource "aws_s3_bucket_versioning" {}
  mock_resource "aws_s3_bucket_server_side_encryption_configuration" {}
  mock_resource "aws_s3_bucket_lifecycle_configuration" {}
  mock_resource "aws_s3_bucket_policy" {}

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

variables {
  name_prefix            = "acme-shop-delivery"
  deployment_account_ids = ["333333333333", "444444444444"]
}

run "names" {
  command = plan

  assert {
    condition     = aws_s3_bucket.this.bucket == "acme-shop-delivery-artifacts-us-east-1"
    error_message = "The bucket must be named {name_prefix}-artifacts-{region}."
  }

  assert {
    condition     = module.key.alias_name == "alias/acme-shop-delivery-artifacts"
    error_message = "The key alias must be alias/{name_prefix}-artifacts."
  }

  assert {
    condition = (
      output.bucket_name == aws_s3_bucket.this.id
      && output.bucket_arn == aws_s3_bucket.this.arn
      && output.bucket_regional_domain_name == aws_s3_bucket.this.bucket_regional_domain_name
      && output.kms_key_arn == module.key.key_arn
      && output.kms_key_id == module.key.key_id
      && output.kms_alias_name == "alias/acme-shop-delivery-artifacts"
      && output.kms_alias_arn == module.key.alias_arn
    )
    error_message = "The outputs must expose the bucket, key and alias attributes."
  }
}

run "names_dr_region" {
  command = plan

  override_data {
    target = data.aws_region.current
    values = {
      name = "us-west-2"
    }
  }

  # The key's own module reads the region too (the DR provider's).
  override_data {
    target = module.key.data.aws_region.current
    values = {
      name = "us-west-2"
    }
  }

  assert {
    condition     = aws_s3_bucket.this.bucket == "acme-shop-delivery-artifacts-us-west-2"
    error_message = "The DR bucket must carry its own region."
  }

  assert {
    condition     = module.key.alias_name == "alias/acme-shop-delivery-artifacts"
    error_message = "The alias must be the same in every region (the deploy roles find the key by alias)."
  }

  assert {
    condition     = { for s in jsondecode(module.key.key_policy).Statement : s.Sid => s }["CloudWatchLogs"].Principal.Service == "logs.us-west-2.amazonaws.com"
    error_message = "The DR key must admit CloudWatch Logs of its own region."
  }
}

run "versioning_and_encryption" {
  command = plan

  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "Versioning must be enabled."
  }

  assert {
    condition = (
      one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"
      && one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == module.key.key_arn
    )
    error_message = "The bucket must be encrypted with SSE-KMS using the module's key."
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled == true
    error_message = "The S3 bucket key must be enabled."
  }

  assert {
    condition     = module.key.key_rotation_enabled == true && module.key.key_deletion_window_days == 30
    error_message = "The key must rotate and have a 30-day deletion window by default."
  }
}

run "lifecycle_defaults" {
  command = plan

  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.this.rule) == 1 && aws_s3_bucket_lifecycle_configuration.this.rule[0].status == "Enabled"
    error_message = "Expected one enabled lifecycle rule."
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this.rule[0].expiration[0].days == 30
    error_message = "Current versions must expire after 30 days by default."
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this.rule[0].noncurrent_version_expiration[0].noncurrent_days == 30
    error_message = "Noncurrent versions must be deleted after 30 days by default."
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this.rule[0].abort_incomplete_multipart_upload[0].days_after_initiation == 7
    error_message = "Incomplete multipart uploads must be aborted after 7 days."
  }
}

run "lifecycle_custom" {
  command = plan

  variables {
    artifact_retention_days           = 14
    noncurrent_version_retention_days = 3
  }

  assert {
    condition = (
      aws_s3_bucket_lifecycle_configuration.this.rule[0].expiration[0].days == 14
      && aws_s3_bucket_lifecycle_configuration.this.rule[0].noncurrent_version_expiration[0].noncurrent_days == 3
    )
    error_message = "The retention inputs must set the lifecycle expirations."
  }
}

run "public_access_and_ownership" {
  command = plan

  assert {
    condition = (
      aws_s3_bucket_public_access_block.this.block_public_acls
      && aws_s3_bucket_public_access_block.this.block_public_policy
      && aws_s3_bucket_public_access_block.this.ignore_public_acls
      && aws_s3_bucket_public_access_block.this.restrict_public_buckets
    )
    error_message = "All four public access block settings must be on."
  }

  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "Object ownership must be BucketOwnerEnforced (ACLs off)."
  }
}

run "bucket_policy" {
  command = plan

  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement :
      s.Effect == "Deny" && s.Principal == "*" && s.Action == "s3:*"
      && try(s.Condition.Bool["aws:SecureTransport"], null) == "false"
      && try(toset(s.Resource), null) == toset(["arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1", "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1/*"])
    ])
    error_message = "The bucket policy must deny every request without TLS, on the bucket and its objects."
  }

  assert {
    condition = (
      toset({ for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Sid => s }["DeploymentAccountsBucket"].Principal.AWS) == toset(["arn:aws:iam::333333333333:root", "arn:aws:iam::444444444444:root"])
      && toset({ for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Sid => s }["DeploymentAccountsObjects"].Principal.AWS) == toset(["arn:aws:iam::333333333333:root", "arn:aws:iam::444444444444:root"])
    )
    error_message = "The deployment accounts' roots must be the principals of the cross-account statements."
  }

  assert {
    condition = (
      toset({ for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Sid => s }["DeploymentAccountsBucket"].Action) == toset(["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:ListBucket"])
      && { for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Sid => s }["DeploymentAccountsBucket"].Resource == "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"
    )
    error_message = "The deployment accounts must get location, versioning and list on the bucket, nothing more."
  }

  assert {
    condition = (
      toset({ for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Sid => s }["DeploymentAccountsObjects"].Action) == toset(["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"])
      && { for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Sid => s }["DeploymentAccountsObjects"].Resource == "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1/*"
    )
    error_message = "The deployment accounts must get read and write on the objects, nothing more."
  }

  # A wildcard may only deny (the TLS statement); no Allow grants "*" or "s3:*".
  assert {
    condition = alltrue([
      for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement :
      s.Effect == "Deny" || alltrue([for action in flatten([s.Action]) : !can(regex("^([a-z0-9-]+:)?\\*$", action))])
    ])
    error_message = "No Allow statement of the bucket policy may grant \"*\" or \"s3:*\"."
  }
}

run "key_policy" {
  command = plan

  assert {
    condition = alltrue([
      for action in flatten([for s in jsondecode(module.key.key_policy).Statement : s.Action]) :
      !strcontains(action, "*")
    ])
    error_message = "No statement of the key policy may use a wildcard in an action."
  }

  assert {
    condition = (
      toset({ for s in jsondecode(module.key.key_policy).Statement : s.Sid => s }["DeploymentAccounts"].Principal.AWS) == toset(["arn:aws:iam::333333333333:root", "arn:aws:iam::444444444444:root"])
      && toset({ for s in jsondecode(module.key.key_policy).Statement : s.Sid => s }["DeploymentAccounts"].Action) == toset(["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"])
    )
    error_message = "The deployment accounts must be able to decrypt and encrypt with the key, nothing more."
  }

  assert {
    condition = (
      { for s in jsondecode(module.key.key_policy).Statement : s.Sid => s }["KeyAdministration"].Principal.AWS == "arn:aws:iam::111111111111:root"
      && length(setsubtract(
        ["kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DescribeKey", "kms:ScheduleKeyDeletion", "kms:EnableKeyRotation", "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateKeyDescription"],
        { for s in jsondecode(module.key.key_policy).Statement : s.Sid => s }["KeyAdministration"].Action,
      )) == 0
    )
    error_message = "The account root must hold the administration actions Terraform calls (or the account locks itself out)."
  }

  assert {
    condition     = toset({ for s in jsondecode(module.key.key_policy).Statement : s.Sid => s }["KeyUsage"].Action) == toset(["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"])
    error_message = "The account root must be able to use the key (CodePipeline and CodeBuild roles, through IAM)."
  }
}

run "key_service_principals_default" {
  command = plan

  assert {
    condition = toset([
      for s in jsondecode(module.key.key_policy).Statement : s.Principal.Service if can(s.Principal.Service)
      ]) == toset([
      "logs.us-east-1.amazonaws.com", "sns.amazonaws.com", "events.amazonaws.com", "codestar-notifications.amazonaws.com",
    ])
    error_message = "By default logs (regional principal), sns, events and codestar-notifications must be able to use the key."
  }

  assert {
    condition     = { for s in jsondecode(module.key.key_policy).Statement : s.Sid => s }["CloudWatchLogs"].Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:us-east-1:111111111111:log-group:*"
    error_message = "CloudWatch Logs may only use the key for log groups of this account and region."
  }

  assert {
    condition     = { for s in jsondecode(module.key.key_policy).Statement : s.Sid => s }["CodeStarNotifications"].Condition.StringEquals["kms:ViaService"] == "sns.us-east-1.amazonaws.com"
    error_message = "CodeStar Notifications may only use the key through SNS."
  }
}

run "key_service_principals_none" {
  command = plan

  variables {
    kms_service_principals = []
  }

  assert {
    condition     = length([for s in jsondecode(module.key.key_policy).Statement : s if can(s.Principal.Service)]) == 0
    error_message = "Without service principals no service may use the key."
  }
}

run "no_deployment_accounts" {
  command = plan

  variables {
    deployment_account_ids = []
  }

  # An empty principal list would make both policies malformed.
  assert {
    condition     = [for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Sid] == ["DenyInsecureTransport"]
    error_message = "Without deployment accounts the bucket policy must only deny plain HTTP."
  }

  assert {
    condition     = !contains([for s in jsondecode(module.key.key_policy).Statement : s.Sid], "DeploymentAccounts")
    error_message = "Without deployment accounts the key policy must not have a DeploymentAccounts statement."
  }
}
