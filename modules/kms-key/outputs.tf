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

output "key_policy" {
  description = "The key policy (JSON), for checks and tests of calling modules."
  value       = aws_kms_key.this.policy
}

output "key_rotation_enabled" {
  description = "Whether the key rotates automatically (always true: the module has no switch for it)."
  value       = aws_kms_key.this.enable_key_rotation
}

output "key_deletion_window_days" {
  description = "Days a deleted key waits before KMS deletes it for good."
  value       = aws_kms_key.this.deletion_window_in_days
}
