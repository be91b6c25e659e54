# The naming convention, in one place: {company}-{service}-{environment}-{resource}.
# Both stacks call this module, so what one stack needs of the other (role ARNs,
# CodeDeploy names, bucket names) is computed, never read from the other's state.

locals {
  base            = "${var.company}-${var.service}"
  delivery_prefix = "${local.base}-${var.delivery.environment}"
  delivery_acct   = var.delivery.account_id

  # Every region a runtime environment uses; the delivery stack keeps an artifact
  # store and ECR repositories in each of them.
  runtime_regions = distinct(flatten([for e in values(var.environments) : e.regions]))

  delivery = {
    name_prefix           = local.delivery_prefix
    account_id            = local.delivery_acct
    region                = var.delivery.region
    dr_regions            = [for r in local.runtime_regions : r if r != var.delivery.region]
    pipeline_name         = "${local.delivery_prefix}-pipeline"
    pipeline_role_arn     = "arn:aws:iam::${local.delivery_acct}:role/${local.delivery_prefix}-pipeline"
    artifact_kms_alias    = "alias/${local.delivery_prefix}-artifacts"
    repository_name       = "${local.delivery_prefix}-monorepo"
    build_image_repo_name = "${local.delivery_prefix}-build-image"
    artifact_buckets = {
      for r in distinct(concat([var.delivery.region], local.runtime_regions)) :
      r => "${local.delivery_prefix}-artifacts-${r}"
    }
    artifact_bucket_arns = [
      for r in distinct(concat([var.delivery.region], local.runtime_regions)) :
      "arn:aws:s3:::${local.delivery_prefix}-artifacts-${r}"
    ]
    ecr_repository_names = {
      for name, m in var.microservices : name => "${local.delivery_prefix}-${name}"
    }
  }

  # One entry per runtime environment and region: a deploy target of the pipeline.
  targets = merge([
    for env, e in var.environments : {
      for idx, region in e.regions : "${env}-${region}" => {
        environment   = env
        region        = region
        is_primary    = idx == 0
        account_id    = e.account_id
        name_prefix   = "${local.base}-${env}"
        deploy_role   = "arn:aws:iam::${e.account_id}:role/${local.base}-${env}-deploy-${region}"
        codedeploy    = "${local.base}-${env}-services"
        cluster_name  = "${local.base}-${env}-cluster"
        notifications = "arn:aws:sns:${region}:${e.account_id}:${local.base}-${env}-notifications"
        # The deploy guard: CodeDeploy runs it on AfterAllowTestTraffic and AfterAllowTraffic.
        deploy_guard_name = "${local.base}-${env}-deploy-guard"
        deploy_guard_arn  = "arn:aws:lambda:${region}:${e.account_id}:function:${local.base}-${env}-deploy-guard"
        services = {
          for name, m in var.microservices : name => {
            family             = "${local.base}-${env}-${name}"
            service_name       = "${local.base}-${env}-${name}"
            deployment_group   = "${local.base}-${env}-${name}"
            container_name     = name
            log_group_name     = "/ecs/${local.base}-${env}/${name}"
            task_role_arn      = "arn:aws:iam::${e.account_id}:role/${local.base}-${env}-${m.short_name}-task-${region}"
            execution_role_arn = "arn:aws:iam::${e.account_id}:role/${local.base}-${env}-${m.short_name}-exec-${region}"
            parameter_path     = "/pipeline/${env}/${name}/"
            parameter_arn_base = "arn:aws:ssm:${region}:${e.account_id}:parameter/pipeline/${env}/${name}"
            image_repository   = "${local.delivery_acct}.dkr.ecr.${region}.amazonaws.com/${local.delivery_prefix}-${name}"
            # The metric alarms the monitoring module creates; the deployment group
            # stops and rolls back a deployment when one of them breaches.
            deployment_alarms = [
              "${local.base}-${env}-${name}-running-tasks",
              "${local.base}-${env}-${name}-unhealthy-targets",
              "${local.base}-${env}-${name}-5xx-rate",
            ]
          }
        }
      }
    }
  ]...)
}
