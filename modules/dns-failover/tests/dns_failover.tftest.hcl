# Plan-only tests of the dns-failover module against a mocked provider (the zone's
# account): the health checks and the failover record.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_route53_health_check" {
    defaults = {
      id = "0c9b5e3a-aaaa-bbbb-cccc-ddddeeeeffff"
    }
  }
  mock_resource "aws_route53_record" {}
}

# Each health check its own ID, so that the assertions tell which one a record uses.
override_resource {
  target          = aws_route53_health_check.traffic_switch
  override_during = plan
  values = {
    id = "1d8c6f4b-aaaa-bbbb-cccc-ddddeeeeffff"
  }
}

override_resource {
  target          = aws_route53_health_check.serving
  override_during = plan
  values = {
    id = "2e7d5a3c-aaaa-bbbb-cccc-ddddeeeeffff"
  }
}

variables {
  name_prefix       = "acme-shop-prod"
  microservice_name = "api-service"
  region            = "us-west-2"
  zone_id           = "Z0123456789ABCDEFGHIJ"
  zone_name         = "shop.example.com"
  failover          = "SECONDARY"
  health_check_path = "/health"
  load_balancer = {
    dns_name = "acme-shop-prod-api-alb-123456789.us-west-2.elb.amazonaws.com"
    zone_id  = "Z1H1FL5HABSF5"
  }
}

run "failover_record_in_the_zone" {
  command = plan

  assert {
    condition     = aws_route53_record.this.name == "api-service.shop.example.com" && aws_route53_record.this.type == "A"
    error_message = "The service's name must be an A record <microservice_name>.<zone_name>."
  }

  assert {
    condition     = aws_route53_record.this.zone_id == "Z0123456789ABCDEFGHIJ"
    error_message = "The record must go in the given zone."
  }

  assert {
    condition     = aws_route53_record.this.set_identifier == "us-west-2" && aws_route53_record.this.failover_routing_policy[0].type == "SECONDARY"
    error_message = "The record must be the region's failover record: set identifier the region, failover role as given."
  }

  assert {
    condition = aws_route53_record.this.alias[0] == {
      name                   = "acme-shop-prod-api-alb-123456789.us-west-2.elb.amazonaws.com"
      zone_id                = "Z1H1FL5HABSF5"
      evaluate_target_health = false
    }
    error_message = "The record must alias the region's load balancer, without evaluating its target health (the health check decides)."
  }

  assert {
    condition     = aws_route53_record.this.health_check_id == "0c9b5e3a-aaaa-bbbb-cccc-ddddeeeeffff"
    error_message = "The record must be answered on its own health check."
  }

  assert {
    condition     = length(aws_route53_health_check.traffic_switch) == 0 && length(aws_route53_health_check.serving) == 0
    error_message = "Without a traffic switch there must be no switch or serving check: the endpoint's check alone decides."
  }

  assert {
    condition     = output.url == "https://api-service.shop.example.com"
    error_message = "The url output must be the service's HTTPS name."
  }
}

run "health_check_of_the_load_balancer" {
  command = plan

  assert {
    condition = (
      aws_route53_health_check.this.type == "HTTPS" &&
      aws_route53_health_check.this.fqdn == "acme-shop-prod-api-alb-123456789.us-west-2.elb.amazonaws.com" &&
      aws_route53_health_check.this.port == 443 &&
      aws_route53_health_check.this.resource_path == "/health"
    )
    error_message = "The health check must request the health path over HTTPS on the load balancer's port 443."
  }

  assert {
    condition     = aws_route53_health_check.this.request_interval == 30 && aws_route53_health_check.this.failure_threshold == 3
    error_message = "The health check must default to Route 53's standard interval (30 s) and three results in a row."
  }

  assert {
    condition     = aws_route53_health_check.this.tags.Name == "acme-shop-prod-api-service-us-west-2"
    error_message = "The health check must be named {name_prefix}-{microservice}-{region}."
  }
}

run "primary_with_fast_checks_behind_the_traffic_switch" {
  command = plan

  variables {
    failover = "PRIMARY"
    region   = "us-east-1"
    health_check = {
      request_interval_seconds = 10
      failure_threshold        = 1
    }
    traffic_switch_alarm = {
      name   = "acme-shop-prod-dr-traffic-switch"
      region = "us-west-2"
    }
  }

  assert {
    condition     = aws_route53_record.this.failover_routing_policy[0].type == "PRIMARY"
    error_message = "The first region's record must be the PRIMARY."
  }

  assert {
    condition     = aws_route53_health_check.this.request_interval == 10 && aws_route53_health_check.this.failure_threshold == 1
    error_message = "The health check must take the given interval and threshold."
  }

  assert {
    condition = (
      aws_route53_health_check.traffic_switch[0].type == "CLOUDWATCH_METRIC" &&
      aws_route53_health_check.traffic_switch[0].cloudwatch_alarm_name == "acme-shop-prod-dr-traffic-switch" &&
      aws_route53_health_check.traffic_switch[0].cloudwatch_alarm_region == "us-west-2"
    )
    error_message = "The switch's health check must watch the given alarm in the given region."
  }

  assert {
    condition     = aws_route53_health_check.traffic_switch[0].insufficient_data_health_status == "LastKnownStatus"
    error_message = "Without data the switch's health check must keep its last status (healthy when new): a thrown switch must stay thrown."
  }

  assert {
    condition = (
      aws_route53_health_check.serving[0].type == "CALCULATED" &&
      toset(aws_route53_health_check.serving[0].child_healthchecks) == toset([
        "0c9b5e3a-aaaa-bbbb-cccc-ddddeeeeffff", "1d8c6f4b-aaaa-bbbb-cccc-ddddeeeeffff",
      ]) &&
      aws_route53_health_check.serving[0].child_health_threshold == 2
    )
    error_message = "The serving check must be healthy only when both the endpoint's and the switch's checks are."
  }

  assert {
    condition     = aws_route53_record.this.health_check_id == "2e7d5a3c-aaaa-bbbb-cccc-ddddeeeeffff" && output.record_health_check_id == "2e7d5a3c-aaaa-bbbb-cccc-ddddeeeeffff"
    error_message = "The PRIMARY record must be answered on the serving (calculated) check."
  }

  assert {
    condition     = aws_route53_health_check.serving[0].tags.Name == "acme-shop-prod-api-service-us-east-1-serving" && aws_route53_health_check.traffic_switch[0].tags.Name == "acme-shop-prod-api-service-us-east-1-traffic-switch"
    error_message = "The switch's and the serving checks must be named after the endpoint's check."
  }
}
