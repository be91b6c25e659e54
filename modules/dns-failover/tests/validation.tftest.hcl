# Each run breaks exactly one validation rule of the dns-failover module and expects
# its variable to fail.

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

run "name_prefix_with_uppercase_is_rejected" {
  command = plan

  variables {
    name_prefix = "Acme-shop-prod"
  }

  expect_failures = [var.name_prefix]
}

run "microservice_name_that_is_no_dns_label_is_rejected" {
  command = plan

  variables {
    microservice_name = "api_service"
  }

  expect_failures = [var.microservice_name]
}

run "region_that_is_no_region_name_is_rejected" {
  command = plan

  variables {
    region = "US East 1"
  }

  expect_failures = [var.region]
}

run "zone_id_with_the_hostedzone_prefix_is_rejected" {
  command = plan

  variables {
    zone_id = "/hostedzone/Z0123456789ABCDEFGHIJ"
  }

  expect_failures = [var.zone_id]
}

run "zone_name_in_upper_case_is_rejected" {
  command = plan

  variables {
    zone_name = "Shop.example.com"
  }

  expect_failures = [var.zone_name]
}

run "name_longer_than_an_acm_domain_is_rejected" {
  command = plan

  variables {
    zone_name = "a-rather-long-zone-name-for-the-online-shop.example.com"
  }

  expect_failures = [var.zone_name]
}

run "failover_that_is_no_failover_role_is_rejected" {
  command = plan

  variables {
    failover = "primary"
  }

  expect_failures = [var.failover]
}

run "relative_health_check_path_is_rejected" {
  command = plan

  variables {
    health_check_path = "health"
  }

  expect_failures = [var.health_check_path]
}

run "request_interval_route53_does_not_offer_is_rejected" {
  command = plan

  variables {
    health_check = {
      request_interval_seconds = 15
    }
  }

  expect_failures = [var.health_check]
}

run "failure_threshold_above_ten_is_rejected" {
  command = plan

  variables {
    health_check = {
      failure_threshold = 11
    }
  }

  expect_failures = [var.health_check]
}
