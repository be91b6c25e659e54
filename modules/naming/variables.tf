variable "company" {
  type        = string
  description = "Company token: the first part of every name."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.company))
    error_message = "The company must be lowercase letters, digits and single hyphens, starting with a letter."
  }
}

variable "service" {
  type        = string
  description = "Service (product) token: the second part of every name."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.service))
    error_message = "The service must be lowercase letters, digits and single hyphens, starting with a letter."
  }
}

variable "delivery" {
  type = object({
    environment = string
    account_id  = string
    region      = string
  })
  description = "The delivery (tooling) environment: its name, account and primary region."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.delivery.account_id))
    error_message = "The delivery.account_id must be a 12-digit AWS account id."
  }
}

variable "microservices" {
  type        = map(object({ short_name = string }))
  description = "Microservices keyed by name (api-service), each with the short name used where AWS caps names at 32 characters."
  nullable    = false
  default     = {}

  validation {
    condition     = alltrue([for name, m in var.microservices : can(regex("^[a-z][a-z0-9-]{0,11}$", m.short_name))])
    error_message = "Every microservice short_name must be 1 to 12 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "environments" {
  type = map(object({
    account_id = string
    regions    = list(string)
  }))
  description = "Runtime environments keyed by name: account id and regions (the first is the primary)."
  nullable    = false
  default     = {}

  validation {
    condition     = alltrue([for name, e in var.environments : can(regex("^[0-9]{12}$", e.account_id)) && length(e.regions) > 0])
    error_message = "Every environment needs a 12-digit account_id and at least one region."
  }
}
