# Plan-only tests of the network module against a mocked AWS provider.
# override_during = plan, with a mock_resource block per resource type, makes
# the mocked computed values (IDs) known in the plan, so that references
# between resources (route -> NAT gateway of its zone) can be asserted.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_vpc" {}
  mock_resource "aws_default_security_group" {}
  mock_resource "aws_subnet" {}
  mock_resource "aws_internet_gateway" {}
  mock_resource "aws_eip" {}
  mock_resource "aws_nat_gateway" {}
  mock_resource "aws_route_table" {}
  mock_resource "aws_route" {}
  mock_resource "aws_route_table_association" {}
  mock_resource "aws_vpc_endpoint" {}
  mock_resource "aws_security_group" {}
  mock_resource "aws_vpc_security_group_ingress_rule" {}
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/acme-orders-prod-flow-logs-us-east-1"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:acme-orders-prod-flow-logs"
    }
  }
  mock_resource "aws_iam_role_policy" {}
  mock_resource "aws_flow_log" {}

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
}

variables {
  name_prefix        = "acme-orders-prod"
  cidr_block         = "10.40.0.0/16"
  availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
}

run "defaults_per_az" {
  command = plan

  # Subnets: three public and three private, one of each per zone.
  assert {
    condition     = length(aws_subnet.public) == 3 && length(aws_subnet.private) == 3
    error_message = "Expected three public and three private subnets."
  }

  assert {
    condition     = toset([for s in aws_subnet.public : s.availability_zone]) == toset(var.availability_zones)
    error_message = "The public subnets must be in the three availability zones."
  }

  assert {
    condition     = toset([for s in aws_subnet.private : s.availability_zone]) == toset(var.availability_zones)
    error_message = "The private subnets must be in the three availability zones."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.private : s.map_public_ip_on_launch == false])
    error_message = "Private subnets must not map public IP addresses."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.public : s.map_public_ip_on_launch == false])
    error_message = "Public subnets must not map public IP addresses either (nothing launched there needs one)."
  }

  assert {
    condition = (
      [for az in var.availability_zones : aws_subnet.private[az].cidr_block] == ["10.40.0.0/18", "10.40.64.0/18", "10.40.128.0/18"]
      && [for az in var.availability_zones : aws_subnet.public[az].cidr_block] == ["10.40.192.0/20", "10.40.208.0/20", "10.40.224.0/20"]
    )
    error_message = "Subnet CIDR blocks do not follow the documented layout."
  }

  assert {
    condition     = alltrue([for s in aws_subnet.public : s.tags.Tier == "public"]) && alltrue([for s in aws_subnet.private : s.tags.Tier == "private"])
    error_message = "Subnets must carry their Tier tag."
  }

  # NAT: one per zone, each in its zone's public subnet.
  assert {
    condition     = length(aws_nat_gateway.this) == 3 && length(aws_eip.nat) == 3
    error_message = "per_az mode must create three NAT gateways and three Elastic IPs."
  }

  assert {
    condition     = alltrue([for az in var.availability_zones : aws_nat_gateway.this[az].subnet_id == aws_subnet.public[az].id])
    error_message = "Each NAT gateway must be in the public subnet of its zone."
  }

  assert {
    condition     = length(output.nat_gateway_ids) == 3
    error_message = "nat_gateway_ids must list three gateways in per_az mode."
  }

  # Routes: private subnets go to the NAT gateway of their own zone, public
  # subnets to the internet gateway.
  assert {
    condition = alltrue([
      for az in var.availability_zones :
      aws_route.private_nat[az].destination_cidr_block == "0.0.0.0/0"
      && aws_route.private_nat[az].nat_gateway_id == aws_nat_gateway.this[az].id
      && aws_route.private_nat[az].route_table_id == aws_route_table.private[az].id
    ])
    error_message = "Each private route table must send 0.0.0.0/0 to the NAT gateway of its zone."
  }

  assert {
    condition     = alltrue([for az in var.availability_zones : aws_route_table_association.private[az].route_table_id == aws_route_table.private[az].id && aws_route_table_association.private[az].subnet_id == aws_subnet.private[az].id])
    error_message = "Each private subnet must be associated with the private route table of its zone."
  }

  assert {
    condition     = aws_route.public_internet.gateway_id == aws_internet_gateway.this.id && aws_route.public_internet.destination_cidr_block == "0.0.0.0/0"
    error_message = "The public route table must send 0.0.0.0/0 to the internet gateway."
  }

  assert {
    condition     = length(aws_route_table_association.public) == 3 && alltrue([for a in aws_route_table_association.public : a.route_table_id == aws_route_table.public.id])
    error_message = "The three public subnets must use the public route table."
  }

  # Endpoints.
  assert {
    condition     = aws_vpc_endpoint.s3[0].vpc_endpoint_type == "Gateway" && aws_vpc_endpoint.s3[0].service_name == "com.amazonaws.us-east-1.s3"
    error_message = "Expected an S3 gateway endpoint."
  }

  assert {
    condition     = toset(aws_vpc_endpoint.s3[0].route_table_ids) == toset([for rt in aws_route_table.private : rt.id])
    error_message = "The S3 gateway endpoint must be on the three private route tables."
  }

  assert {
    condition     = toset(keys(aws_vpc_endpoint.interface)) == toset(["ecr.api", "ecr.dkr", "logs", "ssm"])
    error_message = "By default the interface endpoints are ecr.api, ecr.dkr, logs and ssm."
  }

  assert {
    condition = alltrue([
      for service, e in aws_vpc_endpoint.interface :
      e.vpc_endpoint_type == "Interface"
      && e.private_dns_enabled
      && e.service_name == "com.amazonaws.us-east-1.${service}"
      && toset(e.subnet_ids) == toset([for s in aws_subnet.private : s.id])
      && e.security_group_ids == toset([aws_security_group.endpoints[0].id])
    ])
    error_message = "Interface endpoints must be in the private subnets, with private DNS and the endpoints security group."
  }

  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.endpoints_https[0].from_port == 443
      && aws_vpc_security_group_ingress_rule.endpoints_https[0].to_port == 443
      && aws_vpc_security_group_ingress_rule.endpoints_https[0].ip_protocol == "tcp"
      && aws_vpc_security_group_ingress_rule.endpoints_https[0].cidr_ipv4 == "10.40.0.0/16"
    )
    error_message = "The endpoints security group must allow HTTPS from the VPC CIDR."
  }

  assert {
    condition     = toset(keys(output.vpc_endpoint_ids)) == toset(["ecr.api", "ecr.dkr", "logs", "s3", "ssm"])
    error_message = "vpc_endpoint_ids must be keyed by service."
  }

  # Security defaults.
  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "The default security group must have no rules."
  }

  assert {
    condition     = aws_vpc.this.enable_dns_support && aws_vpc.this.enable_dns_hostnames
    error_message = "DNS support and hostnames must be enabled for private DNS of the endpoints."
  }

  # Flow logs (on by default).
  assert {
    condition = (
      aws_flow_log.this[0].vpc_id == aws_vpc.this.id
      && aws_flow_log.this[0].traffic_type == "REJECT"
      && aws_flow_log.this[0].log_destination == aws_cloudwatch_log_group.flow_logs[0].arn
      && aws_cloudwatch_log_group.flow_logs[0].retention_in_days == 365
    )
    error_message = "Flow logs must go to the module's log group by default."
  }

  # Names.
  assert {
    condition = (
      aws_vpc.this.tags.Name == "acme-orders-prod-vpc"
      && aws_internet_gateway.this.tags.Name == "acme-orders-prod-igw"
      && [for az in var.availability_zones : aws_subnet.public[az].tags.Name] == ["acme-orders-prod-public-a", "acme-orders-prod-public-b", "acme-orders-prod-public-c"]
      && [for az in var.availability_zones : aws_subnet.private[az].tags.Name] == ["acme-orders-prod-private-a", "acme-orders-prod-private-b", "acme-orders-prod-private-c"]
      && [for az in var.availability_zones : aws_nat_gateway.this[az].tags.Name] == ["acme-orders-prod-nat-a", "acme-orders-prod-nat-b", "acme-orders-prod-nat-c"]
      && [for az in var.availability_zones : aws_route_table.private[az].tags.Name] == ["acme-orders-prod-private-rt-a", "acme-orders-prod-private-rt-b", "acme-orders-prod-private-rt-c"]
      && aws_route_table.public.tags.Name == "acme-orders-prod-public-rt"
      && aws_security_group.endpoints[0].name == "acme-orders-prod-endpoints"
      && aws_vpc_endpoint.interface["ecr.api"].tags.Name == "acme-orders-prod-ecr-api"
      && aws_vpc_endpoint.s3[0].tags.Name == "acme-orders-prod-s3"
      && aws_cloudwatch_log_group.flow_logs[0].name == "acme-orders-prod-flow-logs"
      && aws_iam_role.flow_logs[0].name == "acme-orders-prod-flow-logs-us-east-1"
    )
    error_message = "Resource names must be built from name_prefix."
  }

  # Only Name (and Tier on subnets) as resource tags; the rest come from the
  # provider's default_tags.
  assert {
    condition     = toset(keys(aws_vpc.this.tags)) == toset(["Name"]) && alltrue([for s in aws_subnet.private : toset(keys(s.tags)) == toset(["Name", "Tier"])])
    error_message = "Resources must set only the Name (and subnet Tier) tags."
  }
}

