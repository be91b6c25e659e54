# --- Required ----------------------------------------------------------------

variable "name_prefix" {
  type        = string
  description = "Prefix of the role name, in the form {company}-{service}-{environment} (for example acme-shop-staging)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix))
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen."
  }

  # The role is "<name_prefix>-ci-read-<region>": IAM role names are at most 64
  # characters and region names at most 14, which leaves 41 for the prefix.
  validation {
    condition     = length(var.name_prefix) <= 41
    error_message = "The name_prefix must be at most 41 characters long so that the role name, which includes the region, fits the 64-character IAM limit."
  }
}

variable "account_id" {
  type        = string
  description = "ID of the account the role lives in (the workspace's account): the resource-level actions are held to its ARNs."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be a 12-digit AWS account ID."
  }
}

variable "trusted_role_arns" {
  type        = list(string)
  description = "ARNs of the IAM roles allowed to assume the read role: the delivery account's CI plan role ({delivery prefix}-ci-plan, modules/ci-identity). They are the only principals of the trust policy, and must exist when the role is created (IAM refuses a trust policy naming a missing role)."

  validation {
    condition     = length(var.trusted_role_arns) > 0
    error_message = "The trusted_role_arns list must name at least one role (the CI plan role)."
  }

  validation {
    condition     = alltrue([for arn in var.trusted_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]+$", arn))])
    error_message = "Each entry of trusted_role_arns must be the ARN of an IAM role (arn:aws:iam::<account>:role/<name>), not an account, a user, a root or a wildcard."
  }

  validation {
    condition     = length(distinct(var.trusted_role_arns)) == length(var.trusted_role_arns)
    error_message = "The trusted_role_arns list must not name the same role twice."
  }
}

variable "bucket_name_prefix" {
  type        = string
  description = "Prefix of the names of the S3 buckets whose configuration the role reads (the artifact stores, {company}-{service}-{delivery environment}-artifacts-<region>); bucket ARNs carry no account, so the prefix is what keeps the role to the project's buckets."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{2,61}$", var.bucket_name_prefix))
    error_message = "The bucket_name_prefix must be the start of an S3 bucket name: 3 to 62 lowercase letters, digits, periods and hyphens, without wildcard."
  }
}
