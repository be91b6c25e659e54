# Plan-only tests of the ecr module against a mocked AWS provider. The
# lifecycle and repository policies are built with jsonencode from known
# values, so the tests decode them and assert on their contents.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_ecr_repository" {
    defaults = {
      arn            = "arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"
      repository_url = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service"
      registry_id    = "111111111111"
    }
  }

  mock_resource "aws_ecr_lifecycle_policy" {}
  mock_resource "aws_ecr_repository_policy" {}
  mock_resource "aws_ecr_replication_configuration" {}

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
  name_prefix         = "acme-shop-delivery"
  repository_names    = ["api-service", "auth-service", "notification-service", "build-image"]
  pull_account_ids    = ["222222222222", "333333333333", "444444444444"]
  replication_regions = ["us-west-2"]
}

run "repositories" {
  command = plan

  assert {
    condition = toset([for r in aws_ecr_repository.this : r.name]) == toset([
      "acme-shop-delivery-api-service", "acme-shop-delivery-auth-service", "acme-shop-delivery-notification-service", "acme-shop-delivery-build-image",
    ])
    error_message = "There must be one repository {name_prefix}-{name} per name."
  }

  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : r.image_scanning_configuration[0].scan_on_push])
    error_message = "Every repository must scan images on push."
  }

  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : r.image_tag_mutability == "IMMUTABLE"])
    error_message = "Every repository must have immutable tags."
  }

  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : r.encryption_configuration[0].encryption_type == "KMS"])
    error_message = "Every repository must be encrypted with KMS."
  }

  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : r.force_delete == false])
    error_message = "Repositories must refuse deletion with images by default."
  }
}

run "outputs" {
  command = plan

  assert {
    condition = output.repository_names == {
      "api-service"          = "acme-shop-delivery-api-service"
      "auth-service"         = "acme-shop-delivery-auth-service"
      "notification-service" = "acme-shop-delivery-notification-service"
      "build-image"          = "acme-shop-delivery-build-image"
    }
    error_message = "repository_names must map each short name to its full name."
  }

  assert {
    condition = (
      toset(keys(output.repository_urls)) == toset(var.repository_names)
      && toset(keys(output.repository_arns)) == toset(var.repository_names)
      && output.repository_urls["api-service"] == aws_ecr_repository.this["api-service"].repository_url
      && output.repository_arns["api-service"] == aws_ecr_repository.this["api-service"].arn
    )
    error_message = "repository_urls and repository_arns must be keyed by short name."
  }

  assert {
    condition     = output.registry_id == "111111111111"
    error_message = "registry_id must be the account ID."
  }
}

run "lifecycle_policy" {
  command = plan

  assert {
    condition     = length(aws_ecr_lifecycle_policy.this) == 4 && alltrue([for name, p in aws_ecr_lifecycle_policy.this : p.repository == "acme-shop-delivery-${name}"])
    error_message = "Every repository must have a lifecycle policy."
  }

  assert {
    condition     = length(jsondecode(aws_ecr_lifecycle_policy.this["api-service"].policy).rules) == 2
    error_message = "The lifecycle policy must have exactly two rules."
  }

  assert {
    condition = (
      jsondecode(aws_ecr_lifecycle_policy.this["api-service"].policy).rules[0].rulePriority == 1
      && jsondecode(aws_ecr_lifecycle_policy.this["api-service"].policy).rules[0].selection == {
        tagStatus   = "untagged"
        countType   = "sinceImagePushed"
        countUnit   = "days"
        countNumber = 7
      }
      && jsondecode(aws_ecr_lifecycle_policy.this["api-service"].policy).rules[0].action.type == "expire"
    )
    error_message = "Rule 1 must expire untagged images 7 days after push."
  }

  assert {
    condition = (
      jsondecode(aws_ecr_lifecycle_policy.this["api-service"].policy).rules[1].rulePriority == 2
      && jsondecode(aws_ecr_lifecycle_policy.this["api-service"].policy).rules[1].selection == {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = 10
      }
      && jsondecode(aws_ecr_lifecycle_policy.this["api-service"].policy).rules[1].action.type == "expire"
    )
    error_message = "Rule 2 (the last, as ECR requires for tagStatus any) must keep at most 10 images."
  }
}