run "single_nat" {
  command = plan

  variables {
    nat_gateway_mode = "single"
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_eip.nat) == 1 && toset(keys(aws_nat_gateway.this)) == toset(["us-east-1a"])
    error_message = "single mode must create one NAT gateway, in the first zone."
  }

  assert {
    condition     = aws_nat_gateway.this["us-east-1a"].subnet_id == aws_subnet.public["us-east-1a"].id
    error_message = "The single NAT gateway must be in the first public subnet."
  }

  assert {
    condition     = length(aws_route_table.private) == 3 && alltrue([for r in aws_route.private_nat : r.nat_gateway_id == aws_nat_gateway.this["us-east-1a"].id])
    error_message = "All three private route tables must send internet traffic to the single NAT gateway."
  }

  assert {
    condition     = length(output.nat_gateway_ids) == 1
    error_message = "nat_gateway_ids must list one gateway in single mode."
  }
}

run "smallest_vpc" {
  command = plan

  variables {
    cidr_block = "10.1.2.0/23"
  }

  assert {
    condition = (
      [for az in var.availability_zones : aws_subnet.private[az].cidr_block] == ["10.1.2.0/25", "10.1.2.128/25", "10.1.3.0/25"]
      && [for az in var.availability_zones : aws_subnet.public[az].cidr_block] == ["10.1.3.128/27", "10.1.3.160/27", "10.1.3.192/27"]
    )
    error_message = "A /23 must give three /25 private and three /27 public subnets."
  }
}

