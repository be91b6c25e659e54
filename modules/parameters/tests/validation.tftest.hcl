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
  name_prefix = "acme-shop-staging"
  environment = "staging"
  microservices = {
    api-service  = { short_name = "api" }
    auth-service = { short_name = "auth" }
  }
}

# --- name_prefix ---------------------------------------------------------------

run "name_prefix_uppercase" {
  command = plan

  variables {
    name_prefix = "Acme-Shop-Staging"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_reserved_aws" {
  command = plan

  variables {
    name_prefix = "aws-shop-staging"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_too_long" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-and-customer-notification-service-staging12" # 65 characters
    environment = "staging12"
  }

  expect_failures = [var.name_prefix]
}

# --- environment ---------------------------------------------------------------

run "environment_starts_with_digit" {
  command = plan

  variables {
    name_prefix = "acme-shop-1staging"
    environment = "1staging"
  }

  expect_failures = [var.environment]
}

run "environment_not_in_name_prefix" {
  command = plan

  variables {
    environment = "prod"
  }

  expect_failures = [var.environment]
}

# --- microservices -------------------------------------------------------------

run "microservices_empty" {
  command = plan

  variables {
    microservices = {}
  }

  expect_failures = [var.microservices]
}

run "microservices_key_invalid" {
  command = plan

  variables {
    microservices = { "api/service" = { short_name = "api" } }
  }

  expect_failures = [var.microservices]
}

run "microservices_short_name_too_long" {
  command = plan

  variables {
    microservices = { api-service = { short_name = "apigatewaysvc" } } # 13 characters
  }

  expect_failures = [var.microservices]
}

run "microservices_short_name_twice" {
  command = plan

  variables {
    microservices = {
      api-service   = { short_name = "api" }
      api-service-2 = { short_name = "api" }
    }
  }

  expect_failures = [var.microservices]
}

# --- secret_names --------------------------------------------------------------

run "secret_names_unknown_service" {
  command = plan

  variables {
    secret_names = { billing-service = ["STRIPE_KEY"] }
  }

  expect_failures = [var.secret_names]
}

run "secret_names_invalid_name" {
  command = plan

  variables {
    secret_names = { auth-service = ["JWT/SIGNING_KEY"] }
  }

  expect_failures = [var.secret_names]
}

run "secret_names_twice" {
  command = plan

  variables {
    secret_names = { auth-service = ["JWT_SIGNING_KEY", "JWT_SIGNING_KEY"] }
  }

  expect_failures = [var.secret_names]
}

# --- parameters ----------------------------------------------------------------

run "parameters_unknown_service" {
  command = plan

  variables {
    parameters = { billing-service = { LOG_LEVEL = "info" } }
  }

  expect_failures = [var.parameters]
}

run "parameters_invalid_name" {
  command = plan

  variables {
    parameters = { api-service = { "LOG LEVEL" = "info" } }
  }

  expect_failures = [var.parameters]
}

run "parameter_also_a_secret" {
  command = plan

  variables {
    secret_names = { auth-service = ["JWT_SIGNING_KEY"] }
    parameters   = { auth-service = { JWT_SIGNING_KEY = "not-a-secret" } }
  }

  expect_failures = [var.parameters]
}

# --- Limits that must still pass ---------------------------------------------

run "longest_names_allowed" {
  command = plan

  variables {
    name_prefix   = "acme-order-fulfilment-and-customer-notification-service-staging1" # 64 characters
    environment   = "staging1"
    microservices = { api-service = { short_name = "apigatewaysv" } } # 12 characters
  }

  assert {
    condition     = length(aws_iam_policy.read["api-service"].name) <= 128
    error_message = "The read policy name must fit the 128 characters of an IAM policy name."
  }
}
