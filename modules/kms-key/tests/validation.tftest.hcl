# One run per validation: each input breaks exactly one rule and the run
# expects that rule to fail.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
}

variables {
  name_prefix = "acme-shop-prod"
  name        = "logs"
  description = "CloudWatch Logs of acme-shop-prod"
}

# --- name_prefix -------------------------------------------------------------

run "name_prefix_uppercase" {
  command = plan

  variables {
    name_prefix = "Acme-Shop-Prod"
  }

  expect_failures = [var.name_prefix]
}

# --- name --------------------------------------------------------------------

run "name_with_slash" {
  command = plan

  variables {
    name = "logs/app"
  }

  expect_failures = [var.name]
}

run "name_alias_too_long" {
  command = plan

  variables {
    name = join("-", [for i in range(50) : "abcd"]) # 249 characters
  }

  expect_failures = [var.name]
}

# --- description -------------------------------------------------------------

run "description_empty" {
  command = plan

  variables {
    description = " "
  }

  expect_failures = [var.description]
}

# --- service_principals ------------------------------------------------------

run "service_principals_unknown" {
  command = plan

  variables {
    service_principals = ["logs", "s3"]
  }

  expect_failures = [var.service_principals]
}

run "service_principals_full_principal" {
  command = plan

  variables {
    service_principals = ["logs.us-east-1.amazonaws.com"]
  }

  expect_failures = [var.service_principals]
}

run "service_principals_duplicate" {
  command = plan

  variables {
    service_principals = ["sns", "sns"]
  }

  expect_failures = [var.service_principals]
}

# --- user_role_arns ----------------------------------------------------------

run "user_role_arns_account_root" {
  command = plan

  variables {
    user_role_arns = ["arn:aws:iam::123456789012:root"]
  }

  expect_failures = [var.user_role_arns]
}

run "user_role_arns_role_name" {
  command = plan

  variables {
    user_role_arns = ["acme-shop-prod-api-task-us-east-1"]
  }

  expect_failures = [var.user_role_arns]
}

run "user_role_arns_duplicate" {
  command = plan

  variables {
    user_role_arns = [
      "arn:aws:iam::123456789012:role/acme-shop-prod-api-task-us-east-1",
      "arn:aws:iam::123456789012:role/acme-shop-prod-api-task-us-east-1",
    ]
  }

  expect_failures = [var.user_role_arns]
}

# --- account_ids -------------------------------------------------------------

run "account_ids_not_an_account_id" {
  command = plan

  variables {
    account_ids = ["33333333333"] # 11 digits
  }

  expect_failures = [var.account_ids]
}

run "account_ids_account_root" {
  command = plan

  variables {
    account_ids = ["arn:aws:iam::333333333333:root"]
  }

  expect_failures = [var.account_ids]
}

run "account_ids_duplicate" {
  command = plan

  variables {
    account_ids = ["333333333333", "333333333333"]
  }

  expect_failures = [var.account_ids]
}

# --- usage_via_service -------------------------------------------------------

run "usage_via_service_unknown" {
  command = plan

  variables {
    usage_via_service = "s3"
  }

  expect_failures = [var.usage_via_service]
}

run "usage_via_service_full_endpoint" {
  command = plan

  variables {
    usage_via_service = "ssm.us-east-1.amazonaws.com"
  }

  expect_failures = [var.usage_via_service]
}

run "usage_via_service_with_service_principals" {
  command = plan

  variables {
    usage_via_service  = "ssm"
    service_principals = ["sns"]
  }

  expect_failures = [var.usage_via_service]
}

# --- deletion_window_days ----------------------------------------------------

run "deletion_window_days_too_short" {
  command = plan

  variables {
    deletion_window_days = 6
  }

  expect_failures = [var.deletion_window_days]
}

run "deletion_window_days_too_long" {
  command = plan

  variables {
    deletion_window_days = 31
  }

  expect_failures = [var.deletion_window_days]
}

run "deletion_window_days_fraction" {
  command = plan

  variables {
    deletion_window_days = 7.5
  }

  expect_failures = [var.deletion_window_days]
}
