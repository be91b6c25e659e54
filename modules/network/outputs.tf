output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_arn" {
  description = "ARN of the VPC."
  value       = aws_vpc.this.arn
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "Availability zones of the subnets, in the order of the subnet lists."
  value       = var.availability_zones
}

output "public_subnet_ids" {
  description = "IDs of the public subnets (for the load balancer), in the order of availability_zones."
  value       = [for az in var.availability_zones : aws_subnet.public[az].id]
}

output "public_subnet_cidr_blocks" {
  description = "CIDR blocks of the public subnets, in the order of availability_zones."
  value       = [for az in var.availability_zones : aws_subnet.public[az].cidr_block]
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (for Fargate tasks), in the order of availability_zones."
  value       = [for az in var.availability_zones : aws_subnet.private[az].id]
}

output "private_subnet_cidr_blocks" {
  description = "CIDR blocks of the private subnets, in the order of availability_zones."
  value       = [for az in var.availability_zones : aws_subnet.private[az].cidr_block]
}

output "public_route_table_id" {
  description = "ID of the route table of the public subnets."
  value       = aws_route_table.public.id
}

output "private_route_table_ids" {
  description = "IDs of the route tables of the private subnets, in the order of availability_zones."
  value       = [for az in var.availability_zones : aws_route_table.private[az].id]
}

output "internet_gateway_id" {
  description = "ID of the internet gateway."
  value       = aws_internet_gateway.this.id
}

output "nat_gateway_ids" {
  description = "IDs of the NAT gateways: three with nat_gateway_mode \"per_az\", one with \"single\"."
  value       = [for az in local.nat_zones : aws_nat_gateway.this[az].id]
}

output "nat_gateway_public_ips" {
  description = "Public IPv4 addresses of the NAT gateways (the source address of the tasks' internet traffic, for allow-lists)."
  value       = [for az in local.nat_zones : aws_eip.nat[az].public_ip]
}

output "vpc_endpoint_security_group_id" {
  description = "ID of the security group of the interface VPC endpoints (HTTPS from the VPC), or null when no interface endpoint is enabled."
  value       = try(aws_security_group.endpoints[0].id, null)
}

output "vpc_endpoint_ids" {
  description = "IDs of the VPC endpoints, keyed by service: \"s3\", \"ecr.api\", \"ecr.dkr\", \"logs\", \"ssm\", \"ssmmessages\" (only the enabled ones)."
  value = merge(
    { for service, endpoint in aws_vpc_endpoint.interface : service => endpoint.id },
    var.vpc_endpoints.enable_s3 ? { s3 = aws_vpc_endpoint.s3[0].id } : {},
  )
}

output "default_security_group_id" {
  description = "ID of the VPC's default security group, managed without any rules."
  value       = aws_default_security_group.this.id
}

output "flow_log_id" {
  description = "ID of the VPC flow log, or null when enable_flow_logs is false."
  value       = try(aws_flow_log.this[0].id, null)
}

output "flow_log_group_name" {
  description = "Name of the CloudWatch Logs log group of the flow logs, or null when enable_flow_logs is false."
  value       = try(aws_cloudwatch_log_group.flow_logs[0].name, null)
}
