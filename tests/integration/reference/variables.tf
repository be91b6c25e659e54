variable "region" {
  description = "Region of the tooling account resources."
  type        = string
  default     = "us-east-1"
}

variable "replica_region" {
  description = "Region ECR images are replicated to."
  type        = string
  default     = "us-west-2"
}

variable "name" {
  description = "Name prefix of every resource."
  type        = string
  default     = "ref"
}

variable "workload_account_id" {
  description = "12-digit id of the second (workload) account."
  type        = string
  default     = "222222222222"

  validation {
    condition     = can(regex("^[0-9]{12}$", var.workload_account_id))
    error_message = "workload_account_id must be a 12-digit account id."
  }
}

variable "workload_role_name" {
  description = "Role assumed in the workload account."
  type        = string
  default     = "OrganizationAccountAccessRole"
}

variable "notification_email" {
  description = "Address subscribed to the pipeline notifications topic."
  type        = string
  default     = "platform-team@example.com"
}

variable "lambda_zip_path" {
  description = "Path of the zip of the pipeline notifier function (built by the caller)."
  type        = string
}

variable "container_image" {
  description = "Image of the initial task definition."
  type        = string
  default     = "public.ecr.aws/nginx/nginx:1.27"
}

variable "bake_minutes" {
  description = "Minutes the blue tasks are kept after a swap; the test changes it to update resources in place."
  type        = number
  default     = 5
}

# Provider settings: the defaults are AWS's; the emulator runs set them.

variable "s3_use_path_style" {
  type    = bool
  default = false
}

variable "skip_credentials_validation" {
  type    = bool
  default = false
}

variable "skip_metadata_api_check" {
  type    = bool
  default = false
}

variable "max_retries" {
  description = "Provider retry count; keep it low (2-3) against the emulator."
  type        = number
  default     = 25
}
