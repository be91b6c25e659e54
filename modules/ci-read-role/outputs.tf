output "role_arn" {
  description = "ARN of the read role: what `deployer plan --read-only` and `deployer drift --read-only` assume in this account and region."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the read role, {name_prefix}-ci-read-{region} (modules/naming's ci_read_role)."
  value       = aws_iam_role.this.name
}
