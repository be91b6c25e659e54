output "project_names" {
  description = "Names of the microservice build projects, keyed by microservice (the pipeline's build_projects)."
  value       = { for name, project in aws_codebuild_project.service : name => project.name }
}

output "project_arns" {
  description = "ARNs of the microservice build projects, keyed by microservice."
  value       = { for name, project in aws_codebuild_project.service : name => project.arn }
}

output "test_project_name" {
  description = "Name of the integration test project ({name_prefix}-integration-tests)."
  value       = aws_codebuild_project.tests.name
}

output "test_project_arn" {
  description = "ARN of the integration test project."
  value       = aws_codebuild_project.tests.arn
}

output "role_arns" {
  description = "ARNs of the projects' IAM roles, keyed by microservice, plus \"integration-tests\" for the test project."
  value       = { for key, role in aws_iam_role.this : key => role.arn }
}

output "log_group_names" {
  description = "Names of the projects' CloudWatch Logs log groups (/aws/codebuild/<project>), keyed by microservice, plus \"integration-tests\" for the test project."
  value       = { for key, group in aws_cloudwatch_log_group.this : key => group.name }
}
