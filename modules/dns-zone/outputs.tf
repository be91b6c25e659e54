output "zone_id" {
  description = "ID of the public hosted zone."
  value       = aws_route53_zone.this.zone_id
}

output "zone_name" {
  description = "Name of the public hosted zone, without the trailing dot."
  value       = var.zone_name
}

output "zone_name_servers" {
  description = "The zone's name servers: delegate the domain to them at its registrar (or parent zone)."
  value       = aws_route53_zone.this.name_servers
}

output "role_arn" {
  description = "ARN of the role the environment's runtime workspaces change the zone through."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of that role: {name_prefix}-dns-{environment}."
  value       = aws_iam_role.this.name
}
