# --- Required ----------------------------------------------------------------

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, in the form {company}-{service}-{environment} of the delivery account (for example acme-shop-delivery)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix))
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen."
  }

  # The longest name built from the prefix is the trigger role,
  # "<name_prefix>-pipeline-trigger": IAM role names are at most 64 characters.
  validation {
    condition     = length(var.name_prefix) <= 47
    error_message = "The name_prefix must be at most 47 characters long so that the longest name built from it (the role \"<name_prefix>-pipeline-trigger\") fits the 64-character IAM limit."
  }
}

variable "artifact_stores" {
  type = map(object({
    bucket_name = string
    bucket_arn  = string
    kms_key_arn = string
  }))
  description = <<-EOT
    The pipeline's artifact stores, keyed by region: one in the pipeline's own region (the
    provider's) and one in every region the pipeline deploys to (CodePipeline copies the
    artifacts there for cross-region actions). Each is a bucket and the KMS key (a key ARN of
    the same region) its artifacts are encrypted with; the runtime accounts must be granted
    both, since their deploy roles read the build output.
  EOT

  validation {
    condition     = alltrue([for region in keys(var.artifact_stores) : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", region))])
    error_message = "Each artifact_stores key must be a region name such as us-east-1."
  }

  validation {
    condition     = alltrue([for s in values(var.artifact_stores) : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", s.bucket_name)) && endswith(s.bucket_arn, ":::${s.bucket_name}") && startswith(s.bucket_arn, "arn:aws")])
    error_message = "Each artifact store's bucket_arn must be the ARN of its bucket_name (arn:aws:s3:::<bucket_name>)."
  }

  validation {
    condition     = alltrue([for region, s in var.artifact_stores : can(regex("^arn:aws[a-z-]*:kms:${region}:[0-9]{12}:key/[a-zA-Z0-9-]+$", s.kms_key_arn))])
    error_message = "Each artifact store's kms_key_arn must be the ARN of a KMS key in the store's region (arn:aws:kms:<region>:<account>:key/<id>), not an alias: cross-account deploy roles need the key ARN."
  }

  validation {
    condition = alltrue([
      for region in distinct(concat([var.staging.region], [for t in var.production : t.region])) : contains(keys(var.artifact_stores), region)
    ])
    error_message = "The artifact_stores must include every region the pipeline deploys to (the staging and production regions): CodePipeline needs an artifact store in the region of each cross-region action."
  }
}

variable "build_projects" {
  type        = map(string)
  description = "CodeBuild project of each microservice, keyed by microservice name (for example api-service = \"acme-shop-delivery-api-service\"): the Build stage runs them in parallel."

  validation {
    condition     = length(var.build_projects) > 0
    error_message = "The build_projects map must name at least one microservice."
  }

  validation {
    condition     = alltrue([for name in keys(var.build_projects) : can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", name)) && length(name) <= 60])
    error_message = "Each build_projects key must be a microservice name of lowercase letters, digits and single hyphens, starting with a letter, at most 60 characters (it names pipeline actions and artifacts)."
  }

  validation {
    condition     = alltrue([for project in values(var.build_projects) : can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$", project))])
    error_message = "Each build_projects value must be a CodeBuild project name (2 to 255 letters, digits, hyphens and underscores), not an ARN."
  }
}

variable "test_project_name" {
  type        = string
  description = "Name of the CodeBuild project the Test stage runs on the source (the integration tests)."

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$", var.test_project_name))
    error_message = "The test_project_name must be a CodeBuild project name (2 to 255 letters, digits, hyphens and underscores), not an ARN."
  }
}

variable "staging" {
  type = object({
    region                      = string
    account_id                  = string
    deploy_role_arn             = string
    codedeploy_application_name = string
    deployment_group_names      = map(string)
    target                      = string
  })
  description = <<-EOT
    The staging deploy target: its region and account, the cross-account deploy role the
    Staging actions run as (it must trust this pipeline's service role), the CodeDeploy
    application and the deployment group of each microservice (keyed like build_projects), and
    the target name used in the deploy file names (taskdef-<target>.json,
    appspec-<target>.yaml), for example staging-us-east-1.
  EOT

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.staging.region)) && can(regex("^[0-9]{12}$", var.staging.account_id))
    error_message = "The staging.region must be a region name (us-east-1) and staging.account_id a 12-digit account id."
  }

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.staging.deploy_role_arn)) && try(split(":", var.staging.deploy_role_arn)[4] == var.staging.account_id, false)
    error_message = "The staging.deploy_role_arn must be the ARN of a role in the staging account (staging.account_id)."
  }

  validation {
    condition     = toset(keys(var.staging.deployment_group_names)) == toset(keys(var.build_projects))
    error_message = "The staging.deployment_group_names must name a deployment group for exactly the microservices of build_projects."
  }

  validation {
    condition     = can(regex("^[a-z0-9]+(-[a-z0-9]+)*$", var.staging.target))
    error_message = "The staging.target must be lowercase letters, digits and single hyphens (for example staging-us-east-1): it is part of the deploy file names."
  }
}

variable "production" {
  type = list(object({
    region                      = string
    account_id                  = string
    deploy_role_arn             = string
    codedeploy_application_name = string
    deployment_group_names      = map(string)
    target                      = string
  }))
  description = "The production deploy targets (for example prod-us-east-1 and prod-us-west-2), each described like staging. After the manual approval, the Production stage deploys every microservice to every target."

  validation {
    condition     = length(var.production) > 0
    error_message = "The production list must name at least one deploy target."
  }

  validation {
    condition     = alltrue([for t in var.production : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", t.region)) && can(regex("^[0-9]{12}$", t.account_id))])
    error_message = "Each production target's region must be a region name (us-west-2) and its account_id a 12-digit account id."
  }

  validation {
    condition     = alltrue([for t in var.production : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", t.deploy_role_arn)) && try(split(":", t.deploy_role_arn)[4] == t.account_id, false)])
    error_message = "Each production target's deploy_role_arn must be the ARN of a role in that target's account (account_id)."
  }

  validation {
    condition     = alltrue([for t in var.production : toset(keys(t.deployment_group_names)) == toset(keys(var.build_projects))])
    error_message = "Each production target's deployment_group_names must name a deployment group for exactly the microservices of build_projects."
  }

  validation {
    condition     = alltrue([for t in var.production : can(regex("^[a-z0-9]+(-[a-z0-9]+)*$", t.target))])
    error_message = "Each production target must be lowercase letters, digits and single hyphens (for example prod-us-west-2): it is part of the deploy file names."
  }

  validation {
    condition     = length(distinct(concat([var.staging.target], [for t in var.production : t.target]))) == length(var.production) + 1
    error_message = "The production targets must be distinct from each other and from staging.target: each names its own deploy files and actions."
  }
}

variable "approval_topic_arn" {
  type        = string
  description = "ARN of the SNS topic the manual approval before production publishes to (the delivery stack's approvals topic)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.approval_topic_arn))
    error_message = "The approval_topic_arn must be the ARN of an SNS topic (arn:aws:sns:<region>:<account>:<name>)."
  }
}

# --- Optional ----------------------------------------------------------------

# "source" is a reserved variable name in Terraform, hence pipeline_source.
variable "pipeline_source" {
  type = object({
    type              = optional(string, "CodeCommit")
    repository_name   = optional(string)
    create_repository = optional(bool, true)
    branch            = optional(string, "main")
    s3_bucket         = optional(string)
    s3_object_key     = optional(string)
  })
  description = <<-EOT
    Where the pipeline takes the monorepo from. type "CodeCommit" (the default): repository_name
    (default {name_prefix}-monorepo; created by the module unless create_repository is false) and
    branch (default main); pushes to the branch start the pipeline through an EventBridge rule.
    type "S3": the versioned bucket s3_bucket and the zip s3_object_key, polled for new versions.
  EOT
  default     = {}
  nullable    = false

  validation {
    condition     = contains(["CodeCommit", "S3"], var.pipeline_source.type)
    error_message = "The pipeline_source.type must be either \"CodeCommit\" or \"S3\"."
  }

  validation {
    condition     = var.pipeline_source.type != "S3" || (try(length(var.pipeline_source.s3_bucket) > 0, false) && try(length(var.pipeline_source.s3_object_key) > 0, false))
    error_message = "An S3 source needs both pipeline_source.s3_bucket and pipeline_source.s3_object_key."
  }

  validation {
    condition     = var.pipeline_source.repository_name == null || can(regex("^[A-Za-z0-9_.-]{1,100}$", coalesce(var.pipeline_source.repository_name, "-"))) && !endswith(coalesce(var.pipeline_source.repository_name, "-"), ".git")
    error_message = "The pipeline_source.repository_name must be a CodeCommit repository name: 1 to 100 letters, digits, periods, underscores and hyphens, not ending in .git."
  }

  validation {
    condition     = length(trimspace(var.pipeline_source.branch)) > 0 && !strcontains(var.pipeline_source.branch, " ")
    error_message = "The pipeline_source.branch must be a branch name without spaces."
  }
}

variable "required_approvals" {
  type        = number
  description = "Approvals a pull request into the pipeline's branch needs before it can merge (an approval rule template on the repository), when the module creates the repository; 0 for no rule."
  default     = 2
  nullable    = false

  validation {
    condition     = var.required_approvals >= 0 && var.required_approvals <= 25 && floor(var.required_approvals) == var.required_approvals
    error_message = "The required_approvals must be a whole number from 0 (no approval rule) to 25."
  }
}

variable "approval_message" {
  type        = string
  description = "First sentence of the approval request (CustomData); the module adds the commit, each service with its deployment ID and the production targets. Default: \"Promote <pipeline> to production?\"."
  default     = null

  validation {
    condition     = var.approval_message == null || try(length(var.approval_message) <= 200, true)
    error_message = "The approval_message must be at most 200 characters long, to leave room for the commit, deployments and targets in the 500 characters CodePipeline allows."
  }
}

variable "approval_topic_kms_key_arn" {
  type        = string
  description = "ARN of the KMS key the approval topic is encrypted with, if any: the pipeline's service role needs it to publish the approval request."
  default     = null

  validation {
    condition     = var.approval_topic_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.approval_topic_kms_key_arn))
    error_message = "The approval_topic_kms_key_arn must be null or the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}
