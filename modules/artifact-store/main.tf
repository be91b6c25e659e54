data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition

  # Account roots of the runtime accounts: IAM policies there decide which
  # roles (the deploy roles) may use what this store grants their account.
  deployment_account_roots = [for id in var.deployment_account_ids : "arn:${local.partition}:iam::${id}:root"]

  # The bucket name carries the region: CodePipeline needs one artifact store
  # per region it deploys to, and bucket names are global.
  bucket_name = "${var.name_prefix}-artifacts-${local.region}"
}

# --- Bucket ------------------------------------------------------------------

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Short-lived build outputs read only by the pipeline and the deploy roles this policy names; object-level auditing, where required, is CloudTrail S3 data events, not a log bucket per region.
  #checkov:skip=CKV_AWS_144:Not replicated on purpose: every region has its own artifact store (CodePipeline needs one per region) and artifacts are rebuilt from source.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events: CodePipeline tracks its own artifacts.
  bucket = local.bucket_name

  tags = { Name = local.bucket_name }
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced" # ACLs off: objects the deployment accounts write belong to this account
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled" # CodePipeline reads artifacts by version
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.key.key_arn
    }
    bucket_key_enabled = true # one data key per bucket, not one KMS call per object
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-artifacts"
    status = "Enabled"

    filter {}

    expiration {
      days = var.artifact_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Rules apply to versions written after versioning is on.
  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        # The only wildcard action in the module, and a Deny: no S3 action of
        # any kind over plain HTTP.
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      }],
      length(local.deployment_account_roots) > 0 ? [
        {
          Sid       = "DeploymentAccountsBucket"
          Effect    = "Allow"
          Principal = { AWS = local.deployment_account_roots }
          Action = [
            "s3:GetBucketLocation",
            "s3:GetBucketVersioning",
            "s3:ListBucket",
          ]
          Resource = aws_s3_bucket.this.arn
        },
        {
          Sid       = "DeploymentAccountsObjects"
          Effect    = "Allow"
          Principal = { AWS = local.deployment_account_roots }
          Action = [
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:PutObject",
          ]
          Resource = "${aws_s3_bucket.this.arn}/*"
        },
      ] : [],
    )
  })

  # S3 rejects concurrent changes to a bucket's policy and its public access
  # block ("conflicting conditional operation").
  depends_on = [aws_s3_bucket_public_access_block.this]
}
