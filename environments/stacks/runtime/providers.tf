provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  dynamic "assume_role" {
    for_each = var.assume_role_arn == null ? [] : [var.assume_role_arn]
    content {
      role_arn     = assume_role.value
      session_name = "deployer-${var.environment}"
    }
  }

  # Emulator settings (path-style S3, no credential or metadata checks, few
  # retries) arrive as variables; on AWS they are the provider defaults.
  s3_use_path_style           = var.provider_settings.s3_use_path_style
  skip_credentials_validation = var.provider_settings.skip_credentials_validation
  skip_metadata_api_check     = var.provider_settings.skip_metadata_api_check
  max_retries                 = var.provider_settings.max_retries

  default_tags {
    tags = local.tags
  }
}

# The account of the environment's zone (dns.zone; the delivery account): failover
# records, health checks and validation records. It assumes the environment's deploy
# role, then the zone's role (modules/dns-zone), which may change only this
# environment's names. Without dns it is the default provider and nothing uses it.
provider "aws" {
  alias               = "dns"
  region              = var.region
  allowed_account_ids = [var.dns == null ? var.account_id : var.dns.account_id]

  dynamic "assume_role" {
    for_each = var.dns == null ? (var.assume_role_arn == null ? [] : [var.assume_role_arn]) : var.dns.assume_role_arns
    content {
      role_arn     = assume_role.value
      session_name = "deployer-${var.environment}"
    }
  }

  s3_use_path_style           = var.provider_settings.s3_use_path_style
  skip_credentials_validation = var.provider_settings.skip_credentials_validation
  skip_metadata_api_check     = var.provider_settings.skip_metadata_api_check
  max_retries                 = var.provider_settings.max_retries

  default_tags {
    tags = local.tags
  }
}

# The zone's account again, in the environment's DR region (regions[1]): the traffic
# switch's alarm, which the primary region's workspace creates there. It must be in
# the zone's account because a Route 53 health check watches an alarm of its own
# account (AlarmIdentifier names a region and an alarm, no account), and the checks a
# record is answered on are the zone account's. Same roles as aws.dns. With one
# region, or without dns, nothing uses it.
provider "aws" {
  alias               = "dns_dr"
  region              = local.dr_region
  allowed_account_ids = [var.dns == null ? var.account_id : var.dns.account_id]

  dynamic "assume_role" {
    for_each = var.dns == null ? (var.assume_role_arn == null ? [] : [var.assume_role_arn]) : var.dns.assume_role_arns
    content {
      role_arn     = assume_role.value
      session_name = "deployer-${var.environment}"
    }
  }

  s3_use_path_style           = var.provider_settings.s3_use_path_style
  skip_credentials_validation = var.provider_settings.skip_credentials_validation
  skip_metadata_api_check     = var.provider_settings.skip_metadata_api_check
  max_retries                 = var.provider_settings.max_retries

  default_tags {
    tags = local.tags
  }
}
