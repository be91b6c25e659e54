locals {
  interface_endpoint_toggles = {
    "ecr.api"   = var.vpc_endpoints.enable_ecr
    "ecr.dkr"   = var.vpc_endpoints.enable_ecr
    logs        = var.vpc_endpoints.enable_logs
    ssm         = var.vpc_endpoints.enable_ssm
    ssmmessages = var.vpc_endpoints.enable_ssmmessages
  }

  # Enabled interface endpoints, keyed by service ("ecr.api").
  interface_endpoints = {
    for service, enabled in local.interface_endpoint_toggles : service => {
      service_name = "com.amazonaws.${local.region}.${service}"
      name         = "${var.name_prefix}-${replace(service, ".", "-")}"
    } if enabled
  }
}

resource "aws_vpc_endpoint" "s3" {
  count = var.vpc_endpoints.enable_s3 ? 1 : 0

  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [for az in var.availability_zones : aws_route_table.private[az].id]

  tags = { Name = local.s3_endpoint_name }
}

resource "aws_security_group" "endpoints" {
  count = length(local.interface_endpoints) > 0 ? 1 : 0

  name        = local.endpoints_sg_name
  description = "Interface VPC endpoints: HTTPS from the VPC"
  vpc_id      = aws_vpc.this.id

  tags = { Name = local.endpoints_sg_name }
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  count = length(local.interface_endpoints) > 0 ? 1 : 0

  security_group_id = aws_security_group.endpoints[0].id
  description       = "HTTPS from the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = aws_vpc.this.cidr_block
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.interface_endpoints

  vpc_id              = aws_vpc.this.id
  service_name        = each.value.service_name
  vpc_endpoint_type   = "Interface"
  subnet_ids          = [for az in var.availability_zones : aws_subnet.private[az].id]
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true

  tags = { Name = each.value.name }
}
