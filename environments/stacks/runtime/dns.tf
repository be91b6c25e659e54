# --- Names that fail over (dns.zone) -------------------------------------------------
#
# Per service: <service>.<zone> answers this region's load balancer, PRIMARY in the
# environment's first region and SECONDARY in its DR region, each on a Route 53
# health check of its own; HTTPS with an ACM certificate of that name. The zone is the
# delivery stack's: found by name through aws.dns, never read from its state, so each
# region's workspace applies alone.

locals {
  dns_services = var.dns == null ? {} : var.microservices
  failover     = var.region == var.regions[0] ? "PRIMARY" : "SECONDARY"
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
}
