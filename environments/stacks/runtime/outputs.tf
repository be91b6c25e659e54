output "vpc_id" {
  description = "ID of this region's VPC."
  value       = module.network.vpc_id
}

output "public_subnet_ids" {
  description = "Public subnets (the ALB), one per availability zone."
  value       = module.network.public_subnet_ids
}

output "private_subnet_ids" {
  description = "Private subnets (Fargate tasks), one per availability zone."
  value       = module.network.private_subnet_ids
}
