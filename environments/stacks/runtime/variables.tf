variable "company" {
  type        = string
  description = "Company token of every name ({company}-{service}-{environment}-{resource})."
}

variable "service" {
  type        = string
  description = "Service (product) token of every name."
}

variable "environment" {
  type        = string
  description = "Environment name (dev, staging, prod, ...)."
}

variable "region" {
  type        = string
  description = "AWS region of this workspace."
}

variable "account_id" {
  type        = string
  description = "The environment's AWS account id; the provider refuses any other account."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be a 12-digit AWS account id."
  }
}

variable "regions" {
  type        = list(string)
  description = "All regions of the environment, the primary first (this workspace is one of them)."

  validation {
    condition     = length(var.regions) > 0
    error_message = "The regions must list at least the primary region."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR block of this region's VPC."
}

variable "delivery" {
  type = object({
    environment = string
    account_id  = string
    region      = string
  })
  description = "The delivery environment (its pipeline deploys here; its ECR repositories hold the images)."
}

variable "microservices" {
  type = map(object({
    short_name        = string
    port              = number
    health_check_path = string
  }))
  description = "Microservices keyed by name: short name (for 32-character names), container port and health check path."
}

variable "deploy_guard_package" {
  type = object({
    path = string
    hash = string
  })
  description = "The deploy guard Lambda's zip (path relative to this stack) and its base64 SHA-256, built deterministically by the deployer."
}

variable "assume_role_arn" {
  type        = string
  description = "Role the provider assumes in the environment's account; null uses the caller's credentials."
  default     = null
}

variable "provider_settings" {
  type = object({
    s3_use_path_style           = optional(bool, false)
    skip_credentials_validation = optional(bool, false)
    skip_metadata_api_check     = optional(bool, false)
    max_retries                 = optional(number)
  })
  description = "Provider settings the local emulator needs; the defaults are right for AWS."
  default     = {}
  nullable    = false
}

variable "nat_gateway_mode" {
  type        = string
  description = "NAT gateways: one per availability zone (per_az, for prod) or one shared (single)."
  default     = "single"
}

variable "sizing" {
  type = object({
    cpu            = optional(number, 256)
    memory         = optional(number, 512)
    desired_count  = optional(number, 2)
    standby_count  = optional(number)
    serving_region = optional(string)
  })
  description = "Fargate task size of every microservice (256/512 staging, 512/1024 prod) and the count each runs in this region: desired_count while the region serves, standby_count (default: desired_count) while another does. serving_region: the region that serves by the configuration (default: this one); a serving record of deployer dr failover/failback overrides it (serving.tf)."
  default     = {}
  nullable    = false
}

variable "log_retention_days" {
  type        = number
  description = "Retention of this stack's CloudWatch log groups, in days."
  default     = 30
}

variable "notification_emails" {
  type        = list(string)
  description = "Email addresses subscribed to the environment's notifications topic."
  default     = []
  nullable    = false
}

variable "alarm_thresholds" {
  type = object({
    running_tasks_min_ratio = optional(number, 1.0)
    unhealthy_targets       = optional(number, 0)
    http_5xx_rate_percent   = optional(number, 5)
    evaluation_periods      = optional(number, 3)
    period_seconds          = optional(number, 60)
  })
  description = "Thresholds of the per-service alarms that stop and roll back deployments."
  default     = {}
  nullable    = false
}

variable "health_checks" {
  type = object({
    interval_seconds             = optional(number, 15)
    timeout_seconds              = optional(number, 5)
    healthy_threshold            = optional(number, 2)
    unhealthy_threshold          = optional(number, 3)
    deregistration_delay_seconds = optional(number, 30)
  })
  description = "How the load balancers check each service's targets, and how long a deregistered target drains (health_checks in the environment's YAML; modules/ecs-service checks AWS's limits)."
  default     = {}
  nullable    = false
}

variable "deployments" {
  type = object({
    config                   = optional(string, "CodeDeployDefault.ECSAllAtOnce")
    termination_wait_minutes = optional(number, 5)
  })
  description = "How CodeDeploy releases each service: its deployment configuration and the minutes it keeps the original tasks after traffic moved (deployments in the environment's YAML; modules/ecs-service checks CodeDeploy's limits)."
  default     = {}
  nullable    = false
}

variable "secret_names" {
  type        = map(list(string))
  description = "Names (never values) of the secrets of each microservice (and \"shared\"): the task definitions reference them; the deployer writes their values."
  default     = {}
  nullable    = false
}

variable "parameters" {
  type        = map(map(string))
  description = "Plain, non-secret values of each microservice (and \"shared\"): the task definitions reference them; the deployer writes them."
  default     = {}
  nullable    = false
}

variable "image_tag" {
  type        = string
  description = "Image tag of the baseline task definitions Terraform registers; CodeDeploy replaces the revision on every release."
  default     = "bootstrap"
}

variable "ci_plan_role_arn" {
  type        = string
  description = "The delivery account's CI plan role (ci.github in project.yaml): when set, this workspace creates the read role it assumes to plan and check drift here ({name_prefix}-ci-read-{region}). null: no read role."
  default     = null

  validation {
    condition     = var.ci_plan_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]+$", var.ci_plan_role_arn))
    error_message = "The ci_plan_role_arn must be null or the ARN of an IAM role (arn:aws:iam::<account>:role/<name>), without wildcards."
  }
}

variable "dns" {
  type = object({
    zone_name        = string
    account_id       = string
    assume_role_arns = list(string)
  })
  description = "dns.zone of the environment: the public hosted zone (in the delivery account, account_id) where each service gets its failover name, and the roles the aws.dns provider assumes in turn to reach it (the deploy role, then the zone's role). null: no names, HTTP listeners."
  default     = null

  validation {
    condition     = var.dns == null || can(regex("^[0-9]{12}$", var.dns.account_id))
    error_message = "The dns.account_id must be a 12-digit AWS account id."
  }

  validation {
    condition = var.dns == null || try(length(var.dns.assume_role_arns) > 0 && alltrue([
      for arn in var.dns.assume_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]+$", arn))
    ]), false)
    error_message = "The dns.assume_role_arns must list at least one IAM role ARN (arn:aws:iam::<account>:role/<name>), without wildcards."
  }
}
