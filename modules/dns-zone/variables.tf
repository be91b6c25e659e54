variable "name_prefix" {
  type        = string
  description = "Prefix of the role name: the delivery environment's {company}-{service}-{environment} (for example acme-shop-delivery)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix))
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen."
  }

  # The role is "<name_prefix>-dns-<environment>": IAM role names are at most 64
  # characters and environment names at most 12, which leaves 47 for the prefix.
  validation {
    condition     = length(var.name_prefix) <= 47
    error_message = "The name_prefix must be at most 47 characters, so that the role name <name_prefix>-dns-<environment> fits IAM's 64."
  }
}

variable "environment" {
  type        = string
  description = "The runtime environment whose services are named in the zone (prod): its workspaces change the zone through the role."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.environment))
    error_message = "The environment must be an environment name: 2 to 12 lowercase letters or digits, starting with a letter."
  }
}

variable "zone_name" {
  type        = string
  description = "Name of the public hosted zone (example.com), lower case and without the trailing dot, as Route 53's IAM condition keys normalize names."

  validation {
    condition = length(var.zone_name) <= 253 && length(split(".", var.zone_name)) >= 2 && alltrue([
      for label in split(".", var.zone_name) : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", label))
    ])
    error_message = "The zone_name must be a lower-case domain name of two labels at the least, without the trailing dot (such as example.com)."
  }
}

variable "record_names" {
  type        = list(string)
  description = "The names the environment's workspaces may write in the zone: each service's failover name (api-service.example.com). Each may also write the ACM validation records below it (_<token>.api-service.example.com)."
  nullable    = false

  validation {
    condition     = length(var.record_names) > 0
    error_message = "The record_names must list at least one name: a role that may write no name has no use."
  }

  validation {
    condition = alltrue([
      for name in var.record_names :
      endswith(name, ".${var.zone_name}") && can(regex("^[a-z0-9-]+(\\.[a-z0-9-]+)*$", name))
    ])
    error_message = "Each of the record_names must be a lower-case name inside the zone (ending in .<zone_name>), without wildcards or a trailing dot."
  }
}

variable "trusted_role_arns" {
  type        = list(string)
  description = "The roles that may assume the zone's role: the environment's deploy role, which its runtime workspaces' dns provider assumes first."
  nullable    = false

  validation {
    condition = length(var.trusted_role_arns) > 0 && alltrue([
      for arn in var.trusted_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]+$", arn))
    ])
    error_message = "The trusted_role_arns must list at least one IAM role ARN (arn:aws:iam::<account>:role/<name>), without wildcards."
  }
}
