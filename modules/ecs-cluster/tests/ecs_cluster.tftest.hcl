# Plan-only tests of the ecs-cluster module against a mocked AWS provider.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_ecs_cluster" {
    defaults = {
      arn = "arn:aws:ecs:us-east-1:444444444444:cluster/acme-shop-prod-cluster"
    }
  }
  mock_resource "aws_ecs_cluster_capacity_providers" {}
  mock_resource "aws_codedeploy_app" {}
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::444444444444:role/acme-shop-prod-codedeploy-us-east-1"
    }
  }
  mock_resource "aws_iam_role_policy" {}

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
      account_id = "444444444444"
    }
  }
}

variables {
  name_prefix = "acme-shop-prod"
}

run "cluster" {
  command = plan

  assert {
    condition     = aws_ecs_cluster.this.name == "acme-shop-prod-cluster" && output.cluster_name == "acme-shop-prod-cluster"
    error_message = "The cluster must be named {name_prefix}-cluster."
  }

  assert {
    condition     = [for s in aws_ecs_cluster.this.setting : s if s.name == "containerInsights"][0].value == "enabled"
    error_message = "Container Insights must be enabled."
  }

  assert {
    condition = (
      aws_ecs_cluster_capacity_providers.this.cluster_name == "acme-shop-prod-cluster"
      && contains(aws_ecs_cluster_capacity_providers.this.capacity_providers, "FARGATE")
      && length(aws_ecs_cluster_capacity_providers.this.default_capacity_provider_strategy) == 1
      && one(aws_ecs_cluster_capacity_providers.this.default_capacity_provider_strategy).capacity_provider == "FARGATE"
    )
    error_message = "FARGATE must be the cluster's default capacity provider strategy."
  }

  assert {
    condition     = output.cluster_arn == "arn:aws:ecs:us-east-1:444444444444:cluster/acme-shop-prod-cluster"
    error_message = "cluster_arn must be the cluster's ARN."
  }
}

run "codedeploy_application" {
  command = plan

  assert {
    condition     = aws_codedeploy_app.this.name == "acme-shop-prod-services" && aws_codedeploy_app.this.compute_platform == "ECS"
    error_message = "The CodeDeploy application must be {name_prefix}-services on the ECS compute platform."
  }

  assert {
    condition     = output.codedeploy_app_name == "acme-shop-prod-services"
    error_message = "codedeploy_app_name must be the application's name."
  }
}

run "codedeploy_service_role" {
  command = plan

  assert {
    condition     = aws_iam_role.codedeploy.name == "acme-shop-prod-codedeploy-us-east-1"
    error_message = "The CodeDeploy role must be {name_prefix}-codedeploy-{region} (IAM is global)."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.codedeploy.assume_role_policy).Statement[0].Principal == { Service = "codedeploy.amazonaws.com" }
      && jsondecode(aws_iam_role.codedeploy.assume_role_policy).Statement[0].Action == "sts:AssumeRole"
      && length(jsondecode(aws_iam_role.codedeploy.assume_role_policy).Statement) == 1
    )
    error_message = "Only codedeploy.amazonaws.com may assume the CodeDeploy role."
  }

  assert {
    condition     = output.codedeploy_service_role_arn == "arn:aws:iam::444444444444:role/acme-shop-prod-codedeploy-us-east-1"
    error_message = "codedeploy_service_role_arn must be the role's ARN."
  }

  assert {
    condition     = aws_iam_role_policy.codedeploy.role == aws_iam_role.codedeploy.id
    error_message = "The blue/green policy must be attached to the CodeDeploy role."
  }
}

