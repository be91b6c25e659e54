locals {
  name_prefix = "${var.company}-${var.service}-${var.environment}"

  tags = {
    Company     = var.company
    Service     = var.service
    Environment = var.environment
    ManagedBy   = "terraform"
  }

  delivery = module.naming.delivery
  targets  = module.naming.targets
  has_dr   = var.dr_region != null && var.dr_region != var.region

  # Deploy targets of the two deploying stages, by the naming convention.
  staging_target     = "${var.pipeline.staging}-${var.environments[var.pipeline.staging].regions[0]}"
  production_targets = [for region in var.environments[var.pipeline.production].regions : "${var.pipeline.production}-${region}"]
  pipeline_targets   = concat([local.staging_target], local.production_targets)

  # Every (target, microservice) pair gets a task definition and an appspec.
  deployments = merge([
    for target in local.pipeline_targets : {
      for name, m in var.microservices : "${target}/${name}" => {
        target       = target
        microservice = name
        environment  = local.targets[target].environment
        region       = local.targets[target].region
        names        = local.targets[target].services[name]
      }
    }
  ]...)

  # The same configuration references the runtime stack gives its task
  # definitions: the environment's shared and per-service parameters and secrets.
  deployment_secrets = {
    for key, d in local.deployments : key => merge(
      [for kind in ["parameters", "secret_names"] : merge(
        {
          for n in lookup(var.environments[d.environment][kind], "shared", []) :
          n => "${local.targets[d.target].shared_parameter_arn_base}/${n}"
        },
        {
          for n in lookup(var.environments[d.environment][kind], d.microservice, []) :
          n => "${d.names.parameter_arn_base}/${n}"
        },
      )]...
    )
  }
}

module "naming" {
  source = "../../../modules/naming"

  company  = var.company
  service  = var.service
  delivery = { environment = var.environment, account_id = var.account_id, region = var.region }

  microservices = { for name, m in var.microservices : name => { short_name = m.short_name } }
  environments  = { for env, e in var.environments : env => { account_id = e.account_id, regions = e.regions } }
}

# --- Artifacts: one store per region the pipeline works in -------------------------

module "artifacts" {
  source = "../../../modules/artifact-store"

  name_prefix            = local.name_prefix
  deployment_account_ids = module.naming.target_accounts
}

module "artifacts_dr" {
  source    = "../../../modules/artifact-store"
  count     = local.has_dr ? 1 : 0
  providers = { aws = aws.dr }

  name_prefix            = local.name_prefix
  deployment_account_ids = module.naming.target_accounts
}

# --- Images: repositories pulled by the runtime accounts, replicated to DR ----------

module "ecr" {
  source = "../../../modules/ecr"

  name_prefix         = local.name_prefix
  repository_names    = concat(keys(var.microservices), ["build-image"])
  pull_account_ids    = module.naming.target_accounts
  replication_regions = local.has_dr ? [var.dr_region] : []
}

module "ecr_dr" {
  source    = "../../../modules/ecr"
  count     = local.has_dr ? 1 : 0
  providers = { aws = aws.dr }

  name_prefix      = local.name_prefix
  repository_names = concat(keys(var.microservices), ["build-image"])
  pull_account_ids = module.naming.target_accounts
}

# --- What each build hands to CodeDeploy, per deploy target -------------------------

module "task_definition" {
  source   = "../../../modules/task-definition"
  for_each = local.deployments

  family             = each.value.names.family
  container_name     = each.value.names.container_name
  container_port     = var.microservices[each.value.microservice].port
  cpu                = var.environments[each.value.environment].cpu
  memory             = var.environments[each.value.environment].memory
  execution_role_arn = each.value.names.execution_role_arn
  task_role_arn      = each.value.names.task_role_arn
  log_group_name     = each.value.names.log_group_name
  region             = each.value.region
  # The target region's repository; the build replaces <IMAGE_TAG> with the deployment ID.
  image   = "${each.value.names.image_repository}:<IMAGE_TAG>"
  secrets = local.deployment_secrets[each.key]
}

module "build" {
  source = "../../../modules/build"

  name_prefix = local.name_prefix
  projects = {
    for name, m in var.microservices : name => {
      short_name     = m.short_name
      source_dir     = "services/${name}"
      repository_url = module.ecr.repository_urls[name]
      repository_arn = module.ecr.repository_arns[name]
    }
  }
  build_image = {
    repository_url = module.ecr.repository_urls["build-image"]
    repository_arn = module.ecr.repository_arns["build-image"]
    tag            = var.pipeline.build_image_tag
  }
  artifact_bucket_arn   = module.artifacts.bucket_arn
  artifact_kms_key_arn  = module.artifacts.kms_key_arn
  log_kms_key_arn       = module.artifacts.kms_key_arn
  log_retention_days    = var.log_retention_days
  parameter_path_prefix = "/pipeline/${var.environment}"

