data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  # Short name ("api-service") => repository name.
  repository_names = { for name in var.repository_names : name => "${var.name_prefix}-${name}" }

  # Evaluated by ECR in rulePriority order; a tagStatus "any" rule must have
  # the highest priority number.
  lifecycle_policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images ${var.untagged_image_expiry_days} days after push"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.untagged_image_expiry_days
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the ${var.max_image_count} most recent images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.max_image_count
        }
        action = { type = "expire" }
      },
    ]
  })

  pull_account_roots = [for id in var.pull_account_ids : "arn:${local.partition}:iam::${id}:root"]
}

resource "aws_ecr_repository" "this" {
  for_each = local.repository_names

  name                 = each.value
  image_tag_mutability = "IMMUTABLE" # a tag always names the image that was tested
  force_delete         = var.enable_force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn # null: the AWS managed key aws/ecr
  }

  tags = { Name = each.value }

  lifecycle {
    precondition {
      condition     = var.kms_key_arn == null || try(split(":", var.kms_key_arn)[3], "") == local.region
      error_message = "The kms_key_arn must be a key in the provider's region (${local.region}): ECR only uses keys of the repository's region."
    }
  }
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each = aws_ecr_repository.this

  repository = each.value.name
  policy     = local.lifecycle_policy
}

resource "aws_ecr_repository_policy" "this" {
  for_each = length(local.pull_account_roots) > 0 ? aws_ecr_repository.this : {}

  repository = each.value.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CrossAccountPull"
      Effect    = "Allow"
      Principal = { AWS = local.pull_account_roots }
      Action = [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
      ]
    }]
  })
}

# One per registry and region: only the primary instance sets
# replication_regions. The prefix filter matches every repository of this
# module (and of any other instance with the same name_prefix).
resource "aws_ecr_replication_configuration" "this" {
  count = length(var.replication_regions) > 0 ? 1 : 0

  replication_configuration {
    rule {
      dynamic "destination" {
        for_each = var.replication_regions

        content {
          region      = destination.value
          registry_id = local.account_id
        }
      }

      repository_filter {
        filter      = "${var.name_prefix}-"
        filter_type = "PREFIX_MATCH"
      }
    }
  }

  lifecycle {
    precondition {
      condition     = !contains(var.replication_regions, local.region)
      error_message = "The replication_regions must not include the provider's own region (${local.region}): ECR replicates to other regions only."
    }
  }
}
