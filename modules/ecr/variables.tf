# --- Required ----------------------------------------------------------------

variable "name_prefix" {
  type        = string
  description = "Prefix of every repository name, in the form {company}-{service}-{environment} of the delivery account (for example acme-shop-delivery)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix))
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen."
  }
}

variable "repository_names" {
  type        = list(string)
  description = "Names of the repositories without the prefix: one per microservice and the build image (for example [\"api-service\", \"auth-service\", \"notification-service\", \"build-image\"]). Each becomes {name_prefix}-{name}."
  nullable    = false

  validation {
    condition     = length(var.repository_names) > 0
    error_message = "The repository_names list must name at least one repository."
  }

  validation {
    condition     = alltrue([for name in var.repository_names : can(regex("^[a-z0-9]+([._-][a-z0-9]+)*$", name))])
    error_message = "Each entry of repository_names must be non-empty and contain only lowercase letters, digits and single separators (\".\", \"_\" or \"-\") between them, as ECR requires (no \"/\": the name is appended to the prefix)."
  }

  validation {
    condition     = length(distinct(var.repository_names)) == length(var.repository_names)
    error_message = "The repository_names list must not name the same repository twice."
  }

  validation {
    condition     = alltrue([for name in var.repository_names : length("${var.name_prefix}-${name}") <= 256])
    error_message = "Each repository name {name_prefix}-{name} must be at most 256 characters long (the ECR limit)."
  }
}

# --- Optional ----------------------------------------------------------------

variable "pull_account_ids" {
  type        = list(string)
  description = "IDs of the AWS accounts allowed to pull images (the runtime accounts). Their account roots get ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and ecr:BatchCheckLayerAvailability; IAM policies in those accounts decide which roles (the task execution roles) actually can."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for id in var.pull_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Each entry of pull_account_ids must be a 12-digit AWS account ID (as a string, leading zeros kept)."
  }

  validation {
    condition     = length(distinct(var.pull_account_ids)) == length(var.pull_account_ids)
    error_message = "The pull_account_ids list must not name the same account twice."
  }
}

variable "untagged_image_expiry_days" {
  type        = number
  description = "Days after being pushed that an untagged image expires (lifecycle rule 1)."
  default     = 7
  nullable    = false

  validation {
    condition     = var.untagged_image_expiry_days >= 1 && floor(var.untagged_image_expiry_days) == var.untagged_image_expiry_days
    error_message = "The untagged_image_expiry_days must be a whole number of days, at least 1."
  }
}

variable "max_image_count" {
  type        = number
  description = "Number of images kept per repository, tagged or not; older ones expire (lifecycle rule 2)."
  default     = 10
  nullable    = false

  validation {
    condition     = var.max_image_count >= 1 && floor(var.max_image_count) == var.max_image_count
    error_message = "The max_image_count must be a whole number, at least 1."
  }
}

variable "replication_regions" {
  type        = list(string)
  description = <<-EOT
    Regions to replicate every repository of this module to, in the same registry (for example
    ["us-west-2"]). Empty: no replication. The replication configuration is one per registry and
    region, so set this only on the primary instance of the module; the instance in the
    destination region creates the same repositories there, with their policies.
  EOT
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for region in var.replication_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", region))])
    error_message = "Each entry of replication_regions must be a region name such as us-west-2 (not an availability zone)."
  }

  validation {
    condition     = length(distinct(var.replication_regions)) == length(var.replication_regions)
    error_message = "The replication_regions list must not name the same region twice."
  }

  validation {
    condition     = length(var.replication_regions) <= 25
    error_message = "The replication_regions list may name at most 25 regions (the ECR limit of destinations per registry)."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of a KMS key in the provider's region to encrypt the repositories with; null uses ECR's AWS managed key (aws/ecr). Encryption is KMS either way. With a customer key, the pulling accounts also need kms:Decrypt on it. Changing it replaces the repositories."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be null or the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>), not a key ID or an alias."
  }
}

variable "enable_force_delete" {
  type        = bool
  description = "Whether destroying a repository also deletes its images. Off by default: a repository with images then refuses to be deleted."
  default     = false
  nullable    = false
}
