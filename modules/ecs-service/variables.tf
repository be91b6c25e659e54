# --- Required ----------------------------------------------------------------

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, in the form {company}-{service}-{environment} (for example acme-shop-prod)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix)) && !startswith(var.name_prefix, "sg-") && !startswith(var.name_prefix, "internal-")
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter, not end with a hyphen, and not start with \"sg-\" (reserved for security group IDs) or \"internal-\" (reserved for load balancer names)."
  }
}

variable "microservice" {
  type = object({
    name              = string
    short_name        = string
    port              = number
    health_check_path = string
  })
  description = "The microservice: name (api-service; ECS service, task family, deployment group, log group), short_name (api, at most 12 characters; load balancer, target groups, IAM roles), the container port and the HTTP path of the load balancer's health check."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.microservice.name)) && length(var.microservice.name) <= 64
    error_message = "The microservice.name must be at most 64 lowercase letters, digits and single hyphens, starting with a letter."
  }

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.microservice.short_name)) && length(var.microservice.short_name) <= 12
    error_message = "The microservice.short_name must be at most 12 lowercase letters, digits and single hyphens, starting with a letter."
  }

  validation {
    condition     = var.microservice.port >= 1 && var.microservice.port <= 65535 && floor(var.microservice.port) == var.microservice.port
    error_message = "The microservice.port must be a whole number from 1 to 65535."
  }

  validation {
    condition     = can(regex("^/[A-Za-z0-9._~/%=-]*$", var.microservice.health_check_path)) && length(var.microservice.health_check_path) <= 1024
    error_message = "The microservice.health_check_path must be a URL path starting with '/' (at most 1024 characters, no query string or spaces)."
  }

  # Load balancer and target group names are capped at 32 characters; the
  # longest is the green target group, "<name_prefix>-<short_name>-green".
  validation {
    condition     = length("${var.name_prefix}-${var.microservice.short_name}-green") <= 32 && length("${var.name_prefix}-${var.microservice.short_name}-alb") <= 32
    error_message = "The name_prefix and microservice.short_name are too long together: the load balancer \"<name_prefix>-<short_name>-alb\" and the target groups \"<name_prefix>-<short_name>-blue\"/\"-green\" must be at most 32 characters (name_prefix + short_name at most 25)."
  }
}

variable "health_check" {
  type = object({
    interval_seconds             = optional(number, 15)
    timeout_seconds              = optional(number, 5)
    healthy_threshold            = optional(number, 2)
    unhealthy_threshold          = optional(number, 3)
    deregistration_delay_seconds = optional(number, 30)
  })
  description = "The target groups' health checks (of var.microservice.health_check_path) and deregistration delay, within AWS's limits for an ALB's HTTP target group."
  default     = {}
  nullable    = false

  validation {
    condition     = floor(var.health_check.interval_seconds) == var.health_check.interval_seconds && var.health_check.interval_seconds >= 5 && var.health_check.interval_seconds <= 300
    error_message = "The health_check.interval_seconds must be a whole number from 5 to 300."
  }

  validation {
    condition     = floor(var.health_check.timeout_seconds) == var.health_check.timeout_seconds && var.health_check.timeout_seconds >= 2 && var.health_check.timeout_seconds <= 120
    error_message = "The health_check.timeout_seconds must be a whole number from 2 to 120."
  }

  validation {
    condition     = var.health_check.timeout_seconds < var.health_check.interval_seconds
    error_message = "The health_check.timeout_seconds must be less than health_check.interval_seconds."
  }

  validation {
    condition     = alltrue([for t in [var.health_check.healthy_threshold, var.health_check.unhealthy_threshold] : floor(t) == t && t >= 2 && t <= 10])
    error_message = "The health_check.healthy_threshold and unhealthy_threshold must be whole numbers from 2 to 10."
  }

  validation {
    condition     = floor(var.health_check.deregistration_delay_seconds) == var.health_check.deregistration_delay_seconds && var.health_check.deregistration_delay_seconds >= 0 && var.health_check.deregistration_delay_seconds <= 3600
    error_message = "The health_check.deregistration_delay_seconds must be a whole number from 0 to 3600."
  }
}

