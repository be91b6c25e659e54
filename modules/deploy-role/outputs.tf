output "role_arn" {
  description = "ARN of the deploy role: the role_arn of the pipeline's CodeDeployToECS actions for this environment and region."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the deploy role, {name_prefix}-deploy-{region}."
  value       = aws_iam_role.this.name
}
