output "delivery" {
  description = "Names and ARNs of the delivery stack: prefix, pipeline and its service role, artifact buckets per region, the artifact key alias, ECR repository names, the default Terraform state bucket, the CI roles (plan, apply)."
  value       = local.delivery
}

output "targets" {
  description = "Deploy targets keyed by \"<environment>-<region>\": account, deploy role ARN, CodeDeploy application, cluster, notifications topic (name, ARN), deploy guard, parameters key alias and, per microservice, the ECS, CodeDeploy, IAM, log, SSM, load balancer, target group and alarm names the runtime stack creates."
  value       = local.targets
}

output "target_accounts" {
  description = "Distinct account ids of the runtime environments (the accounts the delivery stack grants access to)."
  value       = distinct([for e in values(var.environments) : e.account_id])
}
