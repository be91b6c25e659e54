output "record_name" {
  description = "The failover name of the microservice: <microservice_name>.<zone_name>."
  value       = aws_route53_record.this.name
}

output "url" {
  description = "HTTPS URL of the microservice at its failover name."
  value       = "https://${local.record_name}"
}

output "validation_record_fqdn" {
  description = "The certificate's validation record as written (aws_acm_certificate_validation waits on it)."
  value       = aws_route53_record.validation.fqdn
}

output "health_check_id" {
  description = "ID of the Route 53 health check of the region's load balancer (in the zone's account)."
  value       = aws_route53_health_check.this.id
}
