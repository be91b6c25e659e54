# The artifact key: CodePipeline encrypts artifacts with it, CodeBuild its
# logs, and the deployment accounts decrypt what they deploy (and encrypt what
# their actions write back). Its policy is the kms-key module's: the account
# root administers and uses the key (IAM decides which roles: the pipeline
# and build roles), the deployment accounts' roots use it (cross-account read
# and write of artifacts; key ARNs are random, so the deploy roles are granted
# this key through its alias, see docs/architecture.md, kms:ResourceAliases),
# and the services in kms_service_principals get what each needs.

module "key" {
  source = "../kms-key"

  name_prefix          = var.name_prefix
  name                 = "artifacts"
  description          = "Pipeline artifacts of ${var.name_prefix} in ${local.region} (bucket ${local.bucket_name})"
  account_ids          = var.deployment_account_ids
  service_principals   = var.kms_service_principals
  deletion_window_days = var.key_deletion_window_days
}

# The key and its alias were this module's own resources: existing stores
# keep them (a KMS key is never replaced).
moved {
  from = aws_kms_key.this
  to   = module.key.aws_kms_key.this
}

moved {
  from = aws_kms_alias.this
  to   = module.key.aws_kms_alias.this
}
