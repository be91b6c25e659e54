# --- Required ----------------------------------------------------------------

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, in the form {company}-{service}-{environment} of the delivery account (for example acme-shop-delivery)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix))
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen."
  }

  # S3 reserves these bucket name prefixes.
  validation {
    condition     = !startswith("${var.name_prefix}-", "sthree-") && !startswith("${var.name_prefix}-", "amzn-s3-demo-")
    error_message = "The name_prefix must not start with \"sthree-\" or \"amzn-s3-demo-\" (nor be \"sthree\" or \"amzn-s3-demo\"): S3 reserves these bucket name prefixes."
  }

  # The bucket name "<name_prefix>-artifacts-<region>" is at most 63
  # characters (the S3 limit); region names are at most 14 characters and
  # "-artifacts-" takes 11, which leaves 38 for the prefix.
  validation {
    condition     = length(var.name_prefix) <= 38
    error_message = "The name_prefix must be at most 38 characters long so that the bucket name <name_prefix>-artifacts-<region> fits the 63-character S3 limit."
  }
}

variable "deployment_account_ids" {
  type        = list(string)
  description = "IDs of the AWS accounts that deploy from this store (the runtime accounts, for example staging and prod). Their account roots may read and write artifacts and use the key; IAM policies in those accounts decide which roles actually can. May be empty."
  nullable    = false

  validation {
    condition     = alltrue([for id in var.deployment_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Each entry of deployment_account_ids must be a 12-digit AWS account ID (as a string, leading zeros kept)."
  }

  validation {
    condition     = length(distinct(var.deployment_account_ids)) == length(var.deployment_account_ids)
    error_message = "The deployment_account_ids list must not name the same account twice."
  }
}

# --- Optional ----------------------------------------------------------------

variable "artifact_retention_days" {
  type        = number
  description = "Days after which the current version of an artifact expires (becomes a noncurrent version). Pipeline artifacts are only read during an execution."
  default     = 30
  nullable    = false

  validation {
    condition     = var.artifact_retention_days >= 1 && floor(var.artifact_retention_days) == var.artifact_retention_days
    error_message = "The artifact_retention_days must be a whole number of days, at least 1."
  }
}

variable "noncurrent_version_retention_days" {
  type        = number
  description = "Days after which a noncurrent (overwritten or expired) version of an artifact is deleted for good."
  default     = 30
  nullable    = false

  validation {
    condition     = var.noncurrent_version_retention_days >= 1 && floor(var.noncurrent_version_retention_days) == var.noncurrent_version_retention_days
    error_message = "The noncurrent_version_retention_days must be a whole number of days, at least 1."
  }
}

variable "kms_service_principals" {
  type        = list(string)
  description = <<-EOT
    AWS services allowed to use the artifact key, by short name: "logs" (the regional principal
    logs.<region>.amazonaws.com, only with an encryption context naming a log group of this
    account and region, for CodeBuild's log groups), "sns" (encrypted topics), "events" and
    "cloudwatch" (EventBridge rules and alarms publishing to an encrypted topic),
    "codestar-notifications" (pipeline notification rules, only through SNS).
  EOT
  default     = ["logs", "sns", "events", "codestar-notifications"]
  nullable    = false

  validation {
    condition     = alltrue([for service in var.kms_service_principals : contains(["logs", "sns", "events", "cloudwatch", "codestar-notifications"], service)])
    error_message = "Each entry of kms_service_principals must be one of \"logs\", \"sns\", \"events\", \"cloudwatch\" or \"codestar-notifications\"."
  }

  validation {
    condition     = length(distinct(var.kms_service_principals)) == length(var.kms_service_principals)
    error_message = "The kms_service_principals list must not name the same service twice."
  }
}

variable "key_deletion_window_days" {
  type        = number
  description = "Days a deleted artifact key waits before KMS deletes it for good (and it can still be recovered), from 7 to 30."
  default     = 30
  nullable    = false

  validation {
    condition     = var.key_deletion_window_days >= 7 && var.key_deletion_window_days <= 30 && floor(var.key_deletion_window_days) == var.key_deletion_window_days
    error_message = "The key_deletion_window_days must be a whole number of days from 7 to 30 (the KMS limits)."
  }
}
