# --- Required ----------------------------------------------------------------

variable "name_prefix" {
  type        = string
  description = "Prefix of the role name, in the form {company}-{service}-{environment} (for example acme-shop-staging)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix))
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen."
  }

  # The role is "<name_prefix>-deploy-<region>": IAM role names are at most 64
  # characters and region names at most 14, which leaves 42 for the prefix.
  validation {
    condition     = length(var.name_prefix) <= 42
    error_message = "The name_prefix must be at most 42 characters long so that the role name, which includes the region, fits the 64-character IAM limit."
  }
}

variable "trusted_role_arns" {
  type        = list(string)
  description = "ARNs of the IAM roles allowed to assume the deploy role: the delivery pipeline's service role. They are the only principals of the trust policy, and must exist when the role is created (IAM refuses a trust policy naming a missing role)."

  validation {
    condition     = length(var.trusted_role_arns) > 0
    error_message = "The trusted_role_arns list must name at least one role (the delivery pipeline's service role)."
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

variable "codedeploy_application_name" {
  type        = string
  description = "Name of the environment's CodeDeploy application (for example acme-shop-staging-services)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_.+-]{1,100}$", var.codedeploy_application_name))
    error_message = "The codedeploy_application_name must be a CodeDeploy application name of 1 to 100 letters, digits, periods, underscores, plus signs and hyphens."
  }
}

variable "deployment_group_names" {
  type        = list(string)
  description = "Names of the application's deployment groups the pipeline deploys to (one per microservice)."

  validation {
    condition     = length(var.deployment_group_names) > 0
    error_message = "The deployment_group_names list must name at least one deployment group."
  }

  validation {
    condition     = alltrue([for name in var.deployment_group_names : can(regex("^[A-Za-z0-9_.+-]{1,100}$", name))])
    error_message = "Each entry of deployment_group_names must be a deployment group name of 1 to 100 letters, digits, periods, underscores, plus signs and hyphens."
  }

  validation {
    condition     = length(distinct(var.deployment_group_names)) == length(var.deployment_group_names)
    error_message = "The deployment_group_names list must not name the same group twice."
  }
}

variable "pass_role_arns" {
  type        = list(string)
  description = "ARNs of the task and task execution roles of the task definitions the deployment registers; the deploy role may pass them to ECS tasks only. They must be roles of the runtime account."

  validation {
    condition     = length(var.pass_role_arns) > 0
    error_message = "The pass_role_arns list must name at least one role (the task definitions' task and execution roles)."
  }

  validation {
    condition     = alltrue([for arn in var.pass_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]+$", arn))])
    error_message = "Each entry of pass_role_arns must be the ARN of an IAM role (arn:aws:iam::<account>:role/<name>), without wildcards."
  }

  validation {
    condition     = length(distinct(var.pass_role_arns)) == length(var.pass_role_arns)
    error_message = "The pass_role_arns list must not name the same role twice."
  }
}

variable "artifact_bucket_arns" {
  type        = list(string)
  description = "ARNs of the delivery account's pipeline artifact buckets (one per region) the deploy action reads the build output from."

  validation {
    condition     = length(var.artifact_bucket_arns) > 0
    error_message = "The artifact_bucket_arns list must name at least one bucket."
  }

  validation {
    condition     = alltrue([for arn in var.artifact_bucket_arns : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", arn))])
    error_message = "Each entry of artifact_bucket_arns must be the ARN of an S3 bucket (arn:aws:s3:::<bucket>), without an object path or wildcard."
  }

  validation {
    condition     = length(distinct(var.artifact_bucket_arns)) == length(var.artifact_bucket_arns)
    error_message = "The artifact_bucket_arns list must not name the same bucket twice."
  }
}

variable "artifact_kms_alias_name" {
  type        = string
  description = "Alias of the artifact buckets' KMS keys in the delivery account (alias/{delivery_prefix}-artifacts, the same in every region). Key ARNs are random, so the role may decrypt with any key of the delivery account that carries this alias (kms:ResourceAliases)."

  validation {
    condition     = can(regex("^alias/[A-Za-z0-9/_-]{1,250}$", var.artifact_kms_alias_name)) && !startswith(var.artifact_kms_alias_name, "alias/aws/")
    error_message = "The artifact_kms_alias_name must be a customer key alias such as alias/acme-shop-delivery-artifacts (not an alias ARN, and not an alias/aws/ managed key alias)."
  }
}

variable "delivery_account_id" {
  type        = string
  description = "ID of the delivery account, owner of the artifact buckets and their keys."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.delivery_account_id))
    error_message = "The delivery_account_id must be a 12-digit AWS account ID."
  }
}

# --- Optional ----------------------------------------------------------------

variable "external_id" {
  type        = string
  description = "External ID the trusted roles must give when assuming the role (sts:ExternalId); null for none. CodePipeline's cross-account actions cannot send one: set it only for principals that assume the role themselves."
  default     = null

  validation {
    # RE2 caps repetition counts at 1000, hence the separate length check.
    condition     = var.external_id == null || try(can(regex("^[\\w+=,.@:/-]+$", var.external_id)) && length(var.external_id) >= 2 && length(var.external_id) <= 1224, false)
    error_message = "The external_id must be null or 2 to 1224 letters, digits and +=,.@:/- characters."
  }
}
