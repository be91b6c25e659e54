output "record_name" {
  description = "The failover name of the microservice: <microservice_name>.<zone_name>."
  value       = aws_route53_record.this.name
}

output "url" {
  description = "HTTPS URL of the microservice at its failover name."
  value       = "https://${local.record_name}"
}

output "health_check_id" {
  description = "ID of the Route 53 health check of the region's load balancer (in the zone's account)."
  value       = aws_route53_health_check.this.id
}