run "zone_order_and_other_zones" {
  command = plan

  variables {
    availability_zones = ["us-east-1d", "us-east-1f", "us-east-1b"]
  }

  assert {
    condition     = [for az in var.availability_zones : aws_subnet.private[az].tags.Name] == ["acme-orders-prod-private-d", "acme-orders-prod-private-f", "acme-orders-prod-private-b"]
    error_message = "Subnet names must carry the zone letter."
  }

  assert {
    condition     = output.availability_zones == tolist(["us-east-1d", "us-east-1f", "us-east-1b"])
    error_message = "availability_zones must keep the input order."
  }
}

run "endpoints_toggled" {
  command = plan

  variables {
    vpc_endpoints = {
      enable_s3          = false
      enable_ssm         = false
      enable_ssmmessages = true
    }
  }

  assert {
    condition     = length(aws_vpc_endpoint.s3) == 0
    error_message = "enable_s3 = false must remove the S3 gateway endpoint."
  }

  assert {
    condition     = toset(keys(aws_vpc_endpoint.interface)) == toset(["ecr.api", "ecr.dkr", "logs", "ssmmessages"])
    error_message = "Interface endpoints must follow their toggles."
  }

  assert {
    condition     = toset(keys(output.vpc_endpoint_ids)) == toset(["ecr.api", "ecr.dkr", "logs", "ssmmessages"])
    error_message = "vpc_endpoint_ids must list only the enabled endpoints."
  }
}

run "no_interface_endpoints" {
  command = plan

  variables {
    vpc_endpoints = {
      enable_ecr  = false
      enable_logs = false
      enable_ssm  = false
    }
  }

  assert {
    condition     = length(aws_vpc_endpoint.interface) == 0 && length(aws_security_group.endpoints) == 0
    error_message = "Without interface endpoints there must be no endpoints security group."
  }

  assert {
    condition     = output.vpc_endpoint_security_group_id == null && toset(keys(output.vpc_endpoint_ids)) == toset(["s3"])
    error_message = "Outputs must reflect that only the S3 endpoint exists."
  }
}

run "flow_logs_settings" {
  command = plan

  variables {
    flow_logs = {
      traffic_type      = "ALL"
      retention_in_days = 30
      kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    }
  }

  assert {
    condition = (
      aws_flow_log.this[0].traffic_type == "ALL"
      && aws_cloudwatch_log_group.flow_logs[0].retention_in_days == 30
      && aws_cloudwatch_log_group.flow_logs[0].kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    )
    error_message = "Flow log settings must be passed through."
  }
}

run "flow_logs_disabled" {
  command = plan

  variables {
    enable_flow_logs = false
  }

  assert {
    condition = (
      length(aws_flow_log.this) == 0
      && length(aws_cloudwatch_log_group.flow_logs) == 0
      && length(aws_iam_role.flow_logs) == 0
      && output.flow_log_id == null
    )
    error_message = "enable_flow_logs = false must create no flow log resources."
  }
}
