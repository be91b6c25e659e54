# Each validation has a run whose input breaks that rule and no other rule of its
# variable, and expects the variable to fail (bin/check-validations checks both).
# To start fewer plans (CI time: each run starts the provider twice), one run breaks
# a rule of each of several variables and expects all of them to fail: Terraform
# fails a run when a listed variable does not, so deleting any rule still fails its
# run. In "breaks_<first|second|...>_rule_of_each" the comment above each value names
# the rule it breaks (the name of the run that broke it alone before). Never two rules
# of one variable in one run, nor a variable together with one its validations read,
# directly or through another (Terraform then skips all of its validations); runs with
# assertions, overrides or preconditions stay on their own.

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

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_first_rule_of_each" {
  command = plan

  variables {
    # name_prefix_uppercase
    name_prefix = "Acme-Shop-Staging"

    # microservices_empty
    microservices = {}
  }

  expect_failures = [
    var.name_prefix,
    var.microservices,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_second_rule_of_each" {
  command = plan

  variables {
    # environment_starts_with_digit
    name_prefix = "acme-shop-1staging"
    environment = "1staging"

    # secret_names_unknown_service
    secret_names = { billing-service = ["STRIPE_KEY"] }
  }

  expect_failures = [
    var.environment,
    var.secret_names,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_third_rule_of_each" {
  command = plan

  variables {
    # name_prefix_reserved_aws
    name_prefix = "aws-shop-staging"

    # parameters_unknown_service
    parameters = { billing-service = { LOG_LEVEL = "info" } }
  }

  expect_failures = [
    var.name_prefix,
    var.parameters,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_fourth_rule_of_each" {
  command = plan

  variables {
    # environment_not_in_name_prefix
    environment = "prod"

    # microservices_key_invalid
    microservices = { "api/service" = { short_name = "api" } }
  }

  expect_failures = [
    var.environment,
    var.microservices,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_fifth_rule_of_each" {
  command = plan

  variables {
    # name_prefix_too_long
    name_prefix = "acme-order-fulfilment-and-customer-notification-service-staging12" # 65 characters
    environment = "staging12"

    # secret_names_invalid_name
    secret_names = { auth-service = ["JWT/SIGNING_KEY"] }
  }

  expect_failures = [
    var.name_prefix,
    var.secret_names,
  ]
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

run "secret_names_twice" {
  command = plan

  variables {
    secret_names = { auth-service = ["JWT_SIGNING_KEY", "JWT_SIGNING_KEY"] }
  }

  expect_failures = [var.secret_names]
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