  deploy_files = {
    for name, m in var.microservices : name => merge([
      for target in local.pipeline_targets : {
        "taskdef-${target}.json" = module.task_definition["${target}/${name}"].task_definition_json
        "appspec-${target}.yaml" = templatefile("${path.module}/templates/appspec.yaml.tftpl", {
          container_name   = local.targets[target].services[name].container_name
          container_port   = m.port
          deploy_guard_arn = local.targets[target].deploy_guard_arn
        })
      }
    ]...)
  }
}

# --- Notifications and the pipeline dashboard -------------------------------------

module "monitoring" {
  source = "../../../modules/monitoring"

  name_prefix            = local.name_prefix
  kms_key_arn            = module.artifacts.kms_key_arn
  notification_emails    = var.notification_emails
  enable_approvals_topic = true
  pipeline_name          = local.delivery.pipeline_name
  build_project_names    = concat(values(module.build.project_names), [module.build.test_project_name])
}

# --- The pipeline: Source, Build, Test, Staging, Production -------------------------

module "pipeline" {
  source = "../../../modules/pipeline"

  name_prefix = local.name_prefix
  pipeline_source = {
    type          = var.pipeline.source
    branch        = var.pipeline.branch
    s3_bucket     = local.s3_source ? aws_s3_bucket.source[0].id : null
    s3_object_key = local.s3_source ? local.delivery.source_object_key : null
  }

  artifact_stores = merge(
    {
      (var.region) = {
        bucket_name = module.artifacts.bucket_name
        bucket_arn  = module.artifacts.bucket_arn
        kms_key_arn = module.artifacts.kms_key_arn
      }
    },
    local.has_dr ? {
      (var.dr_region) = {
        bucket_name = module.artifacts_dr[0].bucket_name
        bucket_arn  = module.artifacts_dr[0].bucket_arn
        kms_key_arn = module.artifacts_dr[0].kms_key_arn
      }
    } : {},
  )

  build_projects    = module.build.project_names
  test_project_name = module.build.test_project_name

  staging = {
    region                      = local.targets[local.staging_target].region
    account_id                  = local.targets[local.staging_target].account_id
    deploy_role_arn             = local.targets[local.staging_target].deploy_role
    codedeploy_application_name = local.targets[local.staging_target].codedeploy
    deployment_group_names      = { for name, s in local.targets[local.staging_target].services : name => s.deployment_group }
    target                      = local.staging_target
  }

  production = [
    for target in local.production_targets : {
      region                      = local.targets[target].region
      account_id                  = local.targets[target].account_id
      deploy_role_arn             = local.targets[target].deploy_role
      codedeploy_application_name = local.targets[target].codedeploy
      deployment_group_names      = { for name, s in local.targets[target].services : name => s.deployment_group }
      target                      = target
    }
  ]

  approval_topic_arn         = module.monitoring.approvals_topic_arn
  approval_topic_kms_key_arn = module.artifacts.kms_key_arn
}

# --- CI identity: GitHub Actions roles, when ci.github is configured ---------------

module "ci_identity" {
  source = "../../../modules/ci-identity"
  count  = var.ci_github == null ? 0 : 1

  name_prefix          = local.name_prefix
  account_id           = var.account_id
  github_repository    = var.ci_github.repository
  apply_branch         = var.ci_github.branch
  create_oidc_provider = var.ci_github.create_oidc_provider
  state                = var.state_store

  # Jobs in each environment's GitHub environment may assume the apply role,
  # which may assume the role the deployer uses there.
  environments = merge(
    { for env, e in var.environments : env => { deploy_role_arn = e.deploy_role_arn } },
    { (var.environment) = { deploy_role_arn = var.deploy_role_arn } },
  )

  # The plan role may assume the read role of every workspace: each runtime
  # environment and region (their stacks create them) and this one.
  read_role_arns = sort(concat(
    [for t in values(local.targets) : t.ci_read_role],
    [local.delivery.ci_read_role],
  ))
}

# The read role the plan role assumes to plan this workspace (configuration
# reads only, like the runtime workspaces' own).
module "ci_read_role" {
  source = "../../../modules/ci-read-role"
  count  = var.ci_github == null ? 0 : 1

  name_prefix = local.name_prefix
  account_id  = var.account_id
  # Known at plan time, and created after the plan role (IAM refuses a trust
  # policy naming a role that does not exist yet).
  trusted_role_arns  = [module.ci_identity[0].plan_role_arn]
  bucket_name_prefix = "${var.company}-${var.service}-"
}

# --- Names that fail over: each runtime environment's zone (dns.zone) ---------------

# Route 53's control plane is global: the zones live in the delivery account, made
# with the primary region's provider, and outlive every region's runtime workspace.
# Each environment's workspaces write only their own names, through the role made
# here, which trusts that environment's deploy role.
module "dns_zone" {
  source   = "../../../modules/dns-zone"
  for_each = var.dns_zones

  name_prefix       = local.name_prefix
  environment       = each.key
  zone_name         = each.value.zone_name
  record_names      = each.value.record_names
  trusted_role_arns = [each.value.trusted_role_arn]
}
