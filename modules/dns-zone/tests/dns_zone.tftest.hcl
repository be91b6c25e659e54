# Plan-only tests of the dns-zone module against a mocked AWS provider: the zone, and
# the role the environment's workspaces change it through, its trust and its policy
# decoded statement by statement.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_route53_zone" {
    defaults = {
      arn     = "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"
      zone_id = "Z0123456789ABCDEFGHIJ"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111111111111:role/acme-shop-delivery-dns-prod"
    }
  }
  mock_resource "aws_iam_role_policy" {}

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
}

variables {
  name_prefix       = "acme-shop-delivery"
  environment       = "prod"
  zone_name         = "shop.example.com"
  record_names      = ["api-service.shop.example.com", "auth-service.shop.example.com"]
  trusted_role_arns = ["arn:aws:iam::444444444444:role/OrganizationAccountAccessRole"]
}

run "zone_and_role" {
  command = plan

  assert {
    condition     = aws_route53_zone.this.name == "shop.example.com"
    error_message = "The zone must carry the configured name."
  }

  assert {
    condition     = length(aws_route53_zone.this.vpc) == 0
    error_message = "The zone must be public (no VPC association): Route 53 answers its names on the internet."
  }

  assert {
    condition     = aws_iam_role.this.name == "acme-shop-delivery-dns-prod"
    error_message = "The role must be named {name_prefix}-dns-{environment} (deployer/tfvars.py dns_role_name gives the runtime workspaces the same name)."
  }

  assert {
    condition = jsondecode(aws_iam_role.this.assume_role_policy).Statement == [{
      Sid       = "EnvironmentDeployRole"
      Effect    = "Allow"
      Principal = { AWS = ["arn:aws:iam::444444444444:role/OrganizationAccountAccessRole"] }
      Action    = "sts:AssumeRole"
    }]
    error_message = "Only the environment's deploy role may assume the zone's role."
  }
}

run "record_changes_are_held_to_the_environments_names_and_types" {
  command = plan

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.records.policy).Statement : s
      if s.Sid == "ChangeTheEnvironmentsRecords"
      ]) == {
      Sid      = "ChangeTheEnvironmentsRecords"
      Effect   = "Allow"
      Action   = ["route53:ChangeResourceRecordSets"]
      Resource = ["arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"]
      Condition = {
        "ForAllValues:StringLike" = {
          "route53:ChangeResourceRecordSetsNormalizedRecordNames" = [
            "_*.api-service.shop.example.com",
            "_*.auth-service.shop.example.com",
            "api-service.shop.example.com",
            "auth-service.shop.example.com",
          ]
        }
        "ForAllValues:StringEquals" = {
          "route53:ChangeResourceRecordSetsRecordTypes" = ["A", "CNAME"]
          "route53:ChangeResourceRecordSetsActions"     = ["CREATE", "UPSERT", "DELETE"]
        }
      }
    }
    error_message = "ChangeResourceRecordSets must be allowed on the zone only, for the environment's names and their validation records, types A and CNAME."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.records.policy).Statement :
      s.Resource == ["*"] ? toset(s.Action) == toset(["route53:ListHostedZones", "route53:ListHostedZonesByName", "route53:CreateHealthCheck"]) : true
    ])
    error_message = "Only the actions without resource-level permissions (ListHostedZones, ListHostedZonesByName, CreateHealthCheck) may be allowed on *."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.records.policy).Statement :
      alltrue([for a in s.Action : startswith(a, s.Sid == "ManageTheTrafficSwitchAlarm" ? "cloudwatch:" : "route53:") && !strcontains(a, "*")])
    ])
    error_message = "The policy must allow Route 53 actions only, none with a wildcard, but for CloudWatch's on the traffic switch alarm."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.records.policy).Statement : s.Resource
      if s.Sid == "ManageTheTrafficSwitchAlarm"
    ]) == ["arn:aws:cloudwatch:*:${data.aws_caller_identity.current.account_id}:alarm:*-prod-dr-traffic-switch"]
    error_message = "CloudWatch must be allowed on the environment's traffic switch alarm only, in the zone's account."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.records.policy).Statement : s.Resource
      if s.Sid == "ManageHealthChecks"
    ]) == ["arn:aws:route53:::healthcheck/*"]
    error_message = "Health checks (which a record references in the zone's account) must be managed on health check ARNs only."
  }
}
