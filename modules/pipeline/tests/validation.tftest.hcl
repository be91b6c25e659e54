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
  override_during = plan

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111111111111:role/mocked"
    }
  }
  mock_resource "aws_iam_role_policy" {}
  mock_resource "aws_codecommit_repository" {
    defaults = {
      clone_url_http = "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/acme-shop-delivery-monorepo"
    }
  }
  mock_resource "aws_codepipeline" {
    defaults = {
      arn = "arn:aws:codepipeline:us-east-1:111111111111:acme-shop-delivery-pipeline"
    }
  }
  mock_resource "aws_codecommit_approval_rule_template" {}
  mock_resource "aws_codecommit_approval_rule_template_association" {}
  mock_resource "aws_cloudwatch_event_rule" {}
  mock_resource "aws_cloudwatch_event_target" {}

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

variables {
  name_prefix = "acme-shop-delivery"
  artifact_stores = {
    us-east-1 = {
      bucket_name = "acme-shop-delivery-artifacts-us-east-1"
      bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"
      kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"
    }
    us-west-2 = {
      bucket_name = "acme-shop-delivery-artifacts-us-west-2"
      bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-west-2"
      kms_key_arn = "arn:aws:kms:us-west-2:111111111111:key/22222222-2222-2222-2222-222222222222"
    }
  }
  build_projects = {
    api-service          = "acme-shop-delivery-api-service"
    auth-service         = "acme-shop-delivery-auth-service"
    notification-service = "acme-shop-delivery-notification-service"
  }
  test_project_name = "acme-shop-delivery-integration-tests"
  staging = {
    region                      = "us-east-1"
    account_id                  = "333333333333"
    deploy_role_arn             = "arn:aws:iam::333333333333:role/acme-shop-staging-deploy-us-east-1"
    codedeploy_application_name = "acme-shop-staging-services"
    deployment_group_names = {
      api-service          = "acme-shop-staging-api-service"
      auth-service         = "acme-shop-staging-auth-service"
      notification-service = "acme-shop-staging-notification-service"
    }
    target = "staging-us-east-1"
  }
  production = [
    {
      region                      = "us-east-1"
      account_id                  = "444444444444"
      deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-east-1"
      codedeploy_application_name = "acme-shop-prod-services"
      deployment_group_names = {
        api-service          = "acme-shop-prod-api-service"
        auth-service         = "acme-shop-prod-auth-service"
        notification-service = "acme-shop-prod-notification-service"
      }
      target = "prod-us-east-1"
    },
    {
      region                      = "us-west-2"
      account_id                  = "444444444444"
      deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-west-2"
      codedeploy_application_name = "acme-shop-prod-services"
      deployment_group_names = {
        api-service          = "acme-shop-prod-api-service"
        auth-service         = "acme-shop-prod-auth-service"
        notification-service = "acme-shop-prod-notification-service"
      }
      target = "prod-us-west-2"
    },
  ]
  approval_topic_arn = "arn:aws:sns:us-east-1:111111111111:acme-shop-delivery-approvals"
}

# One rule of each of 8 variables; the comment above each value names the rule.
run "breaks_first_rule_of_each" {
  command = plan

  variables {
    # name_prefix_uppercase
    name_prefix = "Acme-Shop-Delivery"

    # artifact_stores_key_not_a_region:
    # A third store keyed by a label instead of a region. Every deploy region
    # keeps its store and the label's key ARN names the label as its region, so
    # only the rule on the keys breaks, not the deploy-region or key-region rules.
    artifact_stores = {
      us-east-1 = {
        bucket_name = "acme-shop-delivery-artifacts-us-east-1"
        bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"
        kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"
      }
      us-west-2 = {
        bucket_name = "acme-shop-delivery-artifacts-us-west-2"
        bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-west-2"
        kms_key_arn = "arn:aws:kms:us-west-2:111111111111:key/22222222-2222-2222-2222-222222222222"
      }
      west = {
        bucket_name = "acme-shop-delivery-artifacts-west"
        bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-west"
        kms_key_arn = "arn:aws:kms:west:111111111111:key/33333333-3333-3333-3333-333333333333"
      }
    }

    # test_project_name_arn
    test_project_name = "arn:aws:codebuild:us-east-1:111111111111:project/acme-shop-delivery-integration-tests"

    # approval_topic_arn_name
    approval_topic_arn = "acme-shop-delivery-approvals"

    # approval_message_too_long
    approval_message = "Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? Promote? "

    # approval_topic_kms_key_arn_alias
    approval_topic_kms_key_arn = "alias/acme-shop-delivery-notifications"

    # pipeline_source_type_unknown
    pipeline_source = { type = "GitHub" }

    # required_approvals_fraction
    required_approvals = 1.5
  }

  expect_failures = [
    var.name_prefix,
    var.artifact_stores,
    var.test_project_name,
    var.approval_topic_arn,
    var.approval_message,
    var.approval_topic_kms_key_arn,
    var.pipeline_source,
    var.required_approvals,
  ]
}

