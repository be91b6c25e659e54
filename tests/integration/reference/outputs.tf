output "account_id" {
  value = local.account_id
}

output "workload_account_id" {
  value = data.aws_caller_identity.workload.account_id
}

output "pipeline_name" {
  value = aws_codepipeline.service.name
}

output "codedeploy_app" {
  value = aws_codedeploy_app.service.name
}

output "codedeploy_group" {
  value = aws_codedeploy_deployment_group.service.deployment_group_name
}

output "cluster_name" {
  value = aws_ecs_cluster.this.name
}

output "service_name" {
  value = aws_ecs_service.service.name
}

output "workload_bucket" {
  value = aws_s3_bucket.workload_artifacts.bucket
}

output "workload_role_arn" {
  value = aws_iam_role.workload_deploy.arn
}

output "notification_rule_arn" {
  value = aws_codestarnotifications_notification_rule.pipeline.arn
}

output "alb_dns_name" {
  value = aws_lb.this.dns_name
}
