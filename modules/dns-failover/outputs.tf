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

output "record_health_check_id" {
  description = "ID of the health check the record is answered on: the calculated check (endpoint and traffic switch) with traffic_switch_alarm, else the endpoint's."
  value       = aws_route53_record.this.health_check_id
}