variable "vpc_id" {
  type        = string
  description = "ID of the VPC (the network module's vpc_id)."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "The vpc_id must be a VPC ID such as vpc-0a1b2c3d."
  }
}

variable "public_subnet_ids" {
  type        = list(string)
  description = "Public subnets of the load balancer, in at least two availability zones."

  validation {
    condition     = length(var.public_subnet_ids) >= 2 && alltrue([for s in var.public_subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "The public_subnet_ids must list at least two subnet IDs (subnet-...): an Application Load Balancer needs two availability zones."
  }
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets of the Fargate tasks."

  validation {
    condition     = length(var.private_subnet_ids) >= 1 && alltrue([for s in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "The private_subnet_ids must list at least one subnet ID (subnet-...)."
  }
}

variable "cluster_arn" {
  type        = string
  description = "ARN of the ECS cluster (the ecs-cluster module's cluster_arn)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]+$", var.cluster_arn))
    error_message = "The cluster_arn must be an ECS cluster ARN (arn:aws:ecs:<region>:<account>:cluster/<name>)."
  }
}

variable "cluster_name" {
  type        = string
  description = "Name of the same ECS cluster (the ecs-cluster module's cluster_name): CodeDeploy and Application Auto Scaling address the service by cluster name."

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.cluster_name))
    error_message = "The cluster_name must be an ECS cluster name (letters, digits, hyphens and underscores), not an ARN."
  }
}

variable "codedeploy_app_name" {
  type        = string
  description = "Name of the CodeDeploy application (ECS compute platform) the deployment group belongs to."

  validation {
    condition     = length(var.codedeploy_app_name) >= 1 && length(var.codedeploy_app_name) <= 100
    error_message = "The codedeploy_app_name must be 1 to 100 characters long."
  }
}

variable "codedeploy_service_role_arn" {
  type        = string
  description = "ARN of the CodeDeploy service role (the ecs-cluster module's codedeploy_service_role_arn)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.codedeploy_service_role_arn))
    error_message = "The codedeploy_service_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "container_image" {
  type        = string
  description = "Image of the baseline task definition revision Terraform registers. Later revisions come from the pipeline (CodeDeploy)."

  validation {
    condition     = length(trimspace(var.container_image)) > 0
    error_message = "The container_image must not be empty."
  }
}

variable "cpu" {
  type        = number
  description = "Task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384."

  validation {
    condition     = contains(keys(local.fargate_memory_by_cpu), tostring(var.cpu))
    error_message = "The cpu must be one of Fargate's CPU sizes: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "memory" {
  type        = number
  description = "Task memory in MiB, a size Fargate allows for the cpu (see the task-definition module)."

  validation {
    condition     = contains(lookup(local.fargate_memory_by_cpu, tostring(var.cpu), []), var.memory)
    error_message = "The memory must be a size Fargate allows for the cpu: 256 CPU takes 512, 1024 or 2048 MiB; 512 takes 1024-4096; 1024 takes 2048-8192; 2048 takes 4096-16384 (steps of 1024); 4096 takes 8192-30720 (steps of 1024); 8192 takes 16384-61440 (steps of 4096); 16384 takes 32768-122880 (steps of 8192)."
  }
}

# --- Optional ----------------------------------------------------------------

variable "desired_count" {
  type        = number
  description = "Number of tasks of the service."
  default     = 2
  nullable    = false

  validation {
    condition     = var.desired_count >= 0 && floor(var.desired_count) == var.desired_count
    error_message = "The desired_count must be a whole number, 0 or more."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the tasks' log group, in days."
  default     = 30
  nullable    = false

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a value CloudWatch Logs accepts: 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_kms_key_arn" {
  type        = string
  description = "ARN of a KMS key to encrypt the tasks' log group with (its key policy must allow logs.<region>.amazonaws.com); null uses CloudWatch Logs' own encryption."
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.log_kms_key_arn))
    error_message = "The log_kms_key_arn must be null or the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>), not a key ID or an alias."
  }
}

