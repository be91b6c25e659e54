# The identity GitHub Actions workflows run the deployer with: the account's
# GitHub OIDC provider and two roles they assume with their OIDC token
# (sts:AssumeRoleWithWebIdentity), no stored keys.
#
# - plan: pull requests and any branch. Reads state and run history, holds
#   state locks, and assumes the workspaces' read roles (modules/ci-read-role),
#   never a deploy role (see README, "Why the plan role assumes no deploy
#   role").
# - apply: the protected branch and jobs in the deployer's GitHub environments.
#   Reads and writes state and run history and assumes the environments'
#   deploy roles.

locals {
  oidc_host     = "token.actions.githubusercontent.com"
  oidc_audience = "sts.amazonaws.com"
  # Constructed, not read: it is known at plan time (so are the trust policies)
  # whether this module creates the provider or the account already has one.
  oidc_provider_arn = "arn:aws:iam::${var.account_id}:oidc-provider/${local.oidc_host}"

  plan_role_name  = "${var.name_prefix}-ci-plan"
  apply_role_name = "${var.name_prefix}-ci-apply"

  # GitHub's default sub claims: repo:OWNER/REPO:pull_request for pull request
  # events, repo:OWNER/REPO:ref:<ref> for other events, and
  # repo:OWNER/REPO:environment:<name> for a job that names an environment.
  repo = "repo:${var.github_repository}"
  plan_subjects = [
    "${local.repo}:pull_request",
    "${local.repo}:ref:refs/heads/*",
  ]
  apply_subjects = concat(
    ["${local.repo}:ref:refs/heads/${var.apply_branch}"],
    [for name in sort(keys(var.environments)) : "${local.repo}:environment:${name}"],
  )

  deploy_role_arns = sort(distinct([
    for e in values(var.environments) : e.deploy_role_arn if e.deploy_role_arn != null
  ]))

  state_bucket_arn  = "arn:aws:s3:::${var.state.bucket}"
  state_objects_arn = "${local.state_bucket_arn}/${var.state.key_prefix}/*"
  # Terraform's S3 lock file is "<state key>.tflock", next to the state.
  state_locks_arn = "${local.state_bucket_arn}/${var.state.key_prefix}/*.tflock"
  run_history_arn = "arn:aws:ssm:${var.state.region}:${var.account_id}:parameter${var.state.run_history_path}/*"

  # The state's replica in the DR region (deployer/state_replica.py): while the
  # state region does not answer, the deployer reads state there (plan) and writes
  # it there (apply with --state-replica), and keeps the run history in that
  # region's SSM. The same statements again, on the replica.
  replica             = var.state.replica
  replica_bucket_arn  = local.replica == null ? "" : "arn:aws:s3:::${local.replica.bucket}"
  replica_objects_arn = "${local.replica_bucket_arn}/${var.state.key_prefix}/*"
  replica_history_arn = local.replica == null ? "" : "arn:aws:ssm:${local.replica.region}:${var.account_id}:parameter${var.state.run_history_path}/*"
  # (A for expression: the statements' types differ, so a conditional could not
  # unify the empty tuple with them.)
  plan_replica_statements = [for statement in [
    { Sid = "ListStateReplica", Effect = "Allow", Action = "s3:ListBucket", Resource = local.replica_bucket_arn },
    { Sid = "ReadStateReplica", Effect = "Allow", Action = "s3:GetObject", Resource = local.replica_objects_arn },
    { Sid = "StateReplicaLocks", Effect = "Allow", Action = ["s3:DeleteObject", "s3:PutObject"], Resource = "${local.replica_objects_arn}.tflock" },
    { Sid = "ReadRunHistoryReplica", Effect = "Allow", Action = "ssm:GetParameter", Resource = local.replica_history_arn },
  ] : statement if local.replica != null]
  apply_replica_statements = [for statement in [
    { Sid = "ListStateReplica", Effect = "Allow", Action = "s3:ListBucket", Resource = local.replica_bucket_arn },
    { Sid = "ReadWriteStateReplica", Effect = "Allow", Action = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], Resource = local.replica_objects_arn },
    { Sid = "RunHistoryReplica", Effect = "Allow", Action = ["ssm:GetParameter", "ssm:PutParameter"], Resource = local.replica_history_arn },
  ] : statement if local.replica != null]

  # HeadBucket (the deployer's check that the state bucket exists) is authorized
  # by s3:ListBucket and carries no prefix, so the listing is not narrowed to
  # key_prefix: the bucket holds the deployer's records only, and a listing
  # shows key names, not state.
  list_state_statement = {
    Sid      = "ListState"
    Effect   = "Allow"
    Action   = "s3:ListBucket"
    Resource = local.state_bucket_arn
  }

  # The documents, in the order deployer/iam_policies.py renders them (a unit
  # test compares the two).
  plan_trust_policy = {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitHubActionsPlan"
      Effect    = "Allow"
      Principal = { Federated = local.oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = { "${local.oidc_host}:aud" = local.oidc_audience }
        StringLike   = { "${local.oidc_host}:sub" = local.plan_subjects }
      }
    }]
  }

  apply_trust_policy = {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitHubActionsApply"
      Effect    = "Allow"
      Principal = { Federated = local.oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.oidc_host}:aud" = local.oidc_audience
          "${local.oidc_host}:sub" = local.apply_subjects
        }
      }
    }]
  }

  plan_policy = {
    Version = "2012-10-17"
    Statement = concat([
      local.list_state_statement,
      {
        Sid      = "ReadState"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = local.state_objects_arn
      },
      {
        # Terraform locks the state while it plans.
        Sid      = "StateLocks"
        Effect   = "Allow"
        Action   = ["s3:DeleteObject", "s3:PutObject"]
        Resource = local.state_locks_arn
      },
      {
        Sid      = "ReadRunHistory"
        Effect   = "Allow"
        Action   = "ssm:GetParameter"
        Resource = local.run_history_arn
      },
      ],
      local.plan_replica_statements,
      length(var.read_role_arns) == 0 ? [] : [{
        # Configuration reads in each workspace's account (deployer plan --read-only).
        Sid      = "AssumeReadRoles"
        Effect   = "Allow"
        Action   = "sts:AssumeRole"
        Resource = sort(distinct(var.read_role_arns))
      }],
    )
  }

  apply_policy = {
    Version = "2012-10-17"
    Statement = concat(
      [
        local.list_state_statement,
        {
          # State, its lock files and the deployer's in-flight markers.
          Sid      = "ReadWriteState"
          Effect   = "Allow"
          Action   = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
          Resource = local.state_objects_arn
        },
        {
          Sid      = "RunHistory"
          Effect   = "Allow"
          Action   = ["ssm:GetParameter", "ssm:PutParameter"]
          Resource = local.run_history_arn
        },
      ],
      local.apply_replica_statements,
      length(local.deploy_role_arns) == 0 ? [] : [{
        Sid      = "AssumeDeployRoles"
        Effect   = "Allow"
        Action   = "sts:AssumeRole"
        Resource = local.deploy_role_arns
      }],
    )
  }
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url = "https://${local.oidc_host}"
  # AWS verifies GitHub's tokens against its library of trusted root CAs: no
  # thumbprint to pin (the provider computes one if the API returns it).
  client_id_list = [local.oidc_audience]

  tags = { Name = "github-actions" }

  lifecycle {
    postcondition {
      condition     = self.arn == local.oidc_provider_arn
      error_message = "The OIDC provider's ARN is not the one the roles trust (${local.oidc_provider_arn}): is the provider in account ${var.account_id} and the aws partition?"
    }
  }
}

