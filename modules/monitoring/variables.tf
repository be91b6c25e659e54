# --- Required ----------------------------------------------------------------

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, in the form {company}-{service}-{environment} (for example acme-shop-staging)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix))
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen."
  }

  # The longest names built from the prefix with a 64-character cap are the
  # CodeStar notification rule "<name_prefix>-pipeline-approvals" and the
  # EventBridge rule "<name_prefix>-deployment-failure" (20 and 19 characters
  # after the prefix): 64 - 20 leaves 44.
  validation {
    condition     = length(var.name_prefix) <= 44
    error_message = "The name_prefix must be at most 44 characters long so that the EventBridge and CodeStar notification rule names built from it fit their 64-character limit."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of the KMS key the SNS topics are encrypted with. Its key policy must let events.amazonaws.com, cloudwatch.amazonaws.com and codestar-notifications.amazonaws.com call kms:GenerateDataKey* and kms:Decrypt, or their messages are dropped."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "The kms_key_arn must be the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>), not a key ID or an alias."
  }
}

# --- Optional ----------------------------------------------------------------

variable "notification_emails" {
  type        = list(string)
  description = "Email addresses subscribed to every topic of the module (each address must confirm its subscription)."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for email in var.notification_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", email))])
    error_message = "Each entry of notification_emails must be an email address such as oncall@example.com."
  }

  validation {
    condition     = length(distinct(var.notification_emails)) == length(var.notification_emails)
    error_message = "The notification_emails list must not name the same address twice."
  }
}

variable "enable_approvals_topic" {
  type        = bool
  description = "Whether to create the {name_prefix}-approvals topic (manual approvals and pipeline failures, through a CodeStar notification rule when pipeline_name is set). The delivery stack sets true."
  default     = false
  nullable    = false
}

variable "services" {
  type = map(object({
    cluster_name              = string
    service_name              = string
    alb_arn_suffix            = string
    target_group_arn_suffixes = list(string)
  }))
  description = <<-EOT
    ECS services to alarm on and chart, keyed by microservice name (used in the alarm names):
    cluster_name and service_name (the ECS dimensions), alb_arn_suffix (the load balancer's
    arn_suffix, app/<name>/<id>), target_group_arn_suffixes (the arn_suffix of the blue and green
    target groups, targetgroup/<name>/<id>).
  EOT
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for key in keys(var.services) : can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", key)) && length(key) <= 64])
    error_message = "Each key of services must be a microservice name of at most 64 lowercase letters, digits and single hyphens, starting with a letter (it is part of the alarm names)."
  }

  validation {
    condition     = alltrue([for s in var.services : can(regex("^app/[A-Za-z0-9-]+/[A-Za-z0-9]+$", s.alb_arn_suffix))])
    error_message = "Each service's alb_arn_suffix must be an Application Load Balancer ARN suffix such as app/acme-shop-prod-api-alb/50dc6c495c0c9188 (the arn_suffix attribute, not the ARN)."
  }

  validation {
    condition = alltrue([
      for s in var.services :
      length(s.target_group_arn_suffixes) >= 1
      && length(distinct(s.target_group_arn_suffixes)) == length(s.target_group_arn_suffixes)
      && alltrue([for tg in s.target_group_arn_suffixes : can(regex("^targetgroup/[A-Za-z0-9-]+/[A-Za-z0-9]+$", tg))])
    ])
    error_message = "Each service's target_group_arn_suffixes must list at least one distinct target group ARN suffix such as targetgroup/acme-shop-prod-api-blue/943f017f100becff (the arn_suffix attribute, not the ARN)."
  }

  validation {
    condition     = alltrue([for s in var.services : length(trimspace(s.cluster_name)) > 0 && length(trimspace(s.service_name)) > 0])
    error_message = "Each service's cluster_name and service_name must not be empty."
  }
}

