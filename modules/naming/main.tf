# The naming convention, in one place: {company}-{service}-{environment}-{resource}.
# Both stacks call this module, so what one stack needs of the other (role ARNs,
# CodeDeploy names, bucket names) is computed, never read from the other's state.
# deployer/names.py mirrors this file for the deployer; tests/unit/test_naming_parity.py
# holds the two equal, so a name changed here is changed there too.

locals {
  base            = "${var.company}-${var.service}"
  delivery_prefix = "${local.base}-${var.delivery.environment}"
  delivery_acct   = var.delivery.account_id

  # Every region a runtime environment uses; the delivery stack keeps an artifact
  # store and ECR repositories in each of them.
  runtime_regions  = distinct(flatten([for e in values(var.environments) : e.regions]))
  artifact_regions = distinct(concat([var.delivery.region], local.runtime_regions))
  artifact_buckets = { for r in local.artifact_regions : r => "${local.delivery_prefix}-artifacts-${r}" }

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
    # The pipeline's S3 source (pipeline.source S3): the bucket and the zip's key.
    source_bucket        = "${local.delivery_prefix}-source-${var.delivery.region}"
    source_object_key    = "monorepo.zip"
    artifact_buckets     = local.artifact_buckets
    artifact_bucket_arns = [for r in local.artifact_regions : "arn:aws:s3:::${local.artifact_buckets[r]}"]
    ecr_repository_names = {
      for name, m in var.microservices : name => "${local.delivery_prefix}-${name}"
    }
    # The default Terraform state bucket (terraform.state.bucket in project.yaml).
    state_bucket = "${local.delivery_prefix}-tfstate"
    # modules/ci-identity: the roles GitHub Actions workflows assume (ci.github in project.yaml).
    ci_plan_role  = "arn:aws:iam::${local.delivery_acct}:role/${local.delivery_prefix}-ci-plan"
    ci_apply_role = "arn:aws:iam::${local.delivery_acct}:role/${local.delivery_prefix}-ci-apply"
    # modules/ci-read-role: what the plan role assumes to plan the delivery workspace.
    ci_read_role = "arn:aws:iam::${local.delivery_acct}:role/${local.delivery_prefix}-ci-read-${var.delivery.region}"
  }

  # {company}-{service}-{environment} of each runtime environment.
  prefixes = { for env in keys(var.environments) : env => "${local.base}-${env}" }

  # What a runtime environment names the same in each of its regions.
  environment_names = {
    for env, prefix in local.prefixes : env => {
      name_prefix = prefix
      # modules/ecs-cluster: the cluster and the CodeDeploy application.
      cluster_name = "${prefix}-cluster"
      codedeploy   = "${prefix}-services"
      # modules/monitoring
      notifications_topic_name = "${prefix}-notifications"
      # The deploy guard: CodeDeploy runs it on AfterAllowTestTraffic and AfterAllowTraffic.
      deploy_guard_name = "${prefix}-deploy-guard"
      # modules/parameters (through modules/kms-key): the key SecureStrings are written with.
      parameters_kms_alias = "alias/${prefix}-parameters"
    }
  }

  # The same, per runtime environment and microservice.
  service_names = {
    for env, prefix in local.prefixes : env => {
      for name, m in var.microservices : name => {
        family           = "${prefix}-${name}"
        service_name     = "${prefix}-${name}"
        deployment_group = "${prefix}-${name}"
        container_name   = name
        log_group_name   = "/ecs/${prefix}/${name}"
        parameter_path   = "/pipeline/${env}/${name}/"
        # modules/ecs-service: AWS caps these at 32 characters, hence the short name.
        alb_name = "${prefix}-${m.short_name}-alb"
        target_group_names = {
          for color in ["blue", "green"] : color => "${prefix}-${m.short_name}-${color}"
        }
        # modules/monitoring: three metric alarms and the composite alarm over them.
        alarm_names = {
          running_tasks     = "${prefix}-${name}-running-tasks"
          unhealthy_targets = "${prefix}-${name}-unhealthy-targets"
          http_5xx_rate     = "${prefix}-${name}-5xx-rate"
          health            = "${prefix}-${name}-health"
        }
      }
    }
  }

  # One entry per runtime environment and region: a deploy target of the pipeline.
  targets = merge([
    for env, e in var.environments : {
      for idx, region in e.regions : "${env}-${region}" => merge(local.environment_names[env], {
        environment      = env
        region           = region
        is_primary       = idx == 0
        account_id       = e.account_id
        deploy_role      = "arn:aws:iam::${e.account_id}:role/${local.prefixes[env]}-deploy-${region}"
        ci_read_role     = "arn:aws:iam::${e.account_id}:role/${local.prefixes[env]}-ci-read-${region}"
        notifications    = "arn:aws:sns:${region}:${e.account_id}:${local.environment_names[env].notifications_topic_name}"
        deploy_guard_arn = "arn:aws:lambda:${region}:${e.account_id}:function:${local.environment_names[env].deploy_guard_name}"
        # The environment's shared parameters and secrets: "<base>/<name>".
        shared_parameter_arn_base = "arn:aws:ssm:${region}:${e.account_id}:parameter/pipeline/${env}/shared"
        services = {
          for name, s in local.service_names[env] : name => merge(s, {
            task_role_arn      = "arn:aws:iam::${e.account_id}:role/${local.prefixes[env]}-${var.microservices[name].short_name}-task-${region}"
            execution_role_arn = "arn:aws:iam::${e.account_id}:role/${local.prefixes[env]}-${var.microservices[name].short_name}-exec-${region}"
            parameter_arn_base = "arn:aws:ssm:${region}:${e.account_id}:parameter${trimsuffix(s.parameter_path, "/")}"
            image_repository   = "${local.delivery_acct}.dkr.ecr.${region}.amazonaws.com/${local.delivery.ecr_repository_names[name]}"
            # The metric alarms the deployment group stops and rolls back on.
            deployment_alarms = [
              s.alarm_names.running_tasks,
              s.alarm_names.unhealthy_targets,
              s.alarm_names.http_5xx_rate,
            ]
          })
        }
      })
    }
  ]...)
}