resource "aws_iam_role" "plan" {
  #checkov:skip=CKV_AWS_393:checkov renders the required var.github_repository as its own name, which fails its OWNER/REPO pattern; the subjects are repo:OWNER/REPO:pull_request and :ref:refs/heads/* with OWNER/REPO validated without wildcards, asserted in tests/ci_identity.tftest.hcl
  name                 = local.plan_role_name
  description          = "GitHub Actions (${var.github_repository}, pull requests and branches): reads the deployer's state and run history, holds state locks, assumes the read roles."
  max_session_duration = 3600
  assume_role_policy   = jsonencode(local.plan_trust_policy)

  tags = { Name = local.plan_role_name }

  depends_on = [aws_iam_openid_connect_provider.github]
}

resource "aws_iam_role_policy" "plan" {
  name   = "deployer-plan"
  role   = aws_iam_role.plan.id
  policy = jsonencode(local.plan_policy)
}

resource "aws_iam_role" "apply" {
  name                 = local.apply_role_name
  description          = "GitHub Actions (${var.github_repository}, branch ${var.apply_branch} and the deployer's environments): writes the deployer's state and run history, assumes the deploy roles."
  max_session_duration = 3600
  assume_role_policy   = jsonencode(local.apply_trust_policy)

  tags = { Name = local.apply_role_name }

  depends_on = [aws_iam_openid_connect_provider.github]
}

resource "aws_iam_role_policy" "apply" {
  name   = "deployer-apply"
  role   = aws_iam_role.apply.id
  policy = jsonencode(local.apply_policy)
}
