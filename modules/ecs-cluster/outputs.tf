output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "cluster_name" {
  description = "Name of the ECS cluster ({name_prefix}-cluster)."
  value       = aws_ecs_cluster.this.name
}

output "codedeploy_app_name" {
  description = "Name of the CodeDeploy application ({name_prefix}-services) the services' deployment groups belong to."
  value       = aws_codedeploy_app.this.name
}

output "codedeploy_app_arn" {
  description = "ARN of the CodeDeploy application."
  value       = aws_codedeploy_app.this.arn
}

output "codedeploy_service_role_arn" {
  description = "ARN of the CodeDeploy service role ({name_prefix}-codedeploy-{region}) for the services' deployment groups."
  value       = aws_iam_role.codedeploy.arn
}
