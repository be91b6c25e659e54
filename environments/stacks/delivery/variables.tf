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
  }))
  description = "The runtime environments: account, regions (primary first), Fargate size, and the names of the parameters and secrets their task definitions reference."
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
