# --- Names that fail over (dns.zone) -------------------------------------------------
#
# Per service: <service>.<zone> answers this region's load balancer, PRIMARY in the
# environment's first region and SECONDARY in its DR region, each on a Route 53
# health check of its own; HTTPS with an ACM certificate of that name. The zone is the
# delivery stack's: found by name through aws.dns, never read from its state, so each
# region's workspace applies alone.
#
# The traffic switch (with two regions or more): the primary region's workspace also
# creates an alarm in the DR region, and each PRIMARY record is answered on a
# calculated check that needs its endpoint healthy AND that alarm not in ALARM
# (modules/dns-failover). `deployer dr failover` puts 1 on the alarm's metric in the
# DR region, `dr failback` 0: users move with nothing asked of us-east-1, where Route
# 53's control plane is (its health checkers and DNS servers, its data plane, are
# global; CloudWatch is regional).

locals {
  dns_services = var.dns == null ? {} : var.microservices
  failover     = var.region == var.regions[0] ? "PRIMARY" : "SECONDARY"

  # The environment's disaster-recovery region (aws.dns_dr's region; this one when
  # there is none).
  dr_region      = length(var.regions) > 1 ? var.regions[1] : var.region
  traffic_switch = var.dns != null && length(var.regions) > 1 && local.failover == "PRIMARY"
}

data "aws_route53_zone" "dns" {
  provider = aws.dns
  count    = var.dns == null ? 0 : 1

  name         = var.dns.zone_name
  private_zone = false
}

# In the environment's account and region, beside the load balancer that serves it.
# The certificate and its validation are not in modules/dns-failover: a module taking
# two providers does not pass `terraform validate` alone (hashicorp/terraform#28490),
# and a validation record there made module.dns and module.service depend on each
# other (a cycle through their close nodes).
resource "aws_acm_certificate" "dns" {
  for_each = local.dns_services

  domain_name       = "${each.key}.${var.dns.zone_name}"
  validation_method = "DNS"

  options {
    certificate_transparency_logging_preference = "ENABLED"
  }

  lifecycle {
    create_before_destroy = true
  }

  tags = { Name = "${each.key}.${var.dns.zone_name}" }
}

# ACM asks every certificate of a domain in one account for the same CNAME, whatever
# the certificate and the region: the primary's and the DR region's workspaces both
# write this one record, so the second takes it over (allow_overwrite) instead of
# failing on a record that exists. Destroying one region's workspace deletes it for
# both: the other region's certificate stays ISSUED and its listeners keep serving,
# but ACM's managed renewal needs the record, so apply the other region again (its
# plan finds the record gone and writes it back).
resource "aws_route53_record" "dns_validation" {
  provider = aws.dns
  for_each = local.dns_services

  zone_id         = data.aws_route53_zone.dns[0].zone_id
  name            = one(aws_acm_certificate.dns[each.key].domain_validation_options).resource_record_name
  type            = one(aws_acm_certificate.dns[each.key].domain_validation_options).resource_record_type
  records         = [one(aws_acm_certificate.dns[each.key].domain_validation_options).resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

# Waits until ACM has issued the certificate: the listeners refuse one pending
# validation.
resource "aws_acm_certificate_validation" "dns" {
  for_each = local.dns_services

  certificate_arn         = aws_acm_certificate.dns[each.key].arn
  validation_record_fqdns = [aws_route53_record.dns_validation[each.key].fqdn]
}

# The traffic switch: Maximum of Deployer/DR TrafficSwitch {Environment} >= 1 over one
# period is ALARM. Missing data is ignored (the alarm keeps its state), so the one
# data point `dr failover` or `dr failback` puts moves it for good. Route 53 watches
# alarms on standard-resolution metrics with Average, Minimum, Maximum, Sum or
# SampleCount (no extended statistics, no metric math): one metric, Maximum, and the
# environment's alarm period (alarms.period_seconds: 60 s or a multiple). Names:
# deployer/names.py (TRAFFIC_SWITCH_*, traffic_switch_alarm); the integration test
# holds them equal.
resource "aws_cloudwatch_metric_alarm" "traffic_switch" {
  provider = aws.dns_dr
  count    = local.traffic_switch ? 1 : 0

  alarm_name          = "${local.name_prefix}-dr-traffic-switch"
  alarm_description   = "Traffic switch of ${local.name_prefix}: in ALARM, Route 53 answers ${local.dr_region} (the SECONDARY records) for every service name in ${var.dns.zone_name}. Set by deployer dr failover (1) and dr failback (0)."
  namespace           = "Deployer/DR"
  metric_name         = "TrafficSwitch"
  dimensions          = { Environment = var.environment }
  statistic           = "Maximum"
  period              = var.alarm_thresholds.period_seconds
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "ignore"
}

# The failover record and its health check, in the zone's account.
module "dns" {
  source    = "../../../modules/dns-failover"
  for_each  = local.dns_services
  providers = { aws = aws.dns }

  name_prefix       = local.name_prefix
  microservice_name = each.key
  region            = var.region
  zone_id           = data.aws_route53_zone.dns[0].zone_id
  zone_name         = var.dns.zone_name
  failover          = local.failover
  health_check_path = each.value.health_check_path
  load_balancer = {
    dns_name = module.service[each.key].alb_dns_name
    zone_id  = module.service[each.key].alb_zone_id
  }
  traffic_switch_alarm = local.traffic_switch ? {
    name   = aws_cloudwatch_metric_alarm.traffic_switch[0].alarm_name
    region = local.dr_region
  } : null
}
