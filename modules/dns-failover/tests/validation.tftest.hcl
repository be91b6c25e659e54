# Each run breaks exactly one validation rule of each variable it expects to fail
# (bin/check-validations --runs checks it). Runs are merged across variables for CI
# time, except that zone_name, whose second rule reads microservice_name, never
# shares a run with a broken microservice_name (Terraform skips a variable's rules
# when one it reads fails), and traffic_switch_alarm, whose first rule reads failover,
# never shares a run with a broken failover.

mock_provider "aws" {
  override_during = plan
}

variables {
  name_prefix       = "acme-shop-prod"
  microservice_name = "api-service"
  region            = "us-east-1"
  zone_id           = "Z0123456789ABCDEFGHIJ"
  zone_name         = "shop.example.com"
  failover          = "PRIMARY"
  health_check_path = "/health"
  load_balancer = {
    dns_name = "acme-shop-prod-api-alb-123456789.us-east-1.elb.amazonaws.com"
    zone_id  = "Z35SXDOTRQ7X7K"
  }
}

run "every_single_rule_variable_of_the_wrong_form" {
  command = plan

  variables {
    name_prefix       = "Acme-shop-prod"
    microservice_name = "api_service"
    region            = "US East 1"
    zone_id           = "/hostedzone/Z0123456789ABCDEFGHIJ"
    failover          = "primary"
    health_check_path = "health"
    health_check = {
      request_interval_seconds = 15
    }
  }

  expect_failures = [
    var.name_prefix, var.microservice_name, var.region, var.zone_id, var.failover,
    var.health_check_path, var.health_check,
  ]
}

run "zone_name_in_upper_case_a_threshold_above_ten_and_a_switch_without_a_region" {
  command = plan

  variables {
    zone_name = "Shop.example.com"
    health_check = {
      failure_threshold = 11
    }
    traffic_switch_alarm = {
      name   = "acme-shop-prod-dr-traffic-switch"
      region = "US West 2"
    }
  }

  expect_failures = [var.zone_name, var.health_check, var.traffic_switch_alarm]
}

run "name_longer_than_an_acm_domain_and_a_switch_on_the_secondary_are_rejected" {
  command = plan

  variables {
    zone_name = "a-rather-long-zone-name-for-the-online-shop.example.com"
    failover  = "SECONDARY"
    traffic_switch_alarm = {
      name   = "acme-shop-prod-dr-traffic-switch"
      region = "us-west-2"
    }
  }

  expect_failures = [var.zone_name, var.traffic_switch_alarm]
}