run "lifecycle_policy_custom" {
  command = plan

  variables {
    untagged_image_expiry_days = 1
    max_image_count            = 30
  }

  assert {
    condition = (
      jsondecode(aws_ecr_lifecycle_policy.this["build-image"].policy).rules[0].selection.countNumber == 1
      && jsondecode(aws_ecr_lifecycle_policy.this["build-image"].policy).rules[1].selection.countNumber == 30
    )
    error_message = "The lifecycle inputs must set the rules' counts."
  }
}

run "pull_policy" {
  command = plan

  assert {
    condition     = length(aws_ecr_repository_policy.this) == 4
    error_message = "Every repository must have a pull policy."
  }

  assert {
    condition = alltrue([
      for p in aws_ecr_repository_policy.this :
      toset(jsondecode(p.policy).Statement[0].Principal.AWS) == toset(["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root", "arn:aws:iam::444444444444:root"])
    ])
    error_message = "The pull accounts' roots must be the principals of the pull policy."
  }

  assert {
    condition = alltrue([
      for p in aws_ecr_repository_policy.this :
      length(jsondecode(p.policy).Statement) == 1
      && jsondecode(p.policy).Statement[0].Effect == "Allow"
      && toset(jsondecode(p.policy).Statement[0].Action) == toset(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"])
    ])
    error_message = "The pull policy must allow exactly the three pull actions (no push, no wildcard)."
  }
}

run "no_pull_accounts" {
  command = plan

  variables {
    pull_account_ids = []
  }

  # A policy with no principal is malformed; no policy means same-account only.
  assert {
    condition     = length(aws_ecr_repository_policy.this) == 0
    error_message = "Without pull accounts there must be no repository policy."
  }
}

run "replication" {
  command = plan

  assert {
    condition     = length(aws_ecr_replication_configuration.this) == 1
    error_message = "replication_regions must create the replication configuration."
  }

  assert {
    condition = [
      for d in aws_ecr_replication_configuration.this[0].replication_configuration[0].rule[0].destination : { region = d.region, registry_id = d.registry_id }
    ] == [{ region = "us-west-2", registry_id = "111111111111" }]
    error_message = "Repositories must replicate to us-west-2 in the same registry."
  }

  assert {
    condition = (
      aws_ecr_replication_configuration.this[0].replication_configuration[0].rule[0].repository_filter[0].filter == "acme-shop-delivery-"
      && aws_ecr_replication_configuration.this[0].replication_configuration[0].rule[0].repository_filter[0].filter_type == "PREFIX_MATCH"
    )
    error_message = "The replication filter must match every repository of the module (its name prefix)."
  }
}

run "replication_two_regions" {
  command = plan

  variables {
    replication_regions = ["us-west-2", "eu-west-1"]
  }

  assert {
    condition     = [for d in aws_ecr_replication_configuration.this[0].replication_configuration[0].rule[0].destination : d.region] == ["us-west-2", "eu-west-1"]
    error_message = "Every replication region must be a destination."
  }
}

run "dr_instance_without_replication" {
  command = plan

  variables {
    replication_regions = []
  }

  override_data {
    target = data.aws_region.current
    values = {
      name = "us-west-2"
    }
  }

  assert {
    condition     = length(aws_ecr_replication_configuration.this) == 0
    error_message = "Without replication_regions there must be no replication configuration."
  }

  assert {
    condition     = length(aws_ecr_repository.this) == 4 && length(aws_ecr_lifecycle_policy.this) == 4 && length(aws_ecr_repository_policy.this) == 4
    error_message = "The DR instance must create the same repositories, with their lifecycle and pull policies."
  }
}

run "customer_managed_key" {
  command = plan

  variables {
    kms_key_arn         = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    enable_force_delete = true
  }

  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : r.encryption_configuration[0].encryption_type == "KMS" && r.encryption_configuration[0].kms_key == var.kms_key_arn])
    error_message = "kms_key_arn must encrypt every repository."
  }

  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : r.force_delete == true])
    error_message = "enable_force_delete must set force_delete."
  }
}
