# One run per validation (and for the role name precondition): each input
# breaks exactly one rule and the run expects that rule to fail.

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

# --- name_prefix -------------------------------------------------------------

run "name_prefix_uppercase" {
  command = plan

  variables {
    name_prefix = "Acme-Shop-Delivery"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_trailing_hyphen" {
  command = plan

  variables {
    name_prefix = "acme-shop-"
  }

  expect_failures = [var.name_prefix]
}

run "name_prefix_too_long" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-delivery2" # 31 characters
  }

  expect_failures = [var.name_prefix]
}

# --- projects ----------------------------------------------------------------

run "projects_empty" {
  command = plan

  variables {
    projects     = {}
    deploy_files = {} # the shared deploy_files are for api-service
  }

  expect_failures = [var.projects]
}

run "projects_key_uppercase" {
  command = plan

  variables {
    projects = {
      "Api-Service" = {
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

# --- build_image -------------------------------------------------------------

run "build_image_url_docker_hub" {
  command = plan

  variables {
    build_image = {
      repository_url = "python"
      repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-build-image"
      tag            = "2024.11.1"
    }
  }

  expect_failures = [var.build_image]
}

run "build_image_arn_name" {
  command = plan

  variables {
    build_image = {
      repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-build-image"
      repository_arn = "acme-shop-delivery-build-image"
      tag            = "2024.11.1"
    }
  }

  expect_failures = [var.build_image]
}

run "build_image_tag_invalid" {
  command = plan

  variables {
    build_image = {
      repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-build-image"
      repository_arn = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-build-image"
      tag            = "-latest"
    }
  }

  expect_failures = [var.build_image]
}

# --- artifact_bucket_arn, artifact_kms_key_arn, log_kms_key_arn --------------

run "artifact_bucket_arn_name" {
  command = plan

  variables {
    artifact_bucket_arn = "acme-shop-delivery-artifacts-us-east-1"
  }

  expect_failures = [var.artifact_bucket_arn]
}

run "artifact_kms_key_arn_alias" {
  command = plan

  variables {
    artifact_kms_key_arn = "arn:aws:kms:us-east-1:111111111111:alias/acme-shop-delivery-artifacts"
  }

  expect_failures = [var.artifact_kms_key_arn]
}

run "log_kms_key_arn_key_id" {
  command = plan

  variables {
    log_kms_key_arn = "66666666-7777-8888-9999-000000000000"
  }

  expect_failures = [var.log_kms_key_arn]
}

# --- deploy_files ------------------------------------------------------------

run "deploy_files_unknown_service" {
  command = plan

  variables {
    deploy_files = {
      billing-service = { "taskdef-staging-us-east-1.json" = "{}" }
    }
  }

  expect_failures = [var.deploy_files]
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

# --- log_retention_days ------------------------------------------------------

run "log_retention_days_unsupported" {
  command = plan

  variables {
    log_retention_days = 10
  }

  expect_failures = [var.log_retention_days]
}

# --- parameter_path_prefix, parameter_kms_key_arn ----------------------------

run "parameter_path_prefix_trailing_slash" {
  command = plan

  variables {
    parameter_path_prefix = "/pipeline/delivery/"
  }

  expect_failures = [var.parameter_path_prefix]
}

run "parameter_path_prefix_relative" {
  command = plan

  variables {
    parameter_path_prefix = "pipeline/delivery"
  }

  expect_failures = [var.parameter_path_prefix]
}

run "parameter_kms_key_arn_alias" {
  command = plan

  variables {
    parameter_kms_key_arn = "alias/aws/ssm"
  }

  expect_failures = [var.parameter_kms_key_arn]
}

# --- test_project, compute_type, build_timeout_minutes -----------------------

run "test_project_source_dir_absolute" {
  command = plan

  variables {
    test_project = { source_dir = "/tests/integration" }
  }

  expect_failures = [var.test_project]
}

run "test_project_compute_type" {
  command = plan

  variables {
    test_project = { compute_type = "BUILD_GENERAL1_TINY" }
  }

  expect_failures = [var.test_project]
}

run "compute_type_unknown" {
  command = plan

  variables {
    compute_type = "small"
  }

  expect_failures = [var.compute_type]
}

run "build_timeout_too_short" {
  command = plan

  variables {
    build_timeout_minutes = 2
  }

  expect_failures = [var.build_timeout_minutes]
}

run "build_timeout_fraction" {
  command = plan

  variables {
    build_timeout_minutes = 7.5
  }

  expect_failures = [var.build_timeout_minutes]
}

# --- Role name precondition --------------------------------------------------

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
