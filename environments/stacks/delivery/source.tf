# --- The pipeline's S3 source (pipeline.source: S3) ------------------------------------
#
# With an S3 source the pipeline takes the monorepo from one zip in a versioned bucket
# (CodePipeline's S3 source action reads an object version; `deployer release --source`
# uploads it). The bucket is the delivery account's, encrypted with the artifact store's
# key (the pipeline's role already uses it), TLS only, no public access; old versions
# stay 30 days for a look back. With the default CodeCommit source none of this exists.

locals {
  s3_source = var.pipeline.source == "S3"
}

resource "aws_s3_bucket" "source" {
  #checkov:skip=CKV_AWS_18:The source zip is written by deployer release and read by the pipeline only; object-level auditing, where required, is CloudTrail S3 data events, not a log bucket.
  #checkov:skip=CKV_AWS_144:Not replicated: the monorepo's own repository is the source of truth, this is its latest upload.
  #checkov:skip=CKV2_AWS_62:The pipeline polls the object's versions; nothing consumes its events.
  count  = local.s3_source ? 1 : 0
  bucket = local.delivery.source_bucket

  tags = { Name = local.delivery.source_bucket }
}

resource "aws_s3_bucket_ownership_controls" "source" {
  count  = local.s3_source ? 1 : 0
  bucket = aws_s3_bucket.source[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "source" {
  count  = local.s3_source ? 1 : 0
  bucket = aws_s3_bucket.source[0].id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "source" {
  count  = local.s3_source ? 1 : 0
  bucket = aws_s3_bucket.source[0].id

  versioning_configuration {
    status = "Enabled" # CodePipeline's S3 source reads an object version
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "source" {
  count  = local.s3_source ? 1 : 0
  bucket = aws_s3_bucket.source[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.artifacts.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "source" {
  count  = local.s3_source ? 1 : 0
  bucket = aws_s3_bucket.source[0].id

  rule {
    id     = "expire-old-uploads"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.source]
}

resource "aws_s3_bucket_policy" "source" {
  count  = local.s3_source ? 1 : 0
  bucket = aws_s3_bucket.source[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.source[0].arn, "${aws_s3_bucket.source[0].arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.source]
}
