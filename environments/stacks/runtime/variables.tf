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

variable "vpc_cidr" {
  type        = string
  description = "CIDR block of this region's VPC."
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

variable "is_primary_region" {
  type        = bool
  description = "Whether this workspace is the environment's primary region (false: disaster recovery)."
  default     = true
}

variable "nat_gateway_mode" {
  type        = string
  description = "NAT gateways: one per availability zone (per_az, for prod) or one shared (single)."
  default     = "single"
}

variable "log_retention_days" {
  type        = number
  description = "Retention of this stack's CloudWatch log groups, in days."
  default     = 30
}
