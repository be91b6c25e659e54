# --- Required ----------------------------------------------------------------

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, in the form {company}-{service}-{environment} (for example acme-shop-prod)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix))
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen."
  }

  # The longest name built from the prefix is the CodeDeploy service role,
  # "<name_prefix>-codedeploy-<region>": IAM role names are at most 64
  # characters and region names at most 14, which leaves 38 for the prefix.
  validation {
    condition     = length(var.name_prefix) <= 38
    error_message = "The name_prefix must be at most 38 characters long so that the CodeDeploy service role name, which includes the region, fits the 64-character IAM limit."
  }
}
