output "bucket_name" {
  description = "Name of the artifact bucket, {name_prefix}-artifacts-{region} (the artifact_store location of the pipeline for this region)."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the artifact bucket."
  value       = aws_s3_bucket.this.arn
}

output "bucket_regional_domain_name" {
  description = "Regional domain name of the artifact bucket."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}

output "kms_key_arn" {
  description = "ARN of the artifact KMS key (the encryption_key of the pipeline's artifact store for this region, and CodeBuild's encryption_key)."
  value       = module.key.key_arn
}

output "kms_key_id" {
  description = "ID of the artifact KMS key."
  value       = module.key.key_id
}

output "kms_alias_name" {
  description = "Name of the artifact key's alias, alias/{name_prefix}-artifacts (the same in every region)."
  value       = module.key.alias_name
}

output "kms_alias_arn" {
  description = "ARN of the artifact key's alias."
  value       = module.key.alias_arn
}
