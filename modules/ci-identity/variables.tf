# --- Required ----------------------------------------------------------------

variable "name_prefix" {
  type        = string
  description = "Prefix of the role names, in the form {company}-{service}-{environment} of the delivery environment (for example acme-shop-delivery)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix))
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen."
  }

  # The longer role is "<name_prefix>-ci-apply": IAM role names are at most 64
  # characters, which leaves 55 for the prefix.
  validation {
    condition     = length(var.name_prefix) <= 55
    error_message = "The name_prefix must be at most 55 characters long so that the role name <name_prefix>-ci-apply fits the 64-character IAM limit."
  }
}

variable "account_id" {
  type        = string
  description = "ID of the account the roles and the OIDC provider live in (the delivery account, which holds the Terraform state and run history)."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be a 12-digit AWS account ID."
  }
}

variable "github_repository" {
  type        = string
  description = "The GitHub repository whose workflows may assume the roles, OWNER/REPO as GitHub spells it (the sub claim compares it exactly)."

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "The github_repository must be OWNER/REPO: an owner of 1 to 39 letters, digits and hyphens, a slash, and a repository name of letters, digits, periods, underscores and hyphens (no wildcard)."
  }
}

variable "state" {
  type = object({
    bucket           = string
    region           = string
    key_prefix       = string
    run_history_path = string
    replica = optional(object({
      bucket = string
      region = string
    }))
  })
  description = "Where the deployer keeps its records in this account: the Terraform state bucket and its region, the key prefix of the workspaces' state and lock files (workspaces), the SSM path of the run history (/deployer/runs), and the state bucket's replica in the DR region (null: none), where the deployer reads and writes the same keys, and keeps the run history, while the state region does not answer."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state.bucket)) && !strcontains(var.state.bucket, "..")
    error_message = "The state.bucket must be an S3 bucket name (3 to 63 lowercase letters, digits, periods and hyphens), not an ARN."
  }

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.state.region))
    error_message = "The state.region must be an AWS region name such as us-east-1."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.state.key_prefix))
    error_message = "The state.key_prefix must be an S3 key prefix without leading or trailing slash and without wildcards, such as workspaces."
  }

  validation {
    condition     = can(regex("^(/[A-Za-z0-9_.-]+)+$", var.state.run_history_path))
    error_message = "The state.run_history_path must be an SSM parameter path starting with a slash, without trailing slash or wildcards, such as /deployer/runs."
  }
}

# --- Optional ----------------------------------------------------------------

variable "apply_branch" {
  type        = string
  description = "The protected branch whose workflows may assume the apply role (sub repo:OWNER/REPO:ref:refs/heads/<branch>)."
  default     = "main"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_./-]{1,100}$", var.apply_branch))
    error_message = "The apply_branch must be a branch name of 1 to 100 letters, digits, underscores, periods, slashes and hyphens (no wildcard)."
  }
}

variable "environments" {
  type = map(object({
    deploy_role_arn = optional(string)
  }))
  description = "The GitHub environments whose jobs may assume the apply role (sub repo:OWNER/REPO:environment:<name>), keyed by name: the deployer's environments. Each names the role the deployer assumes in that environment's account, which the apply role may assume; null when the environment has none (the deployer then works with the caller's own credentials there, which this module does not grant)."
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for name in keys(var.environments) : can(regex("^[A-Za-z0-9_.-]{1,255}$", name))])
    error_message = "Every environments key must be a GitHub environment name of letters, digits, underscores, periods and hyphens (no wildcard)."
  }

  validation {
    condition     = alltrue([for e in values(var.environments) : e.deploy_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]+$", e.deploy_role_arn))])
    error_message = "Every environments deploy_role_arn must be null or the ARN of an IAM role (arn:aws:iam::<account>:role/<name>), without wildcards."
  }
}

variable "read_role_arns" {
  type        = list(string)
  description = "The read roles the plan role may assume (modules/ci-read-role, {prefix}-ci-read-{region} of each workspace): configuration reads only, so pull requests can plan and the drift check can refresh every workspace without reaching a deploy role. Empty: the plan role reads state only."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.read_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]+$", arn))])
    error_message = "Every read_role_arns entry must be the ARN of an IAM role (arn:aws:iam::<account>:role/<name>), without wildcards."
  }
}

variable "create_oidc_provider" {
  type        = bool
  description = "Create the account's GitHub Actions OIDC provider (token.actions.githubusercontent.com). An account holds one provider per URL: set false when it already has one, and the roles trust that one."
  default     = true
  nullable    = false
}
