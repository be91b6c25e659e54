# --- Required ----------------------------------------------------------------

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, in the form {company}-{service}-{environment} of the delivery account (for example acme-shop-delivery)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix))
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen."
  }

  # The longest name built from the prefix is a build role,
  # "<name_prefix>-<short_name>-build-<region>": IAM role names are at most 64
  # characters, short names at most 12 and region names at most 14, which
  # leaves 30 for the prefix.
  validation {
    condition     = length(var.name_prefix) <= 30
    error_message = "The name_prefix must be at most 30 characters long so that the longest name built from it (a build role, \"<name_prefix>-<short_name>-build-<region>\") fits the 64-character IAM limit."
  }
}

variable "projects" {
  type = map(object({
    short_name     = string
    source_dir     = string
    repository_url = string
    repository_arn = string
  }))
  description = <<-EOT
    Microservices to build, keyed by microservice name (for example api-service): short_name (at
    most 12 characters, used in the role name), source_dir (the service's folder in the monorepo,
    for example services/api-service, holding its Dockerfile, requirements-dev.txt and tests/),
    and the URL and ARN of the ECR repository the image is pushed to.
  EOT

  validation {
    condition     = length(var.projects) > 0
    error_message = "The projects map must name at least one microservice."
  }

  validation {
    condition     = alltrue([for name in keys(var.projects) : can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", name)) && name != "integration-tests"])
    error_message = "Each projects key must be a microservice name of lowercase letters, digits and single hyphens, starting with a letter, and not \"integration-tests\" (the name of the test project)."
  }

  validation {
    condition     = alltrue([for p in values(var.projects) : can(regex("^[a-z][a-z0-9-]{0,11}$", p.short_name)) && p.short_name != "tests"])
    error_message = "Each short_name must be 1 to 12 lowercase letters, digits or hyphens, start with a letter, and not be \"tests\" (used by the test project's role)."
  }

  validation {
    condition     = length(distinct([for p in values(var.projects) : p.short_name])) == length(var.projects)
    error_message = "The short_name of each microservice must be unique: it keeps the build role names apart."
  }

  validation {
    condition     = alltrue([for p in values(var.projects) : can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", p.source_dir)) && !contains(split("/", p.source_dir), "..")])
    error_message = "Each source_dir must be a relative path inside the repository, such as services/api-service (no leading or trailing slash, no \"..\")."
  }

  validation {
    condition     = alltrue([for p in values(var.projects) : can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+$", p.repository_url))])
    error_message = "Each repository_url must be an ECR repository URL such as 111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service, without a tag."
  }

  validation {
    condition     = alltrue([for p in values(var.projects) : can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/[a-z0-9._/-]+$", p.repository_arn))])
    error_message = "Each repository_arn must be the ARN of an ECR repository (arn:aws:ecr:<region>:<account>:repository/<name>)."
  }
}

variable "build_image" {
  type = object({
    repository_url = string
    repository_arn = string
    tag            = string
  })
  description = "The custom CodeBuild image in ECR that every project runs on: the URL and ARN of its repository and the tag to run (docker and python 3 installed). CodeBuild pulls it with the project's role."

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+$", var.build_image.repository_url))
    error_message = "The build_image.repository_url must be an ECR repository URL such as 111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-build-image, without a tag."
  }

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/[a-z0-9._/-]+$", var.build_image.repository_arn))
    error_message = "The build_image.repository_arn must be the ARN of an ECR repository (arn:aws:ecr:<region>:<account>:repository/<name>)."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.build_image.tag))
    error_message = "The build_image.tag must be a Docker image tag: up to 128 letters, digits, underscores, periods and hyphens, not starting with a period or hyphen."
  }
}

variable "artifact_bucket_arn" {
  type        = string
  description = "ARN of the pipeline's artifact bucket in this region: the builds read the source artifact from it and write their output artifact to it."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact_bucket_arn))
    error_message = "The artifact_bucket_arn must be the ARN of an S3 bucket (arn:aws:s3:::<bucket>)."
  }
}

variable "artifact_kms_key_arn" {
  type        = string
  description = "ARN of the KMS key of the artifact bucket. The builds encrypt their output artifact with it, so that the runtime accounts (granted on this key) can read it."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.artifact_kms_key_arn))
    error_message = "The artifact_kms_key_arn must be the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>), not a key ID or an alias."
  }
}