run "codedeploy_policy_least_privilege" {
  command = plan

  # Every action AWSCodeDeployRoleForECS needs for an ECS blue/green
  # deployment (S3 reads aside: CodePipeline passes the AppSpec inline).
  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_role_policy.codedeploy.policy).Statement : s.Action])) == toset([
      "ecs:DescribeServices",
      "ecs:CreateTaskSet",
      "ecs:UpdateServicePrimaryTaskSet",
      "ecs:DeleteTaskSet",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:ModifyRule",
      "lambda:InvokeFunction",
      "cloudwatch:DescribeAlarms",
      "sns:Publish",
      "iam:PassRole",
    ])
    error_message = "The policy must grant exactly the ECS blue/green actions."
  }

  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.codedeploy.policy).Statement : s.Effect == "Allow" && !anytrue([for a in flatten([s.Action]) : strcontains(a, "*")])])
    error_message = "No action may use a wildcard."
  }

  # "*" only for the APIs without resource-level permissions.
  assert {
    condition = toset(flatten([
      for s in jsondecode(aws_iam_role_policy.codedeploy.policy).Statement : s.Action if s.Resource == "*"
      ])) == toset([
      "ecs:CreateTaskSet",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTargetGroups",
    ])
    error_message = "Only CreateTaskSet and the ELB Describe calls may use Resource \"*\"."
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.codedeploy.policy).Statement : s.Condition if s.Sid == "EcsCreateTaskSet"][0] == { ArnEquals = { "ecs:cluster" = "arn:aws:ecs:us-east-1:444444444444:cluster/acme-shop-prod-cluster" } }
    error_message = "CreateTaskSet must be limited to the cluster by the ecs:cluster condition."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.codedeploy.policy).Statement : s.Resource if s.Sid == "EcsServices"][0] == "arn:aws:ecs:us-east-1:444444444444:service/acme-shop-prod-cluster/*"
      && [for s in jsondecode(aws_iam_role_policy.codedeploy.policy).Statement : s.Resource if s.Sid == "EcsDeleteTaskSet"][0] == "arn:aws:ecs:us-east-1:444444444444:task-set/acme-shop-prod-cluster/*"
    )
    error_message = "Service and task set actions must be limited to the cluster's services."
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.codedeploy.policy).Statement : s.Resource if s.Sid == "ShiftTraffic"][0] == [
      "arn:aws:elasticloadbalancing:us-east-1:444444444444:listener/app/acme-shop-prod-*/*",
      "arn:aws:elasticloadbalancing:us-east-1:444444444444:listener-rule/app/acme-shop-prod-*/*",
    ]
    error_message = "ModifyListener/ModifyRule must be limited to the environment's load balancers."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.codedeploy.policy).Statement : s.Resource if s.Sid == "LifecycleHooks"][0] == "arn:aws:lambda:us-east-1:444444444444:function:acme-shop-prod-*"
      && [for s in jsondecode(aws_iam_role_policy.codedeploy.policy).Statement : s.Resource if s.Sid == "DeploymentAlarms"][0] == "arn:aws:cloudwatch:us-east-1:444444444444:alarm:acme-shop-prod-*"
      && [for s in jsondecode(aws_iam_role_policy.codedeploy.policy).Statement : s.Resource if s.Sid == "Notifications"][0] == "arn:aws:sns:us-east-1:444444444444:acme-shop-prod-*"
    )
    error_message = "Hooks, alarms and topics must be limited to {name_prefix}-* in this region and account."
  }

  assert {
    condition = (
      [for s in jsondecode(aws_iam_role_policy.codedeploy.policy).Statement : s.Resource if s.Sid == "PassTaskRoles"][0] == [
        "arn:aws:iam::444444444444:role/acme-shop-prod-*-task-us-east-1",
        "arn:aws:iam::444444444444:role/acme-shop-prod-*-exec-us-east-1",
      ]
      && [for s in jsondecode(aws_iam_role_policy.codedeploy.policy).Statement : s.Condition if s.Sid == "PassTaskRoles"][0] == { StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
    )
    error_message = "PassRole must be limited to the environment's task and execution roles of this region, passed to ECS tasks."
  }
}

run "other_region" {
  command = plan

  override_data {
    target = data.aws_region.current
    values = {
      name = "us-west-2"
    }
  }

  assert {
    condition     = aws_iam_role.codedeploy.name == "acme-shop-prod-codedeploy-us-west-2"
    error_message = "The CodeDeploy role name must carry the region."
  }

  assert {
    condition     = aws_ecs_cluster.this.name == "acme-shop-prod-cluster" && aws_codedeploy_app.this.name == "acme-shop-prod-services"
    error_message = "Regional resources keep the same names in every region."
  }
}
