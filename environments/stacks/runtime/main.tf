locals {
  name_prefix = "${var.company}-${var.service}-${var.environment}"

  tags = {
    Company     = var.company
    Service     = var.service
    Environment = var.environment
    ManagedBy   = "terraform"
  }

  # What the delivery stack expects of this account and region, by the convention.
  target   = module.naming.targets["${var.environment}-${var.region}"]
  delivery = module.naming.delivery
}

module "naming" {
  source = "../../../modules/naming"

  company       = var.company
  service       = var.service
  delivery      = var.delivery
  microservices = { for name, m in var.microservices : name => { short_name = m.short_name } }
  environments = {
    (var.environment) = { account_id = var.account_id, regions = var.regions }
  }
}

data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

module "network" {
  source = "../../../modules/network"

  name_prefix        = local.name_prefix
  cidr_block         = var.vpc_cidr
  availability_zones = slice(sort(data.aws_availability_zones.available.names), 0, 3)
  nat_gateway_mode   = var.nat_gateway_mode

  flow_logs = {
    retention_in_days = var.log_retention_days
    kms_key_arn       = module.observability_key.key_arn
  }
}

# Encrypts the environment's log groups and its notifications topic.
module "observability_key" {
  source = "../../../modules/kms-key"

  name_prefix        = local.name_prefix
  name               = "observability"
  description        = "Log groups and notifications of ${local.name_prefix} in ${var.region}"
  service_principals = ["logs", "sns", "events", "cloudwatch"]
}

module "parameters" {
  source = "../../../modules/parameters"

  name_prefix   = local.name_prefix
  environment   = var.environment
  microservices = { for name, m in var.microservices : name => { short_name = m.short_name } }
  secret_names  = var.secret_names
  parameters    = var.parameters
}

module "cluster" {
  source = "../../../modules/ecs-cluster"

  name_prefix = local.name_prefix
}

module "service" {
  source   = "../../../modules/ecs-service"
  for_each = var.microservices

  name_prefix = local.name_prefix
  microservice = {
    name              = each.key
    short_name        = each.value.short_name
    port              = each.value.port
    health_check_path = each.value.health_check_path
  }
  health_check = var.health_checks

  # dns.zone: HTTPS with the certificate of <service>.<zone> (both listeners), and
  # HTTP on port 80 redirecting to it; without, HTTP. enable_https says so at plan
  # time: the certificate's ARN is known only after apply.
  enable_https         = var.dns != null
  enable_http_redirect = var.dns != null
  certificate_arn      = var.dns == null ? null : aws_acm_certificate_validation.dns[each.key].certificate_arn

  deployment_config_name   = var.deployments.config
  termination_wait_minutes = var.deployments.termination_wait_minutes

  vpc_id             = module.network.vpc_id
  public_subnet_ids  = module.network.public_subnet_ids
  private_subnet_ids = module.network.private_subnet_ids

  cluster_arn                 = module.cluster.cluster_arn
  cluster_name                = module.cluster.cluster_name
  codedeploy_app_name         = module.cluster.codedeploy_app_name
  codedeploy_service_role_arn = module.cluster.codedeploy_service_role_arn

  container_image = "${local.target.services[each.key].image_repository}:${var.image_tag}"
  cpu             = var.sizing.cpu
  memory          = var.sizing.memory
  desired_count   = local.running_count

  log_retention_days = var.log_retention_days
  log_kms_key_arn    = module.observability_key.key_arn

  # Configuration from Parameter Store: plain values and secrets, by reference.
  secrets = merge(
    module.parameters.parameter_arns[each.key],
    module.parameters.secret_parameter_arns[each.key],
  )
  execution_role_policy_arns = [module.parameters.read_policy_arns[each.key]]
  ecr_repository_arns = [
    "arn:aws:ecr:${var.region}:${var.delivery.account_id}:repository/${local.delivery.ecr_repository_names[each.key]}"
  ]

  # A breach of any of these during a deployment stops it and rolls back. The
  # names come from the convention (the alarms need this module's load
  # balancers, so reading them from module.monitoring would be a cycle); the
  # check below proves they are the alarms monitoring creates.
  deployment_alarm_names = local.target.services[each.key].deployment_alarms
}

check "deployment_alarms_exist" {
  assert {
    condition = alltrue([
      for name in keys(var.microservices) :
      module.monitoring.alarm_names[name] == local.target.services[name].deployment_alarms
    ])
    error_message = "The deployment groups' alarm names differ from the alarms the monitoring module creates: update modules/naming."
  }
}

module "monitoring" {
  source = "../../../modules/monitoring"

  name_prefix         = local.name_prefix
  kms_key_arn         = module.observability_key.key_arn
  notification_emails = var.notification_emails
  alarm_thresholds    = var.alarm_thresholds

  codedeploy_application_name = module.cluster.codedeploy_app_name

  services = {
    for name, m in var.microservices : name => {
      cluster_name              = module.cluster.cluster_name
      service_name              = local.target.services[name].service_name
      alb_arn_suffix            = module.service[name].alb_arn_suffix
      target_group_arn_suffixes = values(module.service[name].target_group_arn_suffixes)
    }
  }
}

# CodeDeploy runs it after test traffic and after production traffic reach a
# new version (the appspec's hooks); an alarm breach during a deployment makes
# it stop the deployment with rollback. Every rollback is announced on SNS.
module "deploy_guard" {
  source = "../../../modules/deploy-guard"

  name_prefix  = local.name_prefix
  package_path = var.deploy_guard_package.path
  package_hash = var.deploy_guard_package.hash

  codedeploy_application_name = module.cluster.codedeploy_app_name
  deployment_group_names      = [for s in module.service : s.deployment_group_name]
  cluster_name                = module.cluster.cluster_name
  service_names               = [for s in module.service : s.service_name]
  alarm_names = flatten([
    for name in keys(var.microservices) : local.target.services[name].deployment_alarms
  ])

  notifications_topic_arn   = module.monitoring.notifications_topic_arn
  notifications_kms_key_arn = module.observability_key.key_arn
  log_retention_days        = var.log_retention_days
  log_kms_key_arn           = module.observability_key.key_arn

  # Long enough for the load balancer to find a target that breaks under traffic
  # unhealthy: a hook watches that long before it reports Succeeded.
  validation_seconds = var.health_checks.interval_seconds * (var.health_checks.unhealthy_threshold + 1)
}

# The role the delivery pipeline's deploy actions assume in this account.
module "deploy_role" {
  source = "../../../modules/deploy-role"

  name_prefix                 = local.name_prefix
  trusted_role_arns           = [local.delivery.pipeline_role_arn]
  codedeploy_application_name = module.cluster.codedeploy_app_name
  deployment_group_names      = [for s in module.service : s.deployment_group_name]
  pass_role_arns              = flatten([for s in module.service : [s.task_role_arn, s.execution_role_arn]])
  artifact_bucket_arns        = local.delivery.artifact_bucket_arns
  artifact_kms_alias_name     = local.delivery.artifact_kms_alias
  delivery_account_id         = var.delivery.account_id
}

# The role CI plans and drift checks assume here (ci.github): configuration
# reads only, trusted by the delivery account's CI plan role.
module "ci_read_role" {
  source = "../../../modules/ci-read-role"
  count  = var.ci_plan_role_arn == null ? 0 : 1

  name_prefix        = local.name_prefix
  account_id         = var.account_id
  trusted_role_arns  = [var.ci_plan_role_arn]
  bucket_name_prefix = "${var.company}-${var.service}-"
}