variable "alarm_thresholds" {
  type = object({
    running_tasks_min_ratio = optional(number, 1.0)
    unhealthy_targets       = optional(number, 0)
    http_5xx_rate_percent   = optional(number, 5)
    evaluation_periods      = optional(number, 3)
    period_seconds          = optional(number, 60)
  })
  description = <<-EOT
    Thresholds of the per-service alarms: running_tasks_min_ratio (alarm when the running tasks
    are fewer than this share of the desired ones; 1.0 = all desired tasks), unhealthy_targets (alarm when the
    unhealthy target count of any target group is above it), http_5xx_rate_percent (alarm when
    target 5XX responses are above this percentage of requests), evaluation_periods (consecutive
    breaching periods before an alarm fires) and period_seconds (a multiple of 60).
  EOT
  default     = {}
  nullable    = false

  validation {
    condition     = var.alarm_thresholds.running_tasks_min_ratio > 0 && var.alarm_thresholds.running_tasks_min_ratio <= 1
    error_message = "The alarm_thresholds.running_tasks_min_ratio must be greater than 0 and at most 1 (1.0 alarms when any desired task is missing)."
  }

  validation {
    condition     = var.alarm_thresholds.unhealthy_targets >= 0 && floor(var.alarm_thresholds.unhealthy_targets) == var.alarm_thresholds.unhealthy_targets
    error_message = "The alarm_thresholds.unhealthy_targets must be a whole number of at least 0."
  }

  validation {
    condition     = var.alarm_thresholds.http_5xx_rate_percent > 0 && var.alarm_thresholds.http_5xx_rate_percent <= 100
    error_message = "The alarm_thresholds.http_5xx_rate_percent must be a percentage greater than 0 and at most 100."
  }

  validation {
    condition     = var.alarm_thresholds.evaluation_periods >= 1 && floor(var.alarm_thresholds.evaluation_periods) == var.alarm_thresholds.evaluation_periods
    error_message = "The alarm_thresholds.evaluation_periods must be a whole number of at least 1."
  }

  # ECS, Container Insights and load balancer metrics have one-minute
  # resolution; CloudWatch caps an alarm's evaluation range at one day.
  validation {
    condition     = var.alarm_thresholds.period_seconds >= 60 && var.alarm_thresholds.period_seconds % 60 == 0
    error_message = "The alarm_thresholds.period_seconds must be a multiple of 60 (the metrics have one-minute resolution)."
  }

  validation {
    condition     = var.alarm_thresholds.period_seconds * var.alarm_thresholds.evaluation_periods <= 86400
    error_message = "The alarm_thresholds.period_seconds times evaluation_periods must be at most 86400 (CloudWatch evaluates at most one day)."
  }
}

variable "codedeploy_application_name" {
  type        = string
  description = "Name of the CodeDeploy application whose failed or stopped deployments are sent to the notifications topic (an EventBridge rule); null for none."
  default     = null

  validation {
    condition     = var.codedeploy_application_name == null || can(regex("^[A-Za-z0-9_.+-]{1,100}$", var.codedeploy_application_name))
    error_message = "The codedeploy_application_name must be null or a CodeDeploy application name of 1 to 100 letters, digits, periods, underscores, plus signs and hyphens."
  }
}

variable "pipeline_name" {
  type        = string
  description = "Name of the CodePipeline pipeline whose execution results (FAILED, SUCCEEDED, STOPPED, SUPERSEDED) are sent to the notifications topic, whose execution duration and failed executions (AWS/CodePipeline, V2 pipelines) are charted on the dashboard, and, with enable_approvals_topic, whose failures and pending manual approvals are sent to the approvals topic; null for none."
  default     = null

  validation {
    condition     = var.pipeline_name == null || can(regex("^[A-Za-z0-9.@_-]{1,100}$", var.pipeline_name))
    error_message = "The pipeline_name must be null or a CodePipeline name of 1 to 100 letters, digits, periods, at signs, underscores and hyphens."
  }
}

variable "build_project_names" {
  type        = list(string)
  description = "CodeBuild projects charted on the dashboard (builds, failed builds, duration)."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for name in var.build_project_names : can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$", name))])
    error_message = "Each entry of build_project_names must be a CodeBuild project name: 2 to 255 letters, digits, underscores and hyphens, starting with a letter or digit."
  }
}
