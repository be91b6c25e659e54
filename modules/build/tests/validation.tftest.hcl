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
      account_id = "111111111111"
    }
  }
}

# A region name longer than any AWS has today, to reach the role name
# precondition past the name_prefix and short_name validations.
mock_provider "aws" {
  alias = "long_region"

  mock_data "aws_region" {
    defaults = {
      name = "ap-southeast-north-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111111111111"
    }
  }
}

variables {
  name_prefix = "acme-shop-delivery"
  projects = {
    api-service = {
      short_name     = "api"
      source_dir     = "services/api-service"
      repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"
      repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"
    }
    auth-service = {
      short_name     = "auth"
      source_dir     = "services/auth-service"
      repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-auth-service"
      repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-auth-service"
    }
  }
  build_image = {
    repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-build-image"
    repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-build-image"
    tag            = "2024.11.1"
  }
  artifact_bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"
  artifact_kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555"
  log_kms_key_arn      = "arn:aws:kms:us-east-1:111111111111:key/66666666-7777-8888-9999-000000000000"
  deploy_files = {
    api-service = {
      "taskdef-staging-us-east-1.json" = "{\"family\": \"acme-shop-staging-api-service\"}"
      "appspec-staging-us-east-1.yaml" = "version: 0.0\n"
      "taskdef-prod-us-west-2.json"    = "{\"family\": \"acme-shop-prod-api-service\"}"
      "appspec-prod-us-west-2.yaml"    = "version: 0.0\n"
    }
  }
}

# One rule of each of 12 variables; the comment above each value names the rule.
run "breaks_first_rule_of_each" {
  command = plan

  variables {
    # name_prefix_uppercase
    name_prefix = "Acme-Shop-Delivery"

    # projects_empty
    projects     = {}
    deploy_files = {} # the shared deploy_files are for api-service

    # build_image_url_docker_hub
    build_image = {
      repository_url = "python"
      repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-build-image"
      tag            = "2024.11.1"
    }

    # artifact_bucket_arn_name
    artifact_bucket_arn = "acme-shop-delivery-artifacts-us-east-1"

    # artifact_kms_key_arn_alias
    artifact_kms_key_arn = "arn:aws:kms:us-east-1:111111111111:alias/acme-shop-delivery-artifacts"

    # log_kms_key_arn_key_id
    log_kms_key_arn = "66666666-7777-8888-9999-000000000000"

    # log_retention_days_unsupported
    log_retention_days = 10

    # parameter_path_prefix_trailing_slash
    parameter_path_prefix = "/pipeline/delivery/"

    # parameter_kms_key_arn_alias
    parameter_kms_key_arn = "alias/aws/ssm"

    # test_project_source_dir_absolute
    test_project = { source_dir = "/tests/integration" }

    # compute_type_unknown
    compute_type = "small"

    # build_timeout_too_short
    build_timeout_minutes = 2
  }

  expect_failures = [
    var.name_prefix,
    var.projects,
    var.build_image,
    var.artifact_bucket_arn,
    var.artifact_kms_key_arn,
    var.log_kms_key_arn,
    var.log_retention_days,
    var.parameter_path_prefix,
    var.parameter_kms_key_arn,
    var.test_project,
    var.compute_type,
    var.build_timeout_minutes,
  ]
}

# One rule of each of 6 variables; the comment above each value names the rule.
run "breaks_second_rule_of_each" {
  command = plan

  variables {
    # name_prefix_trailing_hyphen
    name_prefix = "acme-shop-"

    # build_image_arn_name
    build_image = {
      repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-build-image"
      repository_arn = "acme-shop-delivery-build-image"
      tag            = "2024.11.1"
    }

    # deploy_files_unknown_service
    deploy_files = {
      billing-service = { "taskdef-staging-us-east-1.json" = "{}" }
    }

    # parameter_path_prefix_relative
    parameter_path_prefix = "pipeline/delivery"

    # test_project_compute_type
    test_project = { compute_type = "BUILD_GENERAL1_TINY" }

    # build_timeout_fraction
    build_timeout_minutes = 7.5
  }

  expect_failures = [
    var.name_prefix,
    var.build_image,
    var.deploy_files,
    var.parameter_path_prefix,
    var.test_project,
    var.build_timeout_minutes,
  ]
}