variable "deployment_alarm_names" {
  type        = list(string)
  description = "Names of CloudWatch alarms that stop and roll back a deployment when they go off (CodeDeploy takes up to 10)."
  default     = []
  nullable    = false

  validation {
    condition     = length(var.deployment_alarm_names) <= 10
    error_message = "The deployment_alarm_names may list at most 10 alarms (CodeDeploy's limit per deployment group)."
  }
}

variable "secrets" {
  type        = map(string)
  description = "Secrets injected as environment variables, name => SSM parameter ARN. Reading them needs a policy in execution_role_policy_arns."
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for arn in values(var.secrets) : can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$", arn))])
    error_message = "Each value of secrets must be the ARN of an SSM parameter (arn:aws:ssm:<region>:<account>:parameter/<name>)."
  }
}

variable "environment_variables" {
  type        = map(string)
  description = "Plain environment variables of the container, name => value."
  default     = {}
  nullable    = false
}

variable "execution_role_policy_arns" {
  type        = list(string)
  description = "ARNs of extra managed policies to attach to the execution role (for example the policy that reads the service's SSM parameters)."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.execution_role_policy_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", arn))])
    error_message = "Each entry of execution_role_policy_arns must be an IAM policy ARN (arn:aws:iam::<account or aws>:policy/<name>)."
  }
}

variable "ecr_repository_arns" {
  type        = list(string)
  description = "ARNs of the ECR repositories the execution role may pull from (for example the delivery account's repository of this microservice). Empty: no ECR permissions (public images)."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.ecr_repository_arns : can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", arn))])
    error_message = "Each entry of ecr_repository_arns must be an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>)."
  }
}

variable "ingress_cidr_blocks" {
  type        = list(string)
  description = "IPv4 CIDR blocks allowed to reach the load balancer's two listener ports."
  default     = ["0.0.0.0/0"]
  nullable    = false

  validation {
    condition = length(var.ingress_cidr_blocks) >= 1 && alltrue([
      for cidr in var.ingress_cidr_blocks :
      can(regex("^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$", cidr)) && try(cidrsubnet(cidr, 0, 0) == cidr, false)
    ])
    error_message = "The ingress_cidr_blocks must list at least one IPv4 CIDR block written with its network address (such as 10.0.0.0/8 or 0.0.0.0/0)."
  }
}

variable "production_listener_port" {
  type        = number
  description = "Port of the production listener. null: 443 with certificate_arn (HTTPS), 80 without (HTTP)."
  default     = null

  validation {
    condition     = var.production_listener_port == null || try(var.production_listener_port >= 1 && var.production_listener_port <= 65535 && floor(var.production_listener_port) == var.production_listener_port, false)
    error_message = "The production_listener_port must be null or a whole number from 1 to 65535."
  }
}

variable "test_listener_port" {
  type        = number
  description = "Port of the test listener, which CodeDeploy points at the replacement tasks before it shifts production traffic."
  default     = 8080
  nullable    = false

  validation {
    condition     = var.test_listener_port >= 1 && var.test_listener_port <= 65535 && floor(var.test_listener_port) == var.test_listener_port
    error_message = "The test_listener_port must be a whole number from 1 to 65535."
  }

  validation {
    condition     = var.test_listener_port != coalesce(var.production_listener_port, var.certificate_arn == null ? 80 : 443)
    error_message = "The test_listener_port must differ from the production listener's port."
  }
}

variable "certificate_arn" {
  type        = string
  description = "ARN of an ACM certificate. Given: both listeners are HTTPS (TLS 1.2+). null: both are HTTP (for the local emulator or behind another TLS terminator)."
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[a-zA-Z0-9-]+$", var.certificate_arn))
    error_message = "The certificate_arn must be null or an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)."
  }
}

