output "key_arn" {
  description = "ARN of the KMS key (for kms_key_id of log groups and SNS topics, and for IAM policies)."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "ID of the KMS key."
  value       = aws_kms_key.this.key_id
}

output "alias_name" {
  description = "Name of the key's alias, alias/{name_prefix}-{name}."
  value       = aws_kms_alias.this.name
}

output "alias_arn" {
  description = "ARN of the key's alias."
  value       = aws_kms_alias.this.arn
}