# One rule of each of 3 variables; the comment above each value names the rule.
run "breaks_third_rule_of_each" {
  command = plan

  variables {
    # name_prefix_too_long
    name_prefix = "acme-order-fulfilment-delivery2" # 31 characters

    # projects_key_uppercase
    projects = {
      "Api-Service" = {
        short_name     = "api"
        source_dir     = "services/api-service"
        repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"
        repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"
      }
    }
    deploy_files = {} # the shared deploy_files are for api-service

    # build_image_tag_invalid
    build_image = {
      repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-build-image"
      repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-build-image"
      tag            = "-latest"
    }
  }

  expect_failures = [
    var.name_prefix,
    var.projects,
    var.build_image,
  ]
}

run "projects_key_reserved" {
  command = plan

  # The test project is {name_prefix}-integration-tests.
  variables {
    projects = {
      integration-tests = {
        short_name     = "api"
        source_dir     = "services/api-service"
        repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"
        repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"
      }
    }
    deploy_files = {} # the shared deploy_files are for api-service
  }

  expect_failures = [var.projects]
}

run "projects_short_name_too_long" {
  command = plan

  variables {
    projects = {
      api-service = {
        short_name     = "api-gateway-v2"
        source_dir     = "services/api-service"
        repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"
        repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"
      }
    }
  }

  expect_failures = [var.projects]
}

run "projects_short_name_reserved" {
  command = plan

  # The test project's role is {name_prefix}-tests-build-{region}.
  variables {
    projects = {
      api-service = {
        short_name     = "tests"
        source_dir     = "services/api-service"
        repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"
        repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"
      }
    }
  }

  expect_failures = [var.projects]
}

run "projects_short_name_duplicate" {
  command = plan

  variables {
    projects = {
      api-service = {
        short_name     = "api"
        source_dir     = "services/api-service"
        repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"
        repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"
      }
      api-service-v2 = {
        short_name     = "api"
        source_dir     = "services/api-service-v2"
        repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service-v2"
        repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service-v2"
      }
    }
  }

  expect_failures = [var.projects]
}

run "projects_source_dir_absolute" {
  command = plan

  variables {
    projects = {
      api-service = {
        short_name     = "api"
        source_dir     = "/services/api-service"
        repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"
        repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"
      }
    }
  }

  expect_failures = [var.projects]
}

run "projects_source_dir_parent" {
  command = plan

  variables {
    projects = {
      api-service = {
        short_name     = "api"
        source_dir     = "services/../../etc"
        repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"
        repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"
      }
    }
  }

  expect_failures = [var.projects]
}

run "projects_repository_url_with_tag" {
  command = plan

  variables {
    projects = {
      api-service = {
        short_name     = "api"
        source_dir     = "services/api-service"
        repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service:latest"
        repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"
      }
    }
  }

  expect_failures = [var.projects]
}

run "projects_repository_arn_name" {
  command = plan

  variables {
    projects = {
      api-service = {
        short_name     = "api"
        source_dir     = "services/api-service"
        repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"
        repository_arn = "acme-shop-delivery-api-service"
      }
    }
  }

  expect_failures = [var.projects]
}

run "deploy_files_bad_name" {
  command = plan

  # The deploy actions read taskdef-<target>.json and appspec-<target>.yaml.
  variables {
    deploy_files = {
      api-service = { "taskdef.json" = "{}" }
    }
  }

  expect_failures = [var.deploy_files]
}

run "role_name_too_long" {
  command = plan

  providers = {
    aws = aws.long_region
  }

  variables {
    name_prefix = "acme-order-fulfilment-delivery" # 30 characters
    projects = {
      api-service = {
        short_name     = "api-gateway1" # 12 characters
        source_dir     = "services/api-service"
        repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"
        repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"
      }
    }
    deploy_files = {}
  }

  expect_failures = [aws_iam_role.this["api-service"]]
}

run "longest_names_allowed" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-delivery" # 30 characters
    projects = {
      api-service = {
        short_name     = "api-gateway1" # 12 characters
        source_dir     = "services/api-service"
        repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"
        repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"
      }
    }
    deploy_files = {}
  }

  assert {
    condition     = length(aws_iam_role.this["api-service"].name) <= 64
    error_message = "The longest build role name must fit the 64-character IAM limit."
  }
}
