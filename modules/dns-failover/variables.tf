variable "name_prefix" {
  type        = string
  description = "Prefix of names, in the form {company}-{service}-{environment} (for example acme-shop-prod): the health check's Name tag."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.name_prefix))
    error_message = "The name_prefix must contain only lowercase letters, digits and single hyphens, start with a letter and not end with a hyphen."
  }
}

variable "microservice_name" {
  type        = string
  description = "The microservice (api-service): its name is <microservice_name>.<zone_name>."

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.microservice_name))
    error_message = "The microservice_name must be a DNS label: 1 to 63 lowercase letters, digits or hyphens, neither first nor last a hyphen."
  }
}

variable "region" {
  type        = string
  description = "The region of the load balancer: the record's set identifier (this module's provider is the zone's, whose region says nothing)."

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "The region must be an AWS region name, such as us-east-1."
  }
}

variable "zone_id" {
  type        = string
  description = "ID of the public hosted zone the name goes in (found by the caller through the zone account's provider)."

  validation {
    condition     = can(regex("^[A-Z0-9]{1,32}$", var.zone_id))
    error_message = "The zone_id must be a Route 53 hosted zone ID (up to 32 capital letters and digits), without the /hostedzone/ prefix."
  }
}

variable "zone_name" {
  type        = string
  description = "Name of that zone (example.com), lower case and without the trailing dot."

  validation {
    condition = length(split(".", var.zone_name)) >= 2 && alltrue([
      for label in split(".", var.zone_name) : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", label))
    ])
    error_message = "The zone_name must be a lower-case domain name of two labels at the least, without the trailing dot (such as example.com)."
  }

  # ACM: "The first domain name you enter cannot exceed 64 octets, including periods."
  validation {
    condition     = length("${var.microservice_name}.${var.zone_name}") <= 64
    error_message = "The name <microservice_name>.<zone_name> must be at most 64 characters, ACM's limit for a certificate's domain name: shorten the zone name."
  }
}

variable "failover" {
  type        = string
  description = "The record's failover role: PRIMARY in the environment's first region, SECONDARY in its disaster-recovery region."

  validation {
    condition     = contains(["PRIMARY", "SECONDARY"], var.failover)
    error_message = "The failover must be PRIMARY or SECONDARY."
  }
}

variable "load_balancer" {
  type = object({
    dns_name = string
    zone_id  = string
  })
  description = "The region's load balancer of the microservice: its DNS name (the alias target, and where the health check connects) and its canonical hosted zone ID."
}

variable "health_check_path" {
  type        = string
  description = "Path the Route 53 health check requests over HTTPS on port 443 (the microservice's health path)."

  validation {
    condition     = can(regex("^/[\\w./-]*$", var.health_check_path)) && length(var.health_check_path) <= 255
    error_message = "The health_check_path must be an absolute URL path of at most 255 characters (Route 53's ResourcePath)."
  }
}

variable "health_check" {
  type = object({
    request_interval_seconds = optional(number, 30)
    failure_threshold        = optional(number, 3)
  })
  description = "How often Route 53's checkers request the health path (10 or 30 seconds) and how many results in a row change the status (1 to 10)."
  default     = {}
  nullable    = false

  validation {
    condition     = contains([10, 30], var.health_check.request_interval_seconds)
    error_message = "The health_check.request_interval_seconds must be 10 or 30 (Route 53's fast and standard intervals)."
  }

  validation {
    condition     = var.health_check.failure_threshold >= 1 && var.health_check.failure_threshold <= 10 && floor(var.health_check.failure_threshold) == var.health_check.failure_threshold
    error_message = "The health_check.failure_threshold must be a whole number from 1 to 10."
  }
}

variable "traffic_switch_alarm" {
  type = object({
    name   = string
    region = string
  })
  description = "The environment's traffic switch (PRIMARY only): the CloudWatch alarm, in this module's account (the zone's) and the DR region, whose ALARM state sends users to the SECONDARY whatever the endpoint's health. null: the endpoint's health check alone decides."
  default     = null

  validation {
    condition     = var.traffic_switch_alarm == null || var.failover == "PRIMARY"
    error_message = "The traffic_switch_alarm is for the PRIMARY record only: the switch moves users off the primary region."
  }

  validation {
    condition = var.traffic_switch_alarm == null || try(
      can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.traffic_switch_alarm.region)) &&
      length(var.traffic_switch_alarm.name) >= 1 && length(var.traffic_switch_alarm.name) <= 255,
      false
    )
    error_message = "The traffic_switch_alarm must name an alarm (1 to 255 characters) and the AWS region it is in, such as us-west-2."
  }
}
