# --- Required ----------------------------------------------------------------

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, in the form {company}-{service}-{environment} (for example acme-shop-staging)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix)) && !startswith(var.name_prefix, "aws")
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter, not end with a hyphen, and not start with \"aws\" (KMS reserves alias/aws)."
  }

  # The longest name is the read policy "<name_prefix>-<short_name>-params-<region>":
  # 64 + 1 + 12 + 8 + 14 stays well inside the 128 characters of an IAM policy name.
  validation {
    condition     = length(var.name_prefix) <= 64
    error_message = "The name_prefix must be at most 64 characters long."
  }
}

variable "environment" {
  type        = string
  description = "Environment name, the {stage} token of the parameter namespace /pipeline/{stage}/{service}/ (for example staging). It is the last token of name_prefix."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.environment))
    error_message = "The environment must contain only lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen."
  }

  validation {
    condition     = endswith(var.name_prefix, "-${var.environment}")
    error_message = "The name_prefix ({company}-{service}-{environment}) must end with \"-<environment>\", so that names and parameter paths name the same environment."
  }
}

variable "microservices" {
  type = map(object({
    short_name = string
  }))
  description = "Microservices keyed by name (for example api-service), each with its short_name (at most 12 characters, used in the read policy's name). Each gets the namespace /pipeline/{environment}/{name}/ and a read policy."

  validation {
    condition     = length(var.microservices) > 0
    error_message = "The microservices map must name at least one microservice."
  }

  validation {
    condition     = alltrue([for name in keys(var.microservices) : can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", name)) && length(name) <= 64])
    error_message = "Each key of microservices must be a microservice name of at most 64 lowercase letters, digits and single hyphens, starting with a letter (it is a segment of the parameter path)."
  }

  validation {
    condition     = alltrue([for m in values(var.microservices) : can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", m.short_name)) && length(m.short_name) <= 12])
    error_message = "Each microservice's short_name must be at most 12 lowercase letters, digits and single hyphens, starting with a letter."
  }

  validation {
    condition     = length(distinct([for m in values(var.microservices) : m.short_name])) == length(var.microservices)
    error_message = "Each microservice must have its own short_name (the read policies are named after it)."
  }
}

# --- Optional ----------------------------------------------------------------

variable "secret_names" {
  type        = map(list(string))
  description = "Names of each microservice's secrets (SecureString parameters under its namespace), keyed by microservice; the key \"shared\" names secrets under /pipeline/{environment}/shared/, which every microservice reads. Only for the secret_parameter_arns output: the deployer writes the values with boto3; Terraform never sees them."
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for service in keys(var.secret_names) : contains(keys(var.microservices), service) || service == "shared"])
    error_message = "Each key of secret_names must be a key of microservices or \"shared\"."
  }

  validation {
    condition     = alltrue(flatten([for names in values(var.secret_names) : [for name in names : can(regex("^[A-Za-z0-9_.-]{1,128}$", name))]]))
    error_message = "Each secret name must be 1 to 128 letters, digits, underscores, periods and hyphens (one segment of an SSM parameter name)."
  }

  validation {
    condition     = alltrue([for names in values(var.secret_names) : length(distinct(names)) == length(names)])
    error_message = "A microservice's secret_names must not list the same name twice."
  }
}

variable "parameters" {
  type        = map(map(string))
  description = "Plain (non-secret) values of each microservice, keyed by microservice, then by name. Terraform creates no parameter from them: the deployer writes them as String parameters under the microservice's namespace. They give the parameter_arns output and are checked against secret_names."
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for service in keys(var.parameters) : contains(keys(var.microservices), service) || service == "shared"])
    error_message = "Each key of parameters must be a key of microservices or \"shared\"."
  }

  validation {
    condition     = alltrue(flatten([for values in values(var.parameters) : [for name in keys(values) : can(regex("^[A-Za-z0-9_.-]{1,128}$", name))]]))
    error_message = "Each parameter name must be 1 to 128 letters, digits, underscores, periods and hyphens (one segment of an SSM parameter name)."
  }

  validation {
    condition = alltrue([
      for service, values in var.parameters :
      length(setintersection(toset(keys(values)), toset(lookup(var.secret_names, service, [])))) == 0
    ])
    error_message = "A name must not be both a plain parameter and a secret of the same microservice (both would be written to the same SSM parameter)."
  }
}
