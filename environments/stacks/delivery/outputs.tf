output "pipeline_name" {
  description = "Name of the delivery pipeline."
  value       = module.pipeline.pipeline_name
}

output "pipeline_url" {
  description = "Console URL of the pipeline, where its executions are listed and followed."
  value       = module.pipeline.pipeline_url
}

output "repository_clone_url_http" {
  description = "HTTPS clone URL of the monorepo the pipeline builds (CodeCommit source)."
  value       = module.pipeline.repository_clone_url_http
}

output "ecr_repository_urls" {
  description = "ECR repository URI of each microservice (and of the build image), primary region."
  value       = module.ecr.repository_urls
}

output "ecr_repository_urls_dr" {
  description = "ECR repository URIs in the disaster-recovery region (replicas)."
  value       = try(module.ecr_dr[0].repository_urls, {})
}

output "artifact_buckets" {
  description = "Artifact bucket of each region the pipeline works in."
  value       = merge({ (var.region) = module.artifacts.bucket_name }, local.has_dr ? { (var.dr_region) = module.artifacts_dr[0].bucket_name } : {})
}

output "build_project_names" {
  description = "CodeBuild project of each microservice."
  value       = module.build.project_names
}

output "notifications_topic_arn" {
  description = "SNS topic for pipeline state changes and failures."
  value       = module.monitoring.notifications_topic_arn
}

output "approvals_topic_arn" {
  description = "SNS topic the Production stage's manual approval publishes to."
  value       = module.monitoring.approvals_topic_arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the pipeline's builds."
  value       = module.monitoring.dashboard_name
}

output "deploy_targets" {
  description = "Where the pipeline deploys: target => account, region, CodeDeploy application, deploy role."
  value = {
    for target in local.pipeline_targets : target => {
      account_id                  = local.targets[target].account_id
      region                      = local.targets[target].region
      codedeploy_application_name = local.targets[target].codedeploy
      deploy_role_arn             = local.targets[target].deploy_role
    }
  }
}

output "ci_roles" {
  description = "GitHub Actions identity (ci.github): the plan and apply roles' ARNs (role-to-assume of the workflows), the OIDC provider they trust, and the read role the plan role assumes to plan this workspace; null without ci.github."
  value = var.ci_github == null ? null : {
    plan_role_arn     = module.ci_identity[0].plan_role_arn
    apply_role_arn    = module.ci_identity[0].apply_role_arn
    oidc_provider_arn = module.ci_identity[0].oidc_provider_arn
    read_role_arn     = module.ci_read_role[0].role_arn
  }
}

output "dns_zones" {
  description = "Per runtime environment with dns.zone: its zone's ID and name servers (delegate the domain to them), and the role its workspaces change the zone through."
  value = {
    for env, z in module.dns_zone : env => {
      zone_id           = z.zone_id
      zone_name         = z.zone_name
      zone_name_servers = z.zone_name_servers
      role_arn          = z.role_arn
    }
  }
}
