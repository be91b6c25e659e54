# --- Required ----------------------------------------------------------------

variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, in the form {company}-{service}-{environment} (for example acme-orders-prod)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix)) && !startswith(var.name_prefix, "sg-")
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter, not end with a hyphen, and not start with \"sg-\" (reserved for security group IDs)."
  }

  # The longest name built from the prefix is the flow logs IAM role,
  # "<name_prefix>-flow-logs-<region>": IAM role names are at most 64
  # characters and region names at most 14, which leaves 39 for the prefix.
  validation {
    condition     = length(var.name_prefix) <= 39
    error_message = "The name_prefix must be at most 39 characters long so that the longest name built from it (the flow logs IAM role, which includes the region) fits the 64-character IAM limit."
  }
}

variable "cidr_block" {
  type        = string
  description = "IPv4 CIDR block of the VPC, from /16 to /23 (for example 10.40.0.0/16). Three quarters go to the private subnets, three sixteenths to the public subnets."

  validation {
    condition = (
      can(regex("^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$", var.cidr_block))
      && can(cidrnetmask(var.cidr_block))
      && try(cidrsubnet(var.cidr_block, 0, 0) == var.cidr_block, false)
    )
    error_message = "The cidr_block must be an IPv4 CIDR block written with its network address, such as 10.40.0.0/16 (not 10.40.1.0/16)."
  }

  # /16 is the largest VPC AWS allows; below /23 the public subnets would be
  # smaller than the /27 an Application Load Balancer needs.
  validation {
    condition = try(
      !can(cidrnetmask(var.cidr_block)) || (tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 23),
      true,
    )
    error_message = "The cidr_block prefix length must be between /16 and /23 so that the three public subnets are at least /27, the minimum for a load balancer."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "Exactly three distinct availability zone names of the provider's region (for example [\"us-east-1a\", \"us-east-1b\", \"us-east-1c\"]). One public and one private subnet is created in each."

  validation {
    condition     = length(var.availability_zones) == 3
    error_message = "The availability_zones list must name exactly three availability zones."
  }

  validation {
    condition     = length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "The availability_zones list must not name the same availability zone twice."
  }

  validation {
    condition     = alltrue([for az in var.availability_zones : can(regex("^[a-z]+(-[a-z]+)+-[0-9]+[a-z]$", az))])
    error_message = "Each entry of availability_zones must be an availability zone name such as us-east-1a (not a zone ID such as use1-az1, a region, or a Local Zone)."
  }

  validation {
    condition     = length(distinct([for az in var.availability_zones : try(substr(az, 0, length(az) - 1), az)])) <= 1
    error_message = "All availability_zones must be in the same region."
  }
}

# --- Optional ----------------------------------------------------------------

variable "nat_gateway_mode" {
  type        = string
  description = "NAT gateways for the private subnets: \"per_az\" (one per availability zone, survives the loss of a zone; use in production) or \"single\" (one shared gateway in the first zone; cheaper, for non-production)."
  default     = "per_az"
  nullable    = false

  validation {
    condition     = contains(["single", "per_az"], var.nat_gateway_mode)
    error_message = "The nat_gateway_mode must be either \"single\" or \"per_az\"."
  }
}

variable "vpc_endpoints" {
  type = object({
    enable_s3          = optional(bool, true)
    enable_ecr         = optional(bool, true)
    enable_logs        = optional(bool, true)
    enable_ssm         = optional(bool, true)
    enable_ssmmessages = optional(bool, false)
  })
  description = <<-EOT
    VPC endpoints that keep task traffic to AWS services off the internet:
    enable_s3 (gateway endpoint on the private route tables; ECR image layers are served from S3),
    enable_ecr (interface endpoints ecr.api and ecr.dkr), enable_logs (CloudWatch Logs),
    enable_ssm (SSM Parameter Store) and enable_ssmmessages (ECS Exec). Interface endpoints
    are placed in the private subnets with private DNS enabled.
  EOT
  default     = {}
  nullable    = false
}

variable "enable_flow_logs" {
  type        = bool
  description = "Whether to record VPC flow logs to a CloudWatch Logs log group (with an IAM role for the flow logs service)."
  default     = true
  nullable    = false
}

variable "flow_logs" {
  type = object({
    traffic_type      = optional(string, "REJECT")
    retention_in_days = optional(number, 365)
    kms_key_arn       = optional(string)
  })
  description = <<-EOT
    Flow log settings, used when enable_flow_logs is true: traffic_type (ACCEPT, REJECT or ALL;
    REJECT by default to keep ingestion cheap), retention_in_days of the log group, and
    kms_key_arn, the ARN of a KMS key to encrypt the log group with (its key policy must allow
    the logs.<region>.amazonaws.com service principal); null uses CloudWatch Logs' own encryption.
  EOT
  default     = {}
  nullable    = false

  validation {
    condition     = contains(["ACCEPT", "REJECT", "ALL"], var.flow_logs.traffic_type)
    error_message = "The flow_logs.traffic_type must be one of ACCEPT, REJECT or ALL."
  }

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_logs.retention_in_days)
    error_message = "The flow_logs.retention_in_days must be a value CloudWatch Logs accepts: 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }

  validation {
    condition     = var.flow_logs.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.flow_logs.kms_key_arn))
    error_message = "The flow_logs.kms_key_arn must be null or the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>), not a key ID or an alias."
  }
}
