output "pipeline_name" {
  description = "Name of the pipeline ({name_prefix}-pipeline)."
  value       = aws_codepipeline.this.name
}

output "pipeline_arn" {
  description = "ARN of the pipeline."
  value       = aws_codepipeline.this.arn
}

output "pipeline_url" {
  description = "URL of the pipeline in the AWS console."
  value       = "https://${local.region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/${aws_codepipeline.this.name}/view?region=${local.region}"
}

output "service_role_arn" {
  description = "ARN of the pipeline's service role ({name_prefix}-pipeline): the principal the runtime accounts' deploy roles must trust."
  value       = aws_iam_role.service.arn
}

output "stage_role_arns" {
  description = "ARNs of the stage roles, keyed by stage: source, build and test."
  value       = { for stage, role in aws_iam_role.stage : stage => role.arn }
}

output "repository_name" {
  description = "Name of the CodeCommit repository the pipeline takes its source from, or null for an S3 source."
  value       = local.is_codecommit ? local.repository_name : null
}

output "repository_clone_url_http" {
  description = "HTTPS clone URL of the CodeCommit repository, or null when the module did not create it."
  value       = try(aws_codecommit_repository.this[0].clone_url_http, null)
}