# One rule of each of 3 variables; the comment above each value names the rule.
run "breaks_second_rule_of_each" {
  command = plan

  variables {
    # name_prefix_too_long
    name_prefix = "acme-order-fulfilment-and-shipping-delivery-euw1" # 48 characters

    # build_projects_empty
    build_projects = {}
    staging = {
      region                      = "us-east-1"
      account_id                  = "333333333333"
      deploy_role_arn             = "arn:aws:iam::333333333333:role/acme-shop-staging-deploy-us-east-1"
      codedeploy_application_name = "acme-shop-staging-services"
      deployment_group_names      = {}
      target                      = "staging-us-east-1"
    }
    production = [
      {
        region                      = "us-east-1"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-east-1"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names      = {}
        target                      = "prod-us-east-1"
      },
      {
        region                      = "us-west-2"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-west-2"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names      = {}
        target                      = "prod-us-west-2"
      },
    ]

    # pipeline_source_type_lowercase
    pipeline_source = { type = "codecommit" }
  }

  expect_failures = [
    var.name_prefix,
    var.build_projects,
    var.pipeline_source,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_third_rule_of_each" {
  command = plan

  variables {
    # staging_region_invalid
    staging = {
      region                      = "us-east-1a"
      account_id                  = "333333333333"
      deploy_role_arn             = "arn:aws:iam::333333333333:role/acme-shop-staging-deploy-us-east-1a"
      codedeploy_application_name = "acme-shop-staging-services"
      deployment_group_names = {
        api-service          = "acme-shop-staging-api-service"
        auth-service         = "acme-shop-staging-auth-service"
        notification-service = "acme-shop-staging-notification-service"
      }
      target = "staging-us-east-1"
    }

    # pipeline_source_s3_without_key
    pipeline_source = { type = "S3", s3_bucket = "acme-shop-delivery-source" }
  }

  expect_failures = [
    var.staging,
    var.pipeline_source,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_fourth_rule_of_each" {
  command = plan

  variables {
    # production_empty
    production = []

    # pipeline_source_repository_name_git
    pipeline_source = { repository_name = "monorepo.git" }
  }

  expect_failures = [
    var.production,
    var.pipeline_source,
  ]
}

# One rule of each of 2 variables; the comment above each value names the rule.
run "breaks_fifth_rule_of_each" {
  command = plan

  variables {
    # artifact_stores_bucket_arn_mismatch
    artifact_stores = {
      us-east-1 = {
        bucket_name = "acme-shop-delivery-artifacts-us-east-1"
        bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"
        kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"
      }
      us-west-2 = {
        bucket_name = "acme-shop-delivery-artifacts-us-west-2"
        bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"
        kms_key_arn = "arn:aws:kms:us-west-2:111111111111:key/22222222-2222-2222-2222-222222222222"
      }
    }

    # pipeline_source_branch_blank
    pipeline_source = { branch = " " }
  }

  expect_failures = [
    var.artifact_stores,
    var.pipeline_source,
  ]
}

run "artifact_stores_kms_alias" {
  command = plan

  variables {
    artifact_stores = {
      us-east-1 = {
        bucket_name = "acme-shop-delivery-artifacts-us-east-1"
        bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"
        kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"
      }
      us-west-2 = {
        bucket_name = "acme-shop-delivery-artifacts-us-west-2"
        bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-west-2"
        kms_key_arn = "arn:aws:kms:us-west-2:111111111111:alias/acme-shop-delivery-artifacts"
      }
    }
  }

  expect_failures = [var.artifact_stores]
}

run "artifact_stores_kms_other_region" {
  command = plan

  # A store's key must be in the store's region.
  variables {
    artifact_stores = {
      us-east-1 = {
        bucket_name = "acme-shop-delivery-artifacts-us-east-1"
        bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"
        kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"
      }
      us-west-2 = {
        bucket_name = "acme-shop-delivery-artifacts-us-west-2"
        bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-west-2"
        kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/22222222-2222-2222-2222-222222222222"
      }
    }
  }

  expect_failures = [var.artifact_stores]
}

run "artifact_stores_missing_deploy_region" {
  command = plan

  # prod-us-west-2 deploys to us-west-2, which has no store.
  variables {
    artifact_stores = {
      us-east-1 = {
        bucket_name = "acme-shop-delivery-artifacts-us-east-1"
        bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-east-1"
        kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/11111111-1111-1111-1111-111111111111"
      }
    }
  }

  expect_failures = [var.artifact_stores]
}

run "artifact_stores_missing_primary_region" {
  command = plan

  # Every target in us-west-2, so only the pipeline's own region (us-east-1)
  # lacks a store: the precondition on the pipeline, not a validation, fails.
  variables {
    artifact_stores = {
      us-west-2 = {
        bucket_name = "acme-shop-delivery-artifacts-us-west-2"
        bucket_arn  = "arn:aws:s3:::acme-shop-delivery-artifacts-us-west-2"
        kms_key_arn = "arn:aws:kms:us-west-2:111111111111:key/22222222-2222-2222-2222-222222222222"
      }
    }
    staging = {
      region                      = "us-west-2"
      account_id                  = "333333333333"
      deploy_role_arn             = "arn:aws:iam::333333333333:role/acme-shop-staging-deploy-us-west-2"
      codedeploy_application_name = "acme-shop-staging-services"
      deployment_group_names = {
        api-service          = "acme-shop-staging-api-service"
        auth-service         = "acme-shop-staging-auth-service"
        notification-service = "acme-shop-staging-notification-service"
      }
      target = "staging-us-west-2"
    }
    production = [
      {
        region                      = "us-west-2"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-west-2"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names = {
          api-service          = "acme-shop-prod-api-service"
          auth-service         = "acme-shop-prod-auth-service"
          notification-service = "acme-shop-prod-notification-service"
        }
        target = "prod-us-west-2"
      },
    ]
  }

  expect_failures = [aws_codepipeline.this]
}

run "build_projects_key_invalid" {
  command = plan

  # The staging and production deployment groups, keyed by the valid names,
  # are not checked against an invalid build_projects.
  variables {
    build_projects = {
      api_service          = "acme-shop-delivery-api-service"
      auth-service         = "acme-shop-delivery-auth-service"
      notification-service = "acme-shop-delivery-notification-service"
    }
  }

  expect_failures = [var.build_projects]
}

run "build_projects_value_arn" {
  command = plan

  variables {
    build_projects = {
      api-service          = "arn:aws:codebuild:us-east-1:111111111111:project/acme-shop-delivery-api-service"
      auth-service         = "acme-shop-delivery-auth-service"
      notification-service = "acme-shop-delivery-notification-service"
    }
  }

  expect_failures = [var.build_projects]
}

run "staging_deploy_role_other_account" {
  command = plan

  # The deploy role must be in the staging account.
  variables {
    staging = {
      region                      = "us-east-1"
      account_id                  = "333333333333"
      deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-staging-deploy-us-east-1"
      codedeploy_application_name = "acme-shop-staging-services"
      deployment_group_names = {
        api-service          = "acme-shop-staging-api-service"
        auth-service         = "acme-shop-staging-auth-service"
        notification-service = "acme-shop-staging-notification-service"
      }
      target = "staging-us-east-1"
    }
  }

  expect_failures = [var.staging]
}

run "staging_deployment_groups_missing_service" {
  command = plan

  variables {
    staging = {
      region                      = "us-east-1"
      account_id                  = "333333333333"
      deploy_role_arn             = "arn:aws:iam::333333333333:role/acme-shop-staging-deploy-us-east-1"
      codedeploy_application_name = "acme-shop-staging-services"
      deployment_group_names = {
        api-service  = "acme-shop-staging-api-service"
        auth-service = "acme-shop-staging-auth-service"
      }
      target = "staging-us-east-1"
    }
  }

  expect_failures = [var.staging]
}

run "staging_target_invalid" {
  command = plan

  variables {
    staging = {
      region                      = "us-east-1"
      account_id                  = "333333333333"
      deploy_role_arn             = "arn:aws:iam::333333333333:role/acme-shop-staging-deploy-us-east-1"
      codedeploy_application_name = "acme-shop-staging-services"
      deployment_group_names = {
        api-service          = "acme-shop-staging-api-service"
        auth-service         = "acme-shop-staging-auth-service"
        notification-service = "acme-shop-staging-notification-service"
      }
      target = "Staging us-east-1"
    }
  }

  expect_failures = [var.staging]
}

run "production_region_invalid" {
  command = plan

  variables {
    production = [
      {
        region                      = "us-east-1"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-east-1"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names = {
          api-service          = "acme-shop-prod-api-service"
          auth-service         = "acme-shop-prod-auth-service"
          notification-service = "acme-shop-prod-notification-service"
        }
        target = "prod-us-east-1"
      },
      {
        region                      = "uswest2"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-uswest2"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names = {
          api-service          = "acme-shop-prod-api-service"
          auth-service         = "acme-shop-prod-auth-service"
          notification-service = "acme-shop-prod-notification-service"
        }
        target = "prod-us-west-2"
      },
    ]
  }

  expect_failures = [var.production]
}

