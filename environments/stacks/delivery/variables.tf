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
  description = "Name of the delivery environment (delivery)."
}

variable "region" {
  type        = string
  description = "Primary region: the pipeline, builds and source live here."
}

variable "account_id" {
  type        = string
  description = "The delivery account id; the provider refuses any other account."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be a 12-digit AWS account id."
  }
}

variable "microservices" {
  type = map(object({
    short_name        = string
    port              = number
    health_check_path = string
  }))
  description = "Microservices keyed by name: short name, container port, health check path."
}

variable "environments" {
  type = map(object({
    account_id   = string
    regions      = list(string)
    cpu          = number
    memory       = number
    secret_names = optional(map(list(string)), {})
    parameters   = optional(map(list(string)), {})
    # The role the deployer assumes in the environment's account (null: none).
    deploy_role_arn = optional(string)
  }))
  description = "The runtime environments: account, regions (primary first), Fargate size, the names of the parameters and secrets their task definitions reference, and the role the deployer assumes there (the CI apply role may assume it)."
}

variable "pipeline" {
  type = object({
    source          = optional(string, "CodeCommit")
    branch          = optional(string, "main")
    staging         = string
    production      = string
    build_image_tag = optional(string, "1.0.0")
  })
  description = "The pipeline: source type and branch, the environments the Staging and Production stages deploy, the custom build image tag."
}

variable "dr_region" {
  type        = string
  description = "Disaster-recovery region (an artifact store and ECR replicas live there); null for none."
  default     = null
}

variable "assume_role_arn" {
  type        = string
  description = "Role the provider assumes in the delivery account; null uses the caller's credentials."
  default     = null
}

variable "deploy_role_arn" {
  type        = string
  description = "The delivery environment's deploy role (deploy_role_name), which the CI apply role may assume; null when it has none. The provider's assume_role_arn is the same role, except when the deployer plans read-only (then the CI read role)."
  default     = null

  validation {
    condition     = var.deploy_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]+$", var.deploy_role_arn))
    error_message = "The deploy_role_arn must be null or the ARN of an IAM role (arn:aws:iam::<account>:role/<name>), without wildcards."
  }
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

variable "log_retention_days" {
  type        = number
  description = "Retention of the build log groups, in days."
  default     = 30
}

variable "notification_emails" {
  type        = list(string)
  description = "Email addresses subscribed to the pipeline's notifications and approvals topics."
  default     = []
  nullable    = false
}

variable "state_store" {
  type = object({
    bucket           = string
    region           = string
    key_prefix       = string
    run_history_path = string
    replica = optional(object({
      bucket = string
      region = string
    }))
  })
  description = "Where the deployer keeps its records in this account: the Terraform state bucket and region (terraform.state), the workspaces' key prefix, the run history's SSM path, and the state bucket's replica in the DR region (deployer/state_replica.py; null: none). The CI roles are granted exactly these."
}

variable "ci_github" {
  type = object({
    repository           = string
    branch               = optional(string, "main")
    create_oidc_provider = optional(bool, true)
  })
  description = "ci.github of project.yaml: the GitHub repository (OWNER/REPO) whose workflows get the CI roles, the protected branch the apply role trusts, and whether to create the account's GitHub OIDC provider. null: no CI identity."
  default     = null

  validation {
    condition     = var.ci_github == null || can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", var.ci_github.repository))
    error_message = "The ci_github.repository must be OWNER/REPO as GitHub spells it, without wildcards."
  }

  validation {
    condition     = var.ci_github == null || can(regex("^[A-Za-z0-9_./-]{1,100}$", var.ci_github.branch))
    error_message = "The ci_github.branch must be a branch name of 1 to 100 letters, digits, underscores, periods, slashes and hyphens (no wildcard)."
  }
}

variable "dns_zones" {
  type = map(object({
    zone_name        = string
    record_names     = list(string)
    trusted_role_arn = string
  }))
  description = "Per runtime environment with dns.zone: the public hosted zone to create, the names that environment's workspaces may write there (each service's failover name) and its deploy role, which the zone's role trusts. {}: no zone."
  default     = {}
  nullable    = false
}
