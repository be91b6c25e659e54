locals {
  # The region of the load balancer and of this record's set identifier: the caller's
  # region, passed in because this module's provider is the zone's (Route 53 is global).
  region      = var.region
  record_name = "${var.microservice_name}.${var.zone_name}"
  check_name  = "${var.name_prefix}-${var.microservice_name}-${local.region}"
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
  health_check_id = aws_route53_health_check.this.id

  failover_routing_policy {
    type = var.failover
  }

  alias {
    name                   = var.load_balancer.dns_name
    zone_id                = var.load_balancer.zone_id
    evaluate_target_health = false
  }
}