variable "enable_https" {
  type        = bool
  description = "Whether both listeners are HTTPS with certificate_arn. null: whether certificate_arn is given. Set it when the certificate is made in the same plan (its ARN unknown until apply), so that the listeners, the redirect and their ingress rules can be counted at plan time."
  default     = null

  validation {
    condition     = var.enable_https != true || var.certificate_arn != null
    error_message = "The enable_https needs certificate_arn: HTTPS listeners serve that certificate."
  }
}

variable "enable_http_redirect" {
  type        = bool
  description = "With HTTPS listeners: an HTTP listener on port 80 answers every request with a 301 to the same URL over HTTPS on the production listener. Without HTTPS it has no effect."
  default     = false
  nullable    = false

  validation {
    condition     = !(var.enable_http_redirect && var.certificate_arn != null) || (coalesce(var.production_listener_port, 443) != 80 && var.test_listener_port != 80)
    error_message = "The enable_http_redirect listener takes port 80: with certificate_arn, move the production and test listeners off port 80 or set enable_http_redirect to false."
  }
}

variable "deployment_config_name" {
  type        = string
  description = "CodeDeploy deployment configuration: a predefined ECS one (CodeDeployDefault.ECSAllAtOnce, ECSLinear10PercentEvery1Minutes, ECSLinear10PercentEvery3Minutes, ECSCanary10Percent5Minutes, ECSCanary10Percent15Minutes) or the name of a custom ECS configuration."
  default     = "CodeDeployDefault.ECSAllAtOnce"
  nullable    = false

  validation {
    condition = startswith(var.deployment_config_name, "CodeDeployDefault.") ? contains([
      "CodeDeployDefault.ECSAllAtOnce",
      "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
      "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
      "CodeDeployDefault.ECSCanary10Percent5Minutes",
      "CodeDeployDefault.ECSCanary10Percent15Minutes",
    ], var.deployment_config_name) : can(regex("^[A-Za-z0-9._-]{1,100}$", var.deployment_config_name))
    error_message = "The deployment_config_name must be one of CodeDeploy's ECS configurations (CodeDeployDefault.ECSAllAtOnce, .ECSLinear10PercentEvery1Minutes, .ECSLinear10PercentEvery3Minutes, .ECSCanary10Percent5Minutes, .ECSCanary10Percent15Minutes) or a custom configuration name; the EC2/Lambda ones do not apply to ECS."
  }
}

variable "termination_wait_minutes" {
  type        = number
  description = "Minutes CodeDeploy keeps the original (blue) tasks after traffic has moved, for a fast rollback."
  default     = 5
  nullable    = false

  validation {
    condition     = var.termination_wait_minutes >= 0 && var.termination_wait_minutes <= 2880 && floor(var.termination_wait_minutes) == var.termination_wait_minutes
    error_message = "The termination_wait_minutes must be a whole number from 0 to 2880 (two days, CodeDeploy's maximum)."
  }
}

variable "enable_autoscaling" {
  type        = bool
  description = "Whether to scale the service's task count on CPU (Application Auto Scaling target tracking)."
  default     = false
  nullable    = false
}

variable "autoscaling" {
  type = object({
    min_capacity = optional(number, 2)
    max_capacity = optional(number, 6)
    cpu_target   = optional(number, 60)
  })
  description = "Autoscaling settings, used when enable_autoscaling is true: min_capacity and max_capacity (task counts), cpu_target (average CPU utilisation in percent to keep)."
  default     = {}
  nullable    = false

  validation {
    condition     = var.autoscaling.min_capacity >= 1 && var.autoscaling.min_capacity <= var.autoscaling.max_capacity
    error_message = "The autoscaling.min_capacity must be at least 1 and at most autoscaling.max_capacity."
  }

  validation {
    condition     = var.autoscaling.cpu_target > 0 && var.autoscaling.cpu_target <= 100
    error_message = "The autoscaling.cpu_target must be a CPU utilisation percentage above 0 and at most 100."
  }
}

variable "enable_deletion_protection" {
  type        = bool
  description = "Whether the load balancer is protected from deletion (turn on in production)."
  default     = false
  nullable    = false
}