variable "log_kms_key_arn" {
  type        = string
  description = "ARN of the KMS key the build log groups are encrypted with. Its key policy must allow the logs.<region>.amazonaws.com service principal."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.log_kms_key_arn))
    error_message = "The log_kms_key_arn must be the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>), not a key ID or an alias."
  }
}

# --- Optional ----------------------------------------------------------------

variable "deploy_files" {
  type        = map(map(string))
  description = <<-EOT
    Deployment files each build writes into its output artifact, keyed by microservice, then by
    file name: taskdef-<target>.json and appspec-<target>.yaml for each deploy target (rendered by
    the stack; the task definition's image is the target region's repository with the tag
    <IMAGE_TAG>, which the build replaces with the deployment ID).
    Passed to the build as the DEPLOY_FILES environment variable (JSON).
  EOT
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for name in keys(var.deploy_files) : contains(keys(var.projects), name)])
    error_message = "Every deploy_files key must be a microservice of the projects map."
  }

  validation {
    condition     = alltrue(flatten([for files in values(var.deploy_files) : [for file in keys(files) : can(regex("^(taskdef-[a-z0-9][a-z0-9-]*\\.json|appspec-[a-z0-9][a-z0-9-]*\\.yaml)$", file))]]))
    error_message = "Every deploy file name must be taskdef-<target>.json or appspec-<target>.yaml, with a target of lowercase letters, digits and hyphens: the pipeline's deploy actions read exactly these names."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days the build logs are kept (30 by default; 14 for a DR or seed variant)."
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a value CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "parameter_path_prefix" {
  type        = string
  description = "SSM Parameter Store path under which the build-time parameters are kept: each project reads {parameter_path_prefix}/{microservice}/ (the test project {parameter_path_prefix}/integration-tests/) and exports every parameter there as an environment variable."
  default     = "/pipeline/delivery"
  nullable    = false

  validation {
    condition     = can(regex("^(/[A-Za-z0-9_.-]+)+$", var.parameter_path_prefix))
    error_message = "The parameter_path_prefix must be an SSM path such as /pipeline/delivery: starting with a slash, without a trailing slash."
  }
}

variable "parameter_kms_key_arn" {
  type        = string
  description = "ARN of the customer KMS key of SecureString build-time parameters, if any: the projects may decrypt with it through SSM only. Null when the parameters use the AWS managed key (aws/ssm) or are not secret."
  default     = null

  validation {
    condition     = var.parameter_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.parameter_kms_key_arn))
    error_message = "The parameter_kms_key_arn must be null or the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "test_project" {
  type = object({
    source_dir   = optional(string, "tests/integration")
    compute_type = optional(string, "BUILD_GENERAL1_SMALL")
  })
  description = "The integration test project ({name_prefix}-integration-tests): source_dir, the folder of the monorepo it runs pytest in (with a requirements.txt), and its compute_type."
  default     = {}
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.test_project.source_dir)) && !contains(split("/", var.test_project.source_dir), "..")
    error_message = "The test_project.source_dir must be a relative path inside the repository, such as tests/integration (no leading or trailing slash, no \"..\")."
  }

  validation {
    condition     = contains(["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE", "BUILD_GENERAL1_2XLARGE"], var.test_project.compute_type)
    error_message = "The test_project.compute_type must be one of BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM, BUILD_GENERAL1_LARGE, BUILD_GENERAL1_XLARGE or BUILD_GENERAL1_2XLARGE."
  }
}

variable "compute_type" {
  type        = string
  description = "Compute type of the microservice build projects."
  default     = "BUILD_GENERAL1_SMALL"
  nullable    = false

  validation {
    condition     = contains(["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE", "BUILD_GENERAL1_2XLARGE"], var.compute_type)
    error_message = "The compute_type must be one of BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM, BUILD_GENERAL1_LARGE, BUILD_GENERAL1_XLARGE or BUILD_GENERAL1_2XLARGE."
  }
}

variable "build_timeout_minutes" {
  type        = number
  description = "Minutes after which CodeBuild stops a build (every project), from 5 to 2160."
  default     = 30
  nullable    = false

  validation {
    condition     = var.build_timeout_minutes >= 5 && var.build_timeout_minutes <= 2160 && floor(var.build_timeout_minutes) == var.build_timeout_minutes
    error_message = "The build_timeout_minutes must be a whole number from 5 to 2160 (the CodeBuild limits)."
  }
}
