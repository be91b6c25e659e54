output "repository_urls" {
  description = "Repository URLs (<registry>.dkr.ecr.<region>.amazonaws.com/<name>), keyed by the short name given in repository_names."
  value       = { for name, repository in aws_ecr_repository.this : name => repository.repository_url }
}

output "repository_arns" {
  description = "Repository ARNs, keyed by the short name given in repository_names."
  value       = { for name, repository in aws_ecr_repository.this : name => repository.arn }
}

output "repository_names" {
  description = "Full repository names ({name_prefix}-{name}), keyed by the short name given in repository_names."
  value       = { for name, repository in aws_ecr_repository.this : name => repository.name }
}

output "registry_id" {
  description = "ID of the registry holding the repositories (the account ID)."
  value       = local.account_id
}
