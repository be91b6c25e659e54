# The role CI plans and drift checks run as in one account and region: the
# delivery account's CI plan role (modules/ci-identity) assumes it, and it may
# only read the configuration of what the stacks manage, never data.
#
# A pull request controls the workflow that plans it, so whatever the plan role
# can reach, the pull request can reach. That is why the plan role assumes no
# deploy role (a session policy cannot be enforced on it) and assumes this one:
# its own policy is the limit, whoever assumes it.

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
  # Given, not read: the documents are known at plan time (and printed the same
  # by `deployer iam-policy read`).
  account_id = var.account_id

  # IAM is global: the region keeps the name unique when the same prefix is
  # deployed to several regions of one account (prod and its DR region).
  role_name = "${var.name_prefix}-ci-read-${local.region}"

  # One list, by resource type, shared with deployer/iam_policies.py.
  actions             = jsondecode(file("${path.module}/actions.json"))
  all_actions         = sort(distinct(flatten(values(local.actions.types))))
  no_resource_level   = sort(local.actions.no_resource_level)
  with_resource_level = sort(setsubtract(local.all_actions, local.no_resource_level))

  # The actions that take a resource are held to this account (any region:
  # the delivery account's stack spans its DR region) and, for S3, whose ARNs
  # carry no account, to the project's bucket names.
  account_resources = [
    for r in local.actions.resources : "arn:${local.partition}:${replace(replace(r, "{account}", local.account_id), "{bucket_prefix}", var.bucket_name_prefix)}"
  ]

  policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadConfiguration"
        Effect   = "Allow"
        Action   = local.with_resource_level
        Resource = local.account_resources
      },
      {
        # These APIs have no resource-level permissions: AWS authorizes them on "*" only.
        Sid      = "DescribeConfiguration"
        Effect   = "Allow"
        Action   = local.no_resource_level
        Resource = "*"
      },
    ]
  }
}

resource "aws_iam_role" "this" {
  name                 = local.role_name
  description          = "CI plans and drift checks (${local.region}): reads the configuration of what the deployer's stacks manage, no data."
  max_session_duration = 3600

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CiPlanRole"
      Effect    = "Allow"
      Principal = { AWS = var.trusted_role_arns }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = { Name = local.role_name }
}

resource "aws_iam_role_policy" "read" {
  name   = "read-configuration"
  role   = aws_iam_role.this.id
  policy = jsonencode(local.policy)
}
