# Plan-only tests of the ci-identity module against a mocked AWS provider. The
# trust and permission policies are built with jsonencode from known values, so
# the tests decode them and compare them statement by statement.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_iam_openid_connect_provider" {
    defaults = {
      arn = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
    }
  }
}

override_resource {
  target          = aws_iam_role.plan
  override_during = plan
  values = {
    arn = "arn:aws:iam::111111111111:role/acme-shop-delivery-ci-plan"
  }
}

override_resource {
  target          = aws_iam_role.apply
  override_during = plan
  values = {
    arn = "arn:aws:iam::111111111111:role/acme-shop-delivery-ci-apply"
  }
}

variables {
  name_prefix       = "acme-shop-delivery"
  account_id        = "111111111111"
  github_repository = "acme/shop-platform"
  state = {
    bucket           = "acme-shop-delivery-tfstate"
    region           = "us-east-1"
    key_prefix       = "workspaces"
    run_history_path = "/deployer/runs"
  }
  environments = {
    delivery = { deploy_role_arn = "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole" }
    staging  = { deploy_role_arn = "arn:aws:iam::333333333333:role/OrganizationAccountAccessRole" }
    prod     = { deploy_role_arn = "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole" }
  }
}

run "oidc_provider_and_names" {
  command = plan

  assert {
    condition     = aws_iam_openid_connect_provider.github[0].url == "https://token.actions.githubusercontent.com" && aws_iam_openid_connect_provider.github[0].client_id_list == toset(["sts.amazonaws.com"])
    error_message = "The OIDC provider must be GitHub's, for the STS audience."
  }

  assert {
    condition     = aws_iam_role.plan.name == "acme-shop-delivery-ci-plan" && aws_iam_role.apply.name == "acme-shop-delivery-ci-apply"
    error_message = "The roles must be named {name_prefix}-ci-plan and {name_prefix}-ci-apply (modules/naming's ci_plan_role and ci_apply_role)."
  }

  assert {
    condition = (
      output.plan_role_arn == "arn:aws:iam::111111111111:role/acme-shop-delivery-ci-plan"
      && output.apply_role_arn == "arn:aws:iam::111111111111:role/acme-shop-delivery-ci-apply"
      && output.oidc_provider_arn == "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
    )
    error_message = "The outputs must be the roles' and the provider's ARNs."
  }
}

