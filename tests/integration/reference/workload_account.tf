# Resources in the workload account, created through the aliased provider that
# assumes a role there: the role the pipeline assumes to deploy, and the
# bucket the workload's deployment artifacts are copied to.

data "aws_caller_identity" "workload" {
  provider = aws.workload
}

data "aws_iam_policy_document" "workload_deploy_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.pipeline.arn]
    }
  }
}

resource "aws_iam_role" "workload_deploy" {
  provider = aws.workload

  name               = "${var.name}-deploy-from-tooling"
  assume_role_policy = data.aws_iam_policy_document.workload_deploy_trust.json
}

resource "aws_s3_bucket" "workload_artifacts" {
  provider = aws.workload

  bucket        = "${var.name}-${data.aws_caller_identity.workload.account_id}-deploy-artifacts"
  force_destroy = true
}

resource "aws_ssm_parameter" "workload_tooling_account" {
  provider = aws.workload

  name  = "/${var.name}/tooling-account-id"
  type  = "String"
  value = local.account_id
}
