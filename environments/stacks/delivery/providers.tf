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

  s3_use_path_style           = var.provider_settings.s3_use_path_style
  skip_credentials_validation = var.provider_settings.skip_credentials_validation
  skip_metadata_api_check     = var.provider_settings.skip_metadata_api_check
  max_retries                 = var.provider_settings.max_retries

  default_tags {
    tags = local.tags
  }
}

# The disaster-recovery region: an artifact store for the pipeline's DR deploy
# actions and the ECR repositories images are replicated to. Without a DR
# region it points at the primary region and nothing uses it.
provider "aws" {
  alias               = "dr"
  region              = coalesce(var.dr_region, var.region)
  allowed_account_ids = [var.account_id]

  dynamic "assume_role" {
    for_each = var.assume_role_arn == null ? [] : [var.assume_role_arn]
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