run "plan_role" {
  command = plan

  # Pull requests and any branch of the repository, for the STS audience only.
  assert {
    condition = jsondecode(aws_iam_role.plan.assume_role_policy).Statement == [{
      Sid       = "GitHubActionsPlan"
      Effect    = "Allow"
      Principal = { Federated = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com" }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = { "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" }
        StringLike = { "token.actions.githubusercontent.com:sub" = [
          "repo:acme/shop-platform:pull_request",
          "repo:acme/shop-platform:ref:refs/heads/*",
        ] }
      }
    }]
    error_message = "The plan role must trust only the repository's pull requests and branches, through GitHub's OIDC provider, for the STS audience."
  }

  assert {
    condition = jsondecode(aws_iam_role_policy.plan.policy).Statement == [
      { Sid = "ListState", Effect = "Allow", Action = "s3:ListBucket", Resource = "arn:aws:s3:::acme-shop-delivery-tfstate" },
      { Sid = "ReadState", Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::acme-shop-delivery-tfstate/workspaces/*" },
      { Sid = "StateLocks", Effect = "Allow", Action = ["s3:DeleteObject", "s3:PutObject"], Resource = "arn:aws:s3:::acme-shop-delivery-tfstate/workspaces/*.tflock" },
      { Sid = "ReadRunHistory", Effect = "Allow", Action = "ssm:GetParameter", Resource = "arn:aws:ssm:us-east-1:111111111111:parameter/deployer/runs/*" },
    ]
    error_message = "The plan role must read state and run history and write lock files only."
  }

  assert {
    condition     = !strcontains(aws_iam_role_policy.plan.policy, "sts:")
    error_message = "The plan role must not assume any role: the deploy roles can change what they reach."
  }
}

run "apply_role" {
  command = plan

  # The protected branch and the environments' jobs, sorted by name.
  assert {
    condition = jsondecode(aws_iam_role.apply.assume_role_policy).Statement == [{
      Sid       = "GitHubActionsApply"
      Effect    = "Allow"
      Principal = { Federated = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com" }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"
          "token.actions.githubusercontent.com:sub" = [
            "repo:acme/shop-platform:ref:refs/heads/main",
            "repo:acme/shop-platform:environment:delivery",
            "repo:acme/shop-platform:environment:prod",
            "repo:acme/shop-platform:environment:staging",
          ]
        }
      }
    }]
    error_message = "The apply role must trust only the protected branch and the environments' jobs, exactly (StringEquals)."
  }

  assert {
    condition = jsondecode(aws_iam_role_policy.apply.policy).Statement == [
      { Sid = "ListState", Effect = "Allow", Action = "s3:ListBucket", Resource = "arn:aws:s3:::acme-shop-delivery-tfstate" },
      { Sid = "ReadWriteState", Effect = "Allow", Action = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], Resource = "arn:aws:s3:::acme-shop-delivery-tfstate/workspaces/*" },
      { Sid = "RunHistory", Effect = "Allow", Action = ["ssm:GetParameter", "ssm:PutParameter"], Resource = "arn:aws:ssm:us-east-1:111111111111:parameter/deployer/runs/*" },
      { Sid = "AssumeDeployRoles", Effect = "Allow", Action = "sts:AssumeRole", Resource = [
        "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole",
        "arn:aws:iam::333333333333:role/OrganizationAccountAccessRole",
        "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole",
      ] },
    ]
    error_message = "The apply role must read and write state and run history and assume exactly the environments' deploy roles."
  }
}

run "existing_oidc_provider_other_branch_and_environments_without_roles" {
  command = plan

  variables {
    create_oidc_provider = false
    apply_branch         = "release/v2"
    environments = {
      dev     = { deploy_role_arn = null }
      staging = {}
      prod    = { deploy_role_arn = "arn:aws:iam::444444444444:role/deployer" }
      qa      = { deploy_role_arn = "arn:aws:iam::444444444444:role/deployer" }
    }
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0
    error_message = "With create_oidc_provider = false the module must not create a provider."
  }

  assert {
    condition = (
      output.oidc_provider_arn == "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
      && jsondecode(aws_iam_role.apply.assume_role_policy).Statement[0].Principal.Federated == output.oidc_provider_arn
      && jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Principal.Federated == output.oidc_provider_arn
    )
    error_message = "Without creating it, the roles must trust the account's own GitHub provider."
  }

  assert {
    condition = jsondecode(aws_iam_role.apply.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == [
      "repo:acme/shop-platform:ref:refs/heads/release/v2",
      "repo:acme/shop-platform:environment:dev",
      "repo:acme/shop-platform:environment:prod",
      "repo:acme/shop-platform:environment:qa",
      "repo:acme/shop-platform:environment:staging",
    ]
    error_message = "Every environment's jobs may assume the apply role, with or without a deploy role."
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.apply.policy).Statement : s.Resource if s.Sid == "AssumeDeployRoles"] == [["arn:aws:iam::444444444444:role/deployer"]]
    error_message = "The apply role may assume each named deploy role once, and nothing for environments without one."
  }
}

run "no_deploy_roles" {
  command = plan

  variables {
    environments = { dev = {} }
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.apply.policy).Statement : s.Sid] == ["ListState", "ReadWriteState", "RunHistory"]
    error_message = "Without deploy roles the apply role must have no sts:AssumeRole statement (an empty Resource list is invalid)."
  }
}

run "provider_in_another_account" {
  command = plan

  override_resource {
    target          = aws_iam_openid_connect_provider.github
    override_during = plan
    values = {
      arn = "arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com"
    }
  }

  expect_failures = [aws_iam_openid_connect_provider.github]
}

run "state_replica" {
  command = plan

  variables {
    state = {
      bucket           = "acme-shop-delivery-tfstate"
      region           = "us-east-1"
      key_prefix       = "workspaces"
      run_history_path = "/deployer/runs"
      replica          = { bucket = "acme-shop-delivery-tfstate-us-west-2", region = "us-west-2" }
    }
  }

  assert {
    condition = slice(jsondecode(aws_iam_role_policy.plan.policy).Statement, 4, 8) == [
      { Sid = "ListStateReplica", Effect = "Allow", Action = "s3:ListBucket", Resource = "arn:aws:s3:::acme-shop-delivery-tfstate-us-west-2" },
      { Sid = "ReadStateReplica", Effect = "Allow", Action = "s3:GetObject", Resource = "arn:aws:s3:::acme-shop-delivery-tfstate-us-west-2/workspaces/*" },
      { Sid = "StateReplicaLocks", Effect = "Allow", Action = ["s3:DeleteObject", "s3:PutObject"], Resource = "arn:aws:s3:::acme-shop-delivery-tfstate-us-west-2/workspaces/*.tflock" },
      { Sid = "ReadRunHistoryReplica", Effect = "Allow", Action = "ssm:GetParameter", Resource = "arn:aws:ssm:us-west-2:111111111111:parameter/deployer/runs/*" },
    ]
    error_message = "With a replica, the plan role must read state and run history and write lock files there too, after the state bucket's statements."
  }

  assert {
    condition = slice(jsondecode(aws_iam_role_policy.apply.policy).Statement, 3, 6) == [
      { Sid = "ListStateReplica", Effect = "Allow", Action = "s3:ListBucket", Resource = "arn:aws:s3:::acme-shop-delivery-tfstate-us-west-2" },
      { Sid = "ReadWriteStateReplica", Effect = "Allow", Action = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], Resource = "arn:aws:s3:::acme-shop-delivery-tfstate-us-west-2/workspaces/*" },
      { Sid = "RunHistoryReplica", Effect = "Allow", Action = ["ssm:GetParameter", "ssm:PutParameter"], Resource = "arn:aws:ssm:us-west-2:111111111111:parameter/deployer/runs/*" },
    ]
    error_message = "With a replica, the apply role must read and write state and run history there too, before the deploy roles."
  }
}