run "production_deploy_role_other_account" {
  command = plan

  variables {
    production = [
      {
        region                      = "us-east-1"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-east-1"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names = {
          api-service          = "acme-shop-prod-api-service"
          auth-service         = "acme-shop-prod-auth-service"
          notification-service = "acme-shop-prod-notification-service"
        }
        target = "prod-us-east-1"
      },
      {
        region                      = "us-west-2"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::333333333333:role/acme-shop-prod-deploy-us-west-2"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names = {
          api-service          = "acme-shop-prod-api-service"
          auth-service         = "acme-shop-prod-auth-service"
          notification-service = "acme-shop-prod-notification-service"
        }
        target = "prod-us-west-2"
      },
    ]
  }

  expect_failures = [var.production]
}

run "production_deployment_groups_extra_service" {
  command = plan

  variables {
    production = [
      {
        region                      = "us-east-1"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-east-1"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names = {
          api-service          = "acme-shop-prod-api-service"
          auth-service         = "acme-shop-prod-auth-service"
          notification-service = "acme-shop-prod-notification-service"
        }
        target = "prod-us-east-1"
      },
      {
        region                      = "us-west-2"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-west-2"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names = {
          api-service          = "acme-shop-prod-api-service"
          auth-service         = "acme-shop-prod-auth-service"
          notification-service = "acme-shop-prod-notification-service"
          billing-service      = "acme-shop-prod-billing-service"
        }
        target = "prod-us-west-2"
      },
    ]
  }

  expect_failures = [var.production]
}

