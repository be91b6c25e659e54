# --- Required ----------------------------------------------------------------

variable "family" {
  type        = string
  description = "Task definition family ({name_prefix}-{microservice}, for example acme-shop-prod-api-service)."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.family))
    error_message = "The family must be 1 to 255 letters, digits, hyphens or underscores."
  }
}

variable "container_name" {
  type        = string
  description = "Name of the (single, essential) container; CodeDeploy's AppSpec names it as the load balancer's target."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.container_name))
    error_message = "The container_name must be 1 to 255 letters, digits, hyphens or underscores."
  }
}

variable "container_port" {
  type        = number
  description = "TCP port the container listens on (the load balancer's target port)."

  validation {
    condition     = var.container_port >= 1 && var.container_port <= 65535 && floor(var.container_port) == var.container_port
    error_message = "The container_port must be a whole number from 1 to 65535."
  }
}

variable "cpu" {
  type        = number
  description = "Task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384 (Fargate's sizes)."

  validation {
    condition     = contains(keys(local.fargate_memory_by_cpu), tostring(var.cpu))
    error_message = "The cpu must be one of Fargate's CPU sizes: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "memory" {
  type        = number
  description = "Task memory in MiB; must be a size Fargate allows for the cpu (256: 512, 1024, 2048; 512: 1024-4096; 1024: 2048-8192; 2048: 4096-16384, in steps of 1024; 4096: 8192-30720 in steps of 1024; 8192: 16384-61440 in steps of 4096; 16384: 32768-122880 in steps of 8192)."

  validation {
    condition     = contains(lookup(local.fargate_memory_by_cpu, tostring(var.cpu), []), var.memory)
    error_message = "The memory must be a size Fargate allows for the cpu: 256 CPU takes 512, 1024 or 2048 MiB; 512 takes 1024-4096; 1024 takes 2048-8192; 2048 takes 4096-16384 (steps of 1024); 4096 takes 8192-30720 (steps of 1024); 8192 takes 16384-61440 (steps of 4096); 16384 takes 32768-122880 (steps of 8192)."
  }
}

variable "execution_role_arn" {
  type        = string
  description = "ARN of the task execution role (ECS agent: image pull, log delivery, secrets)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.execution_role_arn))
    error_message = "The execution_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "task_role_arn" {
  type        = string
  description = "ARN of the task role (what the application's own AWS calls run as)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.task_role_arn))
    error_message = "The task_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "log_group_name" {
  type        = string
  description = "CloudWatch Logs log group the awslogs driver writes to (/ecs/{name_prefix}/{microservice})."

  validation {
    condition     = can(regex("^[A-Za-z0-9_/.#-]{1,512}$", var.log_group_name))
    error_message = "The log_group_name must be 1 to 512 characters of letters, digits, '_', '-', '/', '.' and '#'."
  }
}

variable "region" {
  type        = string
  description = "Region of the log group (awslogs-region), for example us-east-1."

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "The region must be an AWS region name such as us-east-1."
  }
}

# --- Optional ----------------------------------------------------------------

variable "image" {
  type        = string
  description = "Container image. The default, <IMAGE1_NAME>, is the placeholder CodePipeline's CodeDeployToECS action replaces with the image URI of the build; the runtime stack passes a real image for the baseline revision."
  default     = "<IMAGE1_NAME>"
  nullable    = false

  validation {
    condition     = length(trimspace(var.image)) > 0
    error_message = "The image must not be empty."
  }
}

variable "environment_variables" {
  type        = map(string)
  description = "Plain environment variables of the container, name => value (rendered sorted by name)."
  default     = {}
  nullable    = false
}

variable "secrets" {
  type        = map(string)
  description = "Secrets injected as environment variables, name => ARN of an SSM parameter. The execution role must be allowed ssm:GetParameters on them (and kms:Decrypt on their key)."
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for arn in values(var.secrets) : can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$", arn))])
    error_message = "Each value of secrets must be the ARN of an SSM parameter (arn:aws:ssm:<region>:<account>:parameter/<name>)."
  }
}

variable "health_check_path" {
  type        = string
  description = "HTTP path for a container health check (curl against localhost:<container_port>; the image must include curl). null: no container health check (the load balancer's health check still applies)."
  default     = null

  validation {
    # The path ends up in a shell command: allow URL path characters only.
    condition     = var.health_check_path == null || can(regex("^/[A-Za-z0-9._~/%=-]*$", var.health_check_path))
    error_message = "The health_check_path must be null or a URL path starting with '/' made of letters, digits and . _ ~ / % = - (no query string, quotes or spaces)."
  }
}
