# Plan-only tests of the HTTP listener that redirects to HTTPS when the service has a
# certificate and enable_http_redirect, and of enable_https, against the same mocked provider as
# ecs_service.tftest.hcl.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_security_group" {}
  mock_resource "aws_vpc_security_group_ingress_rule" {}
  mock_resource "aws_vpc_security_group_egress_rule" {}
  mock_resource "aws_lb" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:us-east-1:444444444444:loadbalancer/app/acme-shop-prod-api-alb/0123456789abcdef"
      dns_name   = "acme-shop-prod-api-alb-123456789.us-east-1.elb.amazonaws.com"
      arn_suffix = "app/acme-shop-prod-api-alb/0123456789abcdef"
    }
  }
  mock_resource "aws_lb_target_group" {}
  mock_resource "aws_lb_listener" {}
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:444444444444:log-group:/ecs/acme-shop-prod/api-service"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::444444444444:role/mocked"
    }
  }
  mock_resource "aws_iam_role_policy" {}
  mock_resource "aws_iam_role_policy_attachment" {}
  mock_resource "aws_ecs_task_definition" {
    defaults = {
      arn = "arn:aws:ecs:us-east-1:444444444444:task-definition/acme-shop-prod-api-service:1"
    }
  }
  mock_resource "aws_ecs_service" {}
  mock_resource "aws_codedeploy_deployment_group" {}
  mock_resource "aws_appautoscaling_target" {}
  mock_resource "aws_appautoscaling_policy" {}

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

override_resource {
  target          = aws_lb_target_group.this["blue"]
  override_during = plan
  values = {
    arn = "arn:aws:elasticloadbalancing:us-east-1:444444444444:targetgroup/acme-shop-prod-api-blue/0000000000000001"
  }
}

override_resource {
  target          = aws_lb_target_group.this["green"]
  override_during = plan
  values = {
    arn = "arn:aws:elasticloadbalancing:us-east-1:444444444444:targetgroup/acme-shop-prod-api-green/0000000000000002"
  }
}

override_resource {
  target          = aws_lb_listener.production
  override_during = plan
  values = {
    arn = "arn:aws:elasticloadbalancing:us-east-1:444444444444:listener/app/acme-shop-prod-api-alb/0123456789abcdef/00000000000000a1"
  }
}

override_resource {
  target          = aws_lb_listener.test
  override_during = plan
  values = {
    arn = "arn:aws:elasticloadbalancing:us-east-1:444444444444:listener/app/acme-shop-prod-api-alb/0123456789abcdef/00000000000000a2"
  }
}

override_resource {
  target          = aws_iam_role.task
  override_during = plan
  values = {
    arn = "arn:aws:iam::444444444444:role/acme-shop-prod-api-task-us-east-1"
  }
}

override_resource {
  target          = aws_iam_role.execution
  override_during = plan
  values = {
    arn = "arn:aws:iam::444444444444:role/acme-shop-prod-api-exec-us-east-1"
  }
}

variables {
  name_prefix = "acme-shop-prod"
  microservice = {
    name              = "api-service"
    short_name        = "api"
    port              = 8080
    health_check_path = "/health"
  }
  vpc_id                      = "vpc-0a1b2c3d4e5f60718"
  public_subnet_ids           = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
  private_subnet_ids          = ["subnet-1111111111111111a", "subnet-1111111111111111b", "subnet-1111111111111111c"]
  cluster_arn                 = "arn:aws:ecs:us-east-1:444444444444:cluster/acme-shop-prod-cluster"
  cluster_name                = "acme-shop-prod-cluster"
  codedeploy_app_name         = "acme-shop-prod-services"
  codedeploy_service_role_arn = "arn:aws:iam::444444444444:role/acme-shop-prod-codedeploy-us-east-1"
  container_image             = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service:1.0.0"
  cpu                         = 256
  memory                      = 512
}

run "http_redirects_to_https_with_a_certificate" {
  command = plan

  variables {
    certificate_arn      = "arn:aws:acm:us-east-1:444444444444:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    enable_http_redirect = true
  }

  assert {
    condition     = length(aws_lb_listener.http_redirect) == 1 && aws_lb_listener.http_redirect[0].port == 80 && aws_lb_listener.http_redirect[0].protocol == "HTTP"
    error_message = "With a certificate an HTTP listener must answer on port 80."
  }

  assert {
    condition = (
      one(aws_lb_listener.http_redirect[0].default_action).type == "redirect" &&
      one(one(aws_lb_listener.http_redirect[0].default_action).redirect).protocol == "HTTPS" &&
      one(one(aws_lb_listener.http_redirect[0].default_action).redirect).port == "443" &&
      one(one(aws_lb_listener.http_redirect[0].default_action).redirect).status_code == "HTTP_301"
    )
    error_message = "The HTTP listener must redirect permanently (301) to the same URL over HTTPS on the production port."
  }

  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.alb : r.from_port]) == toset([80, 443, 8080])
    error_message = "The load balancer's security group must let in the redirect's port 80 beside the production and test listeners."
  }
}

run "no_redirect_without_a_certificate" {
  command = plan

  variables {
    enable_http_redirect = true
  }

  assert {
    condition     = length(aws_lb_listener.http_redirect) == 0
    error_message = "Without a certificate port 80 is the production listener itself: no redirect."
  }
}

run "no_redirect_by_default" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:us-east-1:444444444444:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
  }

  assert {
    condition     = length(aws_lb_listener.http_redirect) == 0 && toset([for r in aws_vpc_security_group_ingress_rule.alb : r.from_port]) == toset([443, 8080])
    error_message = "Without enable_http_redirect there must be no port 80 listener nor ingress."
  }
}

run "redirect_with_a_listener_on_port_80_is_rejected" {
  command = plan

  variables {
    certificate_arn      = "arn:aws:acm:us-east-1:444444444444:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    enable_http_redirect = true
    test_listener_port   = 80
  }

  expect_failures = [var.enable_http_redirect]
}

run "https_without_a_certificate_is_rejected" {
  command = plan

  variables {
    enable_https = true
  }

  expect_failures = [var.enable_https]
}

run "https_switched_on_explicitly" {
  command = plan

  variables {
    enable_https         = true
    enable_http_redirect = true
    certificate_arn      = "arn:aws:acm:us-east-1:444444444444:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
  }

  assert {
    condition     = aws_lb_listener.production.protocol == "HTTPS" && aws_lb_listener.production.port == 443 && length(aws_lb_listener.http_redirect) == 1
    error_message = "With enable_https the production listener must be HTTPS on 443, and port 80 must redirect."
  }
}