run "production_target_invalid" {
  command = plan

  variables {
    production = [
      {
        region                      = "us-east-1"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-east-1"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names = {
          api-service          = "acme-shop-prod-api-service"
          auth-service         = "acme-shop-prod-auth-service"
          notification-service = "acme-shop-prod-notification-service"
        }
        target = "prod-us-east-1"
      },
      {
        region                      = "us-west-2"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-west-2"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names = {
          api-service          = "acme-shop-prod-api-service"
          auth-service         = "acme-shop-prod-auth-service"
          notification-service = "acme-shop-prod-notification-service"
        }
        target = "prod_us_west_2"
      },
    ]
  }

  expect_failures = [var.production]
}

run "production_target_duplicate" {
  command = plan

  variables {
    production = [
      {
        region                      = "us-east-1"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-east-1"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names = {
          api-service          = "acme-shop-prod-api-service"
          auth-service         = "acme-shop-prod-auth-service"
          notification-service = "acme-shop-prod-notification-service"
        }
        target = "prod-us-east-1"
      },
      {
        region                      = "us-west-2"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-west-2"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names = {
          api-service          = "acme-shop-prod-api-service"
          auth-service         = "acme-shop-prod-auth-service"
          notification-service = "acme-shop-prod-notification-service"
        }
        target = "prod-us-east-1"
      },
    ]
  }

  expect_failures = [var.production]
}

run "production_target_same_as_staging" {
  command = plan

  variables {
    production = [
      {
        region                      = "us-east-1"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-east-1"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names = {
          api-service          = "acme-shop-prod-api-service"
          auth-service         = "acme-shop-prod-auth-service"
          notification-service = "acme-shop-prod-notification-service"
        }
        target = "prod-us-east-1"
      },
      {
        region                      = "us-west-2"
        account_id                  = "444444444444"
        deploy_role_arn             = "arn:aws:iam::444444444444:role/acme-shop-prod-deploy-us-west-2"
        codedeploy_application_name = "acme-shop-prod-services"
        deployment_group_names = {
          api-service          = "acme-shop-prod-api-service"
          auth-service         = "acme-shop-prod-auth-service"
          notification-service = "acme-shop-prod-notification-service"
        }
        target = "staging-us-east-1"
      },
    ]
  }

  expect_failures = [var.production]
}

run "name_prefix_longest_allowed" {
  command = plan

  variables {
    name_prefix = "acme-order-fulfilment-and-shipping-delivery-eu1" # 47 characters
  }

  assert {
    condition     = length(aws_iam_role.trigger[0].name) == 64
    error_message = "The longest role name must just fit the 64-character IAM limit."
  }
}
