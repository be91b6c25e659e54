locals {
  # The region of the load balancer and of this record's set identifier: the caller's
  # region, passed in because this module's provider is the zone's (Route 53 is global).
  region      = var.region
  record_name = "${var.microservice_name}.${var.zone_name}"
  check_name  = "${var.name_prefix}-${var.microservice_name}-${local.region}"

  # With a traffic switch (PRIMARY only): the record is answered on a calculated check
  # that needs both the endpoint and the switch healthy.
  switched = var.traffic_switch_alarm != null
}

# Route 53's checkers request the health path on the region's load balancer, over
# HTTPS (health checks do not verify certificates) on the production port.
resource "aws_route53_health_check" "this" {
  type              = "HTTPS"
  fqdn              = var.load_balancer.dns_name
  port              = 443
  resource_path     = var.health_check_path
  request_interval  = var.health_check.request_interval_seconds
  failure_threshold = var.health_check.failure_threshold

  tags = { Name = local.check_name }
}

# The traffic switch, as Route 53 sees it: healthy while the switch alarm (in the DR
# region, in this account: an AlarmIdentifier names no account) is OK, unhealthy in
# ALARM. Without data (a new alarm, or none since), the last known status, which is
# healthy for a new check: a switch once thrown stays thrown even if CloudWatch ever
# reports the metric's stream as insufficient.
resource "aws_route53_health_check" "traffic_switch" {
  count = local.switched ? 1 : 0

  type                            = "CLOUDWATCH_METRIC"
  cloudwatch_alarm_name           = var.traffic_switch_alarm.name
  cloudwatch_alarm_region         = var.traffic_switch_alarm.region
  insufficient_data_health_status = "LastKnownStatus"

  tags = { Name = "${local.check_name}-traffic-switch" }
}

# Endpoint healthy AND switch not thrown: both children must be healthy.
resource "aws_route53_health_check" "serving" {
  count = local.switched ? 1 : 0

  type                   = "CALCULATED"
  child_healthchecks     = [aws_route53_health_check.this.id, aws_route53_health_check.traffic_switch[0].id]
  child_health_threshold = 2

  tags = { Name = "${local.check_name}-serving" }
}

# PRIMARY in the first region, SECONDARY in the DR region: Route 53 answers the
# primary while its health check is healthy, else the secondary if its check is,
# else the primary. The load balancer's own health is not evaluated
# (evaluate_target_health = false): the health check decides, so that one thing says
# where users go.
resource "aws_route53_record" "this" {
  zone_id         = var.zone_id
  name            = local.record_name
  type            = "A"
  set_identifier  = local.region
  health_check_id = local.switched ? aws_route53_health_check.serving[0].id : aws_route53_health_check.this.id

  failover_routing_policy {
    type = var.failover
  }

  alias {
    name                   = var.load_balancer.dns_name
    zone_id                = var.load_balancer.zone_id
    evaluate_target_health = false
  }
}
