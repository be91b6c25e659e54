# --- Required ----------------------------------------------------------------

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, in the form {company}-{service}-{environment} (for example acme-shop-prod)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix))
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen."
  }

  # The longest name built from the prefix is the execution role,
  # "<name_prefix>-deploy-guard-<region>": IAM role names are at most 64
  # characters and region names at most 14, which leaves 36 for the prefix.
  # The function name, "<name_prefix>-deploy-guard", then stays far below
  # Lambda's 64.
  validation {
    condition     = length(var.name_prefix) <= 36
    error_message = "The name_prefix must be at most 36 characters long so that the execution role name, which includes the region, fits the 64-character IAM limit (the function name, 64 characters at most, is shorter)."
  }
}

variable "package_path" {
  type        = string
  description = "Path of the function's zip, built by the deployer (deployer.packaging.build_lambda_zip on functions/deploy_guard)."

  validation {
    condition     = endswith(var.package_path, ".zip")
    error_message = "The package_path must be the path of a .zip file."
  }
}

variable "package_hash" {
  type        = string
  description = "Base64-encoded SHA-256 of the zip, as filebase64sha256() computes it (the deployer returns it with the zip): the function's source_code_hash, so the function is updated exactly when the code changes."

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", var.package_hash))
    error_message = "The package_hash must be a base64-encoded SHA-256 digest: 43 base64 characters and one \"=\" (as filebase64sha256() returns), not a hex digest."
  }
}

variable "codedeploy_application_name" {
  type        = string
  description = "The environment's CodeDeploy application ({name_prefix}-services). The function may only read and stop deployments of this application's deployment_group_names."

  validation {
    condition     = length(var.codedeploy_application_name) >= 1 && length(var.codedeploy_application_name) <= 100
    error_message = "The codedeploy_application_name must be 1 to 100 characters long."
  }
}

variable "deployment_group_names" {
  type        = list(string)
  description = "The application's deployment groups the function guards (one per microservice, {name_prefix}-{microservice})."

  validation {
    condition     = length(var.deployment_group_names) >= 1 && alltrue([for n in var.deployment_group_names : length(n) >= 1 && length(n) <= 100])
    error_message = "The deployment_group_names must name at least one deployment group, each 1 to 100 characters long."
  }

  validation {
    condition     = length(distinct(var.deployment_group_names)) == length(var.deployment_group_names)
    error_message = "The deployment_group_names must not name the same deployment group twice."
  }
}

variable "cluster_name" {
  type        = string
  description = "Name of the ECS cluster the services run in ({name_prefix}-cluster)."

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,255}$", var.cluster_name))
    error_message = "The cluster_name must be an ECS cluster name: 1 to 255 letters, digits, hyphens and underscores (a name, not an ARN)."
  }
}

variable "service_names" {
  type        = list(string)
  description = "Names of the ECS services the deployment groups deploy ({name_prefix}-{microservice}); the function may describe only these."

  validation {
    condition     = length(var.service_names) >= 1 && alltrue([for n in var.service_names : can(regex("^[a-zA-Z0-9_-]{1,255}$", n))])
    error_message = "The service_names must name at least one ECS service, each 1 to 255 letters, digits, hyphens and underscores (names, not ARNs)."
  }
}

variable "alarm_names" {
  type        = list(string)
  description = "The services' CloudWatch alarms: the EventBridge rule invokes the function when one of exactly these goes to ALARM, and the function may read only these. Include every alarm a deployment group names in its alarm configuration (the lifecycle hook checks those, and fails closed on an alarm it may not read)."

  validation {
    condition     = length(var.alarm_names) >= 1 && alltrue([for n in var.alarm_names : length(n) >= 1 && length(n) <= 255])
    error_message = "The alarm_names must name at least one alarm, each 1 to 255 characters long."
  }

  validation {
    condition     = length(distinct(var.alarm_names)) == length(var.alarm_names)
    error_message = "The alarm_names must not name the same alarm twice."
  }
}

variable "notifications_topic_arn" {
  type        = string
  description = "ARN of the environment's notifications SNS topic: every failed check and every rollback is published there (also the on-failure destination of asynchronous invocations that still fail after Lambda's retries)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.notifications_topic_arn))
    error_message = "The notifications_topic_arn must be the ARN of an SNS standard topic (arn:aws:sns:<region>:<account>:<name>)."
  }
}

variable "notifications_kms_key_arn" {
  type        = string
  description = "ARN of the KMS key the notifications topic is encrypted with: the function needs kms:GenerateDataKey and kms:Decrypt on it to publish."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.notifications_kms_key_arn))
    error_message = "The notifications_kms_key_arn must be the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>), not a key ID or an alias."
  }
}

# --- Optional ----------------------------------------------------------------

variable "log_retention_days" {
  type        = number
  description = "Retention of the function's log group, in days (0: never expire), as for the services' log groups."
  default     = 30
  nullable    = false

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a value CloudWatch Logs accepts: 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_kms_key_arn" {
  type        = string
  description = "ARN of a KMS key to encrypt the function's log group with (its key policy must allow logs.<region>.amazonaws.com); null uses CloudWatch Logs' own encryption."
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.log_kms_key_arn))
    error_message = "The log_kms_key_arn must be null or the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>), not a key ID or an alias."
  }
}

variable "timeout_seconds" {
  type        = number
  description = "Function timeout, in seconds. A hook's checks are a handful of API calls; CodeDeploy waits up to an hour for the hook's status."
  default     = 30
  nullable    = false

  validation {
    condition     = var.timeout_seconds >= 3 && var.timeout_seconds <= 900 && floor(var.timeout_seconds) == var.timeout_seconds
    error_message = "The timeout_seconds must be a whole number of seconds from 3 to 900 (Lambda's maximum)."
  }
}

variable "validation_seconds" {
  type        = number
  description = "How long a lifecycle hook keeps watching a release that passes its checks (the checks run again every 2 s; the first failure fails the hook). 0 checks once. Set it to at least the time the load balancer needs to find a target unhealthy (interval x unhealthy threshold + interval), so a release that breaks under traffic is caught. The function's timeout is raised to leave 30 s beyond it."
  default     = 0
  nullable    = false

  validation {
    condition     = var.validation_seconds >= 0 && var.validation_seconds <= 840 && floor(var.validation_seconds) == var.validation_seconds
    error_message = "The validation_seconds must be a whole number of seconds from 0 to 840 (Lambda's 900 s maximum, less 60 s for the checks themselves)."
  }
}

variable "memory_mb" {
  type        = number
  description = "Function memory, in MB (CPU grows with it)."
  default     = 128
  nullable    = false

  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240 && floor(var.memory_mb) == var.memory_mb
    error_message = "The memory_mb must be a whole number from 128 to 10240 (Lambda's limits)."
  }
}
