# --- Required ----------------------------------------------------------------

variable "name_prefix" {
  type        = string
  description = "Prefix of the alias, in the form {company}-{service}-{environment} (for example acme-shop-prod)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix))
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen."
  }
}

variable "name" {
  type        = string
  description = "What the key is for, the suffix of its alias alias/{name_prefix}-{name} (for example logs or notifications)."

  validation {
    condition     = can(regex("^[a-z0-9]+(-[a-z0-9]+)*$", var.name))
    error_message = "The name must contain only lowercase letters, digits and single hyphens, and not start or end with a hyphen."
  }

  # KMS alias names, "alias/" included, are at most 256 characters.
  validation {
    condition     = length("alias/${var.name_prefix}-${var.name}") <= 256
    error_message = "The alias alias/{name_prefix}-{name} must be at most 256 characters long (the KMS limit)."
  }
}

variable "description" {
  type        = string
  description = "Description of the key, shown in the KMS console (for example \"CloudWatch Logs of acme-shop-prod\")."

  validation {
    condition     = length(trimspace(var.description)) > 0 && length(var.description) <= 8192
    error_message = "The description must not be empty and must be at most 8192 characters long (the KMS limit)."
  }
}

# --- Optional ----------------------------------------------------------------

variable "service_principals" {
  type        = list(string)
  description = <<-EOT
    AWS services allowed to use the key, by short name: "logs" (the regional principal
    logs.<region>.amazonaws.com, only with an encryption context naming a log group of this
    account and region), "sns" (encrypted topics), "events" and "cloudwatch" (EventBridge rules
    and alarms publishing to an encrypted topic), "codestar-notifications" (notification rules
    publishing to an encrypted topic, only through SNS).
  EOT
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for service in var.service_principals : contains(["logs", "sns", "events", "cloudwatch", "codestar-notifications"], service)])
    error_message = "Each entry of service_principals must be one of \"logs\", \"sns\", \"events\", \"cloudwatch\" or \"codestar-notifications\"."
  }

  validation {
    condition     = length(distinct(var.service_principals)) == length(var.service_principals)
    error_message = "The service_principals list must not name the same service twice."
  }
}

variable "user_role_arns" {
  type        = list(string)
  description = "ARNs of IAM roles allowed to encrypt and decrypt with the key (Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey), in any account. The roles must exist: KMS rejects a key policy naming a role that does not."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.user_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]+$", arn))])
    error_message = "Each entry of user_role_arns must be the ARN of an IAM role (arn:aws:iam::<account>:role/<name>), not a role name, a user or an account root."
  }

  validation {
    condition     = length(distinct(var.user_role_arns)) == length(var.user_role_arns)
    error_message = "The user_role_arns list must not name the same role twice."
  }
}

variable "deletion_window_days" {
  type        = number
  description = "Days a deleted key waits before KMS deletes it for good (and it can still be recovered), from 7 to 30."
  default     = 30
  nullable    = false

  validation {
    condition     = var.deletion_window_days >= 7 && var.deletion_window_days <= 30 && floor(var.deletion_window_days) == var.deletion_window_days
    error_message = "The deletion_window_days must be a whole number of days from 7 to 30 (the KMS limits)."
  }
}

variable "account_ids" {
  type        = list(string)
  description = "IDs of other AWS accounts whose roots may use the key (the usage actions, or those of usage_via_service), in the DeploymentAccounts statement: for example the runtime accounts that read and write a delivery account's pipeline artifacts. IAM policies in those accounts decide which roles actually can."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for id in var.account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Each entry of account_ids must be a 12-digit AWS account ID (as a string, leading zeros kept)."
  }

  validation {
    condition     = length(distinct(var.account_ids)) == length(var.account_ids)
    error_message = "The account_ids list must not name the same account twice."
  }
}

variable "usage_via_service" {
  type        = string
  description = <<-EOT
    Restricts every cryptographic use of the key to one AWS service acting for the caller (the
    kms:ViaService condition), by short name: "ssm" (Parameter Store of this region, with only the
    actions it calls for SecureStrings: Encrypt, Decrypt, GenerateDataKey). The account's, the user
    roles' and the other accounts' statements then carry that condition and those actions, and the
    policy has no grant statement. Not with service_principals. null (the default): no restriction.
  EOT
  default     = null

  validation {
    condition     = var.usage_via_service == null || contains(["ssm"], coalesce(var.usage_via_service, "-"))
    error_message = "The usage_via_service must be \"ssm\" or null."
  }

  validation {
    condition     = var.usage_via_service == null || length(var.service_principals) == 0
    error_message = "A key restricted to one service (usage_via_service) must not also name service_principals: their statements would reach past that service."
  }
}
