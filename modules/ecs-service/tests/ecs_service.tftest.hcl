# Plan-only tests of the ecs-service module against a mocked AWS provider.
# override_during = plan makes the mocked computed values (ARNs, IDs) known in
# the plan, so references between resources can be asserted. Attributes
# without a default get a random value per instance, which keeps the blue and
# green target groups apart.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_security_group" {}
  mock_resource "aws_vpc_security_group_ingress_rule" {}
  mock_resource "aws_vpc_security_group_egress_rule" {}
  mock_resource "aws_lb" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:us-east-1:444444444444:loadbalancer/app/acme-shop-prod-api-alb/0123456789abcdef"
      dns_name   = "acme-shop-prod-api-alb-123456789.us-east-1.elb.amazonaws.com"
      arn_suffix = "app/acme-shop-prod-api-alb/0123456789abcdef"
    }
  }
  mock_resource "aws_lb_target_group" {}
  mock_resource "aws_lb_listener" {}
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:444444444444:log-group:/ecs/acme-shop-prod/api-service"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::444444444444:role/mocked"
    }
  }
  mock_resource "aws_iam_role_policy" {}
  mock_resource "aws_iam_role_policy_attachment" {}
  mock_resource "aws_ecs_task_definition" {
    defaults = {
      arn = "arn:aws:ecs:us-east-1:444444444444:task-definition/acme-shop-prod-api-service:1"
    }
  }
  mock_resource "aws_ecs_service" {}
  mock_resource "aws_codedeploy_deployment_group" {}
  mock_resource "aws_appautoscaling_target" {}
  mock_resource "aws_appautoscaling_policy" {}

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
      account_id = "444444444444"
    }
  }
}

override_resource {
  target          = aws_lb_target_group.this["blue"]
  override_during = plan
  values = {
    arn = "arn:aws:elasticloadbalancing:us-east-1:444444444444:targetgroup/acme-shop-prod-api-blue/0000000000000001"
  }
}

override_resource {
  target          = aws_lb_target_group.this["green"]
  override_during = plan
  values = {
    arn = "arn:aws:elasticloadbalancing:us-east-1:444444444444:targetgroup/acme-shop-prod-api-green/0000000000000002"
  }
}

override_resource {
  target          = aws_lb_listener.production
  override_during = plan
  values = {
    arn = "arn:aws:elasticloadbalancing:us-east-1:444444444444:listener/app/acme-shop-prod-api-alb/0123456789abcdef/00000000000000a1"
  }
}

override_resource {
  target          = aws_lb_listener.test
  override_during = plan
  values = {
    arn = "arn:aws:elasticloadbalancing:us-east-1:444444444444:listener/app/acme-shop-prod-api-alb/0123456789abcdef/00000000000000a2"
  }
}

override_resource {
  target          = aws_iam_role.task
  override_during = plan
  values = {
    arn = "arn:aws:iam::444444444444:role/acme-shop-prod-api-task-us-east-1"
  }
}

override_resource {
  target          = aws_iam_role.execution
  override_during = plan
  values = {
    arn = "arn:aws:iam::444444444444:role/acme-shop-prod-api-exec-us-east-1"
  }
}

variables {
  name_prefix = "acme-shop-prod"
  microservice = {
    name              = "api-service"
    short_name        = "api"
    port              = 8080
    health_check_path = "/health"
  }
  vpc_id                      = "vpc-0a1b2c3d4e5f60718"
  public_subnet_ids           = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
  private_subnet_ids          = ["subnet-1111111111111111a", "subnet-1111111111111111b", "subnet-1111111111111111c"]
  cluster_arn                 = "arn:aws:ecs:us-east-1:444444444444:cluster/acme-shop-prod-cluster"
  cluster_name                = "acme-shop-prod-cluster"
  codedeploy_app_name         = "acme-shop-prod-services"
  codedeploy_service_role_arn = "arn:aws:iam::444444444444:role/acme-shop-prod-codedeploy-us-east-1"
  container_image             = "111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-shop-delivery-api-service:1.0.0"
  cpu                         = 256
  memory                      = 512
}

run "service_blue_green" {
  command = plan

  assert {
    condition     = aws_ecs_service.this.name == "acme-shop-prod-api-service" && aws_ecs_service.this.cluster == var.cluster_arn
    error_message = "The service must be {name_prefix}-{name} in the given cluster."
  }

  assert {
    condition     = one(aws_ecs_service.this.deployment_controller).type == "CODE_DEPLOY"
    error_message = "The service must use the CODE_DEPLOY deployment controller."
  }

  assert {
    condition     = aws_ecs_service.this.launch_type == "FARGATE" && aws_ecs_service.this.desired_count == 2
    error_message = "The service must run 2 Fargate tasks by default."
  }

  assert {
    condition     = one(aws_ecs_service.this.network_configuration).assign_public_ip == false
    error_message = "Tasks must not get public IP addresses."
  }

  assert {
    condition     = toset(one(aws_ecs_service.this.network_configuration).subnets) == toset(var.private_subnet_ids)
    error_message = "Tasks must run in the private subnets."
  }

  assert {
    condition     = one(aws_ecs_service.this.network_configuration).security_groups == toset([aws_security_group.tasks.id])
    error_message = "Tasks must use the task security group only."
  }

  assert {
    condition = (
      one(aws_ecs_service.this.load_balancer).target_group_arn == aws_lb_target_group.this["blue"].arn
      && one(aws_ecs_service.this.load_balancer).container_name == "api-service"
      && one(aws_ecs_service.this.load_balancer).container_port == 8080
    )
    error_message = "The service must start behind the blue target group, on the container's port."
  }

  assert {
    condition     = aws_ecs_service.this.task_definition == aws_ecs_task_definition.this.arn
    error_message = "The service must start on the module's task definition revision."
  }

  assert {
    condition     = output.service_name == "acme-shop-prod-api-service" && output.service_arn == aws_ecs_service.this.id
    error_message = "service_name and service_arn must describe the service."
  }
}

run "task_definition_256_512" {
  command = plan

  assert {
    condition     = aws_ecs_task_definition.this.cpu == "256" && aws_ecs_task_definition.this.memory == "512"
    error_message = "The task definition must take cpu 256 and memory 512 from the inputs."
  }

  assert {
    condition = (
      aws_ecs_task_definition.this.family == "acme-shop-prod-api-service"
      && aws_ecs_task_definition.this.network_mode == "awsvpc"
      && aws_ecs_task_definition.this.requires_compatibilities == toset(["FARGATE"])
    )
    error_message = "The task definition must be the Fargate awsvpc family {name_prefix}-{name}."
  }

  assert {
    condition = (
      aws_ecs_task_definition.this.execution_role_arn == "arn:aws:iam::444444444444:role/acme-shop-prod-api-exec-us-east-1"
      && aws_ecs_task_definition.this.task_role_arn == "arn:aws:iam::444444444444:role/acme-shop-prod-api-task-us-east-1"
    )
    error_message = "The task definition must use the module's execution and task roles."
  }

  assert {
    condition = (
      jsondecode(aws_ecs_task_definition.this.container_definitions)[0].image == var.container_image
      && jsondecode(aws_ecs_task_definition.this.container_definitions)[0].name == "api-service"
      && jsondecode(aws_ecs_task_definition.this.container_definitions)[0].portMappings[0].containerPort == 8080
      && jsondecode(aws_ecs_task_definition.this.container_definitions)[0].logConfiguration.options.awslogs-group == "/ecs/acme-shop-prod/api-service"
    )
    error_message = "The baseline revision must run container_image and log to the service's log group."
  }

  assert {
    condition     = output.task_definition_family == "acme-shop-prod-api-service" && output.task_definition_arn == aws_ecs_task_definition.this.arn
    error_message = "task_definition_family and task_definition_arn must describe the task definition."
  }
}

run "task_definition_512_1024" {
  command = plan

  variables {
    cpu    = 512
    memory = 1024
  }

  assert {
    condition     = aws_ecs_task_definition.this.cpu == "512" && aws_ecs_task_definition.this.memory == "1024"
    error_message = "The task definition must take cpu 512 and memory 1024 from the inputs."
  }
}

run "load_balancer_and_target_groups" {
  command = plan

  assert {
    condition = (
      aws_lb.this.name == "acme-shop-prod-api-alb"
      && aws_lb.this.load_balancer_type == "application"
      && aws_lb.this.internal == false
      && toset(aws_lb.this.subnets) == toset(var.public_subnet_ids)
      && aws_lb.this.security_groups == toset([aws_security_group.alb.id])
    )
    error_message = "The load balancer must be {name_prefix}-{short_name}-alb, internet-facing, in the public subnets, with its security group."
  }

  assert {
    condition     = aws_lb.this.drop_invalid_header_fields == true
    error_message = "The load balancer must drop invalid header fields."
  }

  assert {
    condition     = aws_lb.this.enable_deletion_protection == false
    error_message = "Deletion protection is off by default."
  }

  assert {
    condition     = length(aws_lb_target_group.this) == 2 && output.target_group_names == { blue = "acme-shop-prod-api-blue", green = "acme-shop-prod-api-green" }
    error_message = "There must be two target groups, {name_prefix}-{short_name}-blue and -green."
  }

  assert {
    condition = alltrue([
      for tg in aws_lb_target_group.this :
      tg.target_type == "ip" && tg.port == 8080 && tg.protocol == "HTTP" && tg.vpc_id == var.vpc_id
      && one(tg.health_check).path == "/health"
    ])
    error_message = "Target groups must be ip targets on the container port in the VPC, health-checked on health_check_path."
  }

  assert {
    condition     = output.target_group_arns == { blue = aws_lb_target_group.this["blue"].arn, green = aws_lb_target_group.this["green"].arn }
    error_message = "target_group_arns must be keyed blue and green."
  }

  assert {
    condition     = output.alb_arn_suffix == "app/acme-shop-prod-api-alb/0123456789abcdef" && output.alb_dns_name == "acme-shop-prod-api-alb-123456789.us-east-1.elb.amazonaws.com"
    error_message = "alb_arn_suffix and alb_dns_name must describe the load balancer."
  }
}

run "health_checks_as_configured" {
  command = plan

  variables {
    health_check = {
      interval_seconds             = 6
      timeout_seconds              = 3
      healthy_threshold            = 4
      unhealthy_threshold          = 5
      deregistration_delay_seconds = 0
    }
  }

  assert {
    condition = alltrue([for tg in aws_lb_target_group.this : (
      one(tg.health_check).interval == 6 && one(tg.health_check).timeout == 3 &&
      one(tg.health_check).healthy_threshold == 4 && one(tg.health_check).unhealthy_threshold == 5 &&
      tostring(tg.deregistration_delay) == "0"
    )])
    error_message = "Both target groups must check and drain as var.health_check says."
  }
}

run "listeners_http_without_certificate" {
  command = plan

  assert {
    condition     = aws_lb_listener.production.port == 80 && aws_lb_listener.production.protocol == "HTTP"
    error_message = "Without a certificate the production listener must be HTTP on 80."
  }

  assert {
    condition     = aws_lb_listener.test.port == 8080 && aws_lb_listener.test.protocol == "HTTP"
    error_message = "The test listener must be on 8080."
  }

  assert {
    condition = (
      aws_lb_listener.production.load_balancer_arn == aws_lb.this.arn
      && aws_lb_listener.test.load_balancer_arn == aws_lb.this.arn
    )
    error_message = "Both listeners must be on the module's load balancer."
  }

  assert {
    condition = (
      aws_lb_listener.production.default_action[0].type == "forward"
      && aws_lb_listener.production.default_action[0].target_group_arn == aws_lb_target_group.this["blue"].arn
      && aws_lb_listener.test.default_action[0].type == "forward"
      && aws_lb_listener.test.default_action[0].target_group_arn == aws_lb_target_group.this["green"].arn
    )
    error_message = "The production listener must forward to blue and the test listener to green."
  }

  assert {
    condition     = output.endpoint_url == "http://acme-shop-prod-api-alb-123456789.us-east-1.elb.amazonaws.com"
    error_message = "endpoint_url must be http://<dns name> without a certificate."
  }

  assert {
    condition     = output.production_listener_arn == aws_lb_listener.production.arn && output.test_listener_arn == aws_lb_listener.test.arn
    error_message = "The listener outputs must be the listeners' ARNs."
  }
}

run "listeners_https_with_certificate" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:us-east-1:444444444444:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
  }

  assert {
    condition = (
      aws_lb_listener.production.port == 443
      && aws_lb_listener.production.protocol == "HTTPS"
      && aws_lb_listener.production.certificate_arn == var.certificate_arn
      && aws_lb_listener.production.ssl_policy == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    )
    error_message = "With a certificate the production listener must be HTTPS on 443 with a TLS 1.2+ policy."
  }

  assert {
    condition     = aws_lb_listener.test.port == 8080 && aws_lb_listener.test.protocol == "HTTPS" && aws_lb_listener.test.certificate_arn == var.certificate_arn
    error_message = "With a certificate the test listener must be HTTPS too."
  }

  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.alb : r.from_port]) == toset([443, 8080])
    error_message = "The load balancer must accept 443 and 8080."
  }

  assert {
    condition     = output.endpoint_url == "https://acme-shop-prod-api-alb-123456789.us-east-1.elb.amazonaws.com"
    error_message = "endpoint_url must be https://<dns name> with a certificate."
  }
}

run "listener_ports_custom" {
  command = plan

  variables {
    production_listener_port = 8000
    test_listener_port       = 9000
  }

  assert {
    condition     = aws_lb_listener.production.port == 8000 && aws_lb_listener.test.port == 9000
    error_message = "Listener ports must follow the inputs."
  }

  assert {
    condition     = output.endpoint_url == "http://acme-shop-prod-api-alb-123456789.us-east-1.elb.amazonaws.com:8000"
    error_message = "endpoint_url must carry a port that is not the protocol's default."
  }
}

run "security_groups" {
  command = plan

  variables {
    ingress_cidr_blocks = ["10.0.0.0/8", "192.168.0.0/16"]
  }

  # Load balancer: the two listener ports from each allowed CIDR block.
  assert {
    condition = toset([for r in aws_vpc_security_group_ingress_rule.alb : "${r.from_port}-${r.to_port}/${r.ip_protocol}/${r.cidr_ipv4}"]) == toset([
      "80-80/tcp/10.0.0.0/8", "80-80/tcp/192.168.0.0/16",
      "8080-8080/tcp/10.0.0.0/8", "8080-8080/tcp/192.168.0.0/16",
    ])
    error_message = "The load balancer must accept the two listener ports from ingress_cidr_blocks only."
  }

  assert {
    condition     = alltrue([for r in aws_vpc_security_group_ingress_rule.alb : r.security_group_id == aws_security_group.alb.id])
    error_message = "Listener rules must be on the load balancer's security group."
  }

  # Load balancer egress: only to the tasks, on the container port.
  assert {
    condition = (
      aws_vpc_security_group_egress_rule.alb_to_tasks.security_group_id == aws_security_group.alb.id
      && aws_vpc_security_group_egress_rule.alb_to_tasks.referenced_security_group_id == aws_security_group.tasks.id
      && aws_vpc_security_group_egress_rule.alb_to_tasks.from_port == 8080
      && aws_vpc_security_group_egress_rule.alb_to_tasks.to_port == 8080
      && aws_vpc_security_group_egress_rule.alb_to_tasks.cidr_ipv4 == null
    )
    error_message = "The load balancer may only send to the task security group on the container port."
  }

  # Tasks: the container port from the load balancer only.
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.tasks_from_alb.security_group_id == aws_security_group.tasks.id
      && aws_vpc_security_group_ingress_rule.tasks_from_alb.referenced_security_group_id == aws_security_group.alb.id
      && aws_vpc_security_group_ingress_rule.tasks_from_alb.from_port == 8080
      && aws_vpc_security_group_ingress_rule.tasks_from_alb.to_port == 8080
      && aws_vpc_security_group_ingress_rule.tasks_from_alb.cidr_ipv4 == null
    )
    error_message = "Tasks may only be reached on the container port from the load balancer's security group."
  }

  assert {
    condition = (
      aws_security_group.alb.name == "acme-shop-prod-api-alb" && aws_security_group.alb.vpc_id == var.vpc_id
      && aws_security_group.tasks.name == "acme-shop-prod-api-tasks" && aws_security_group.tasks.vpc_id == var.vpc_id
    )
    error_message = "Security groups must be named from the prefix and short name, in the VPC."
  }

  assert {
    condition     = output.alb_security_group_id == aws_security_group.alb.id && output.task_security_group_id == aws_security_group.tasks.id
    error_message = "The security group outputs must be the groups' IDs."
  }
}

run "deployment_group_without_alarms" {
  command = plan

  assert {
    condition = (
      aws_codedeploy_deployment_group.this.deployment_group_name == "acme-shop-prod-api-service"
      && aws_codedeploy_deployment_group.this.app_name == "acme-shop-prod-services"
      && aws_codedeploy_deployment_group.this.service_role_arn == var.codedeploy_service_role_arn
      && aws_codedeploy_deployment_group.this.deployment_config_name == "CodeDeployDefault.ECSAllAtOnce"
    )
    error_message = "The deployment group must be {name_prefix}-{name} in the application, with the service role and the default configuration."
  }

  assert {
    condition = (
      one(aws_codedeploy_deployment_group.this.deployment_style).deployment_type == "BLUE_GREEN"
      && one(aws_codedeploy_deployment_group.this.deployment_style).deployment_option == "WITH_TRAFFIC_CONTROL"
    )
    error_message = "The deployment group must be blue/green with traffic control."
  }

  assert {
    condition = (
      one(aws_codedeploy_deployment_group.this.ecs_service).cluster_name == "acme-shop-prod-cluster"
      && one(aws_codedeploy_deployment_group.this.ecs_service).service_name == "acme-shop-prod-api-service"
    )
    error_message = "The deployment group must deploy the module's service in the cluster."
  }

  assert {
    condition = (
      one(aws_codedeploy_deployment_group.this.auto_rollback_configuration).enabled
      && one(aws_codedeploy_deployment_group.this.auto_rollback_configuration).events == toset(["DEPLOYMENT_FAILURE"])
    )
    error_message = "Without alarms, a failed deployment must roll back."
  }

  assert {
    condition     = length(aws_codedeploy_deployment_group.this.alarm_configuration) == 0
    error_message = "Without alarms there must be no alarm configuration."
  }

  assert {
    condition = (
      one(one(aws_codedeploy_deployment_group.this.blue_green_deployment_config).terminate_blue_instances_on_deployment_success).action == "TERMINATE"
      && one(one(aws_codedeploy_deployment_group.this.blue_green_deployment_config).terminate_blue_instances_on_deployment_success).termination_wait_time_in_minutes == 5
      && one(one(aws_codedeploy_deployment_group.this.blue_green_deployment_config).deployment_ready_option).action_on_timeout == "CONTINUE_DEPLOYMENT"
    )
    error_message = "The original tasks must be terminated 5 minutes after a successful deployment."
  }

  assert {
    condition = (
      one(one(one(aws_codedeploy_deployment_group.this.load_balancer_info).target_group_pair_info).prod_traffic_route).listener_arns == toset([aws_lb_listener.production.arn])
      && one(one(one(aws_codedeploy_deployment_group.this.load_balancer_info).target_group_pair_info).test_traffic_route).listener_arns == toset([aws_lb_listener.test.arn])
    )
    error_message = "The production route must be the production listener and the test route the test listener."
  }

  assert {
    condition     = [for tg in one(one(aws_codedeploy_deployment_group.this.load_balancer_info).target_group_pair_info).target_group : tg.name] == ["acme-shop-prod-api-blue", "acme-shop-prod-api-green"]
    error_message = "The target group pair must be blue and green."
  }

  assert {
    condition     = output.deployment_group_name == "acme-shop-prod-api-service"
    error_message = "deployment_group_name must be the deployment group's name."
  }
}

run "deployment_group_with_alarms" {
  command = plan

  variables {
    deployment_alarm_names   = ["acme-shop-prod-api-service-health", "acme-shop-prod-api-service-5xx-rate"]
    deployment_config_name   = "CodeDeployDefault.ECSCanary10Percent5Minutes"
    termination_wait_minutes = 30
  }

  assert {
    condition = (
      one(aws_codedeploy_deployment_group.this.auto_rollback_configuration).enabled
      && one(aws_codedeploy_deployment_group.this.auto_rollback_configuration).events == toset(["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"])
    )
    error_message = "With alarms, a deployment must roll back on failure and on alarm."
  }

  assert {
    condition = (
      one(aws_codedeploy_deployment_group.this.alarm_configuration).enabled
      && one(aws_codedeploy_deployment_group.this.alarm_configuration).alarms == toset(var.deployment_alarm_names)
    )
    error_message = "The alarm configuration must be enabled with the given alarms."
  }

  assert {
    condition = (
      aws_codedeploy_deployment_group.this.deployment_config_name == "CodeDeployDefault.ECSCanary10Percent5Minutes"
      && one(one(aws_codedeploy_deployment_group.this.blue_green_deployment_config).terminate_blue_instances_on_deployment_success).termination_wait_time_in_minutes == 30
    )
    error_message = "The deployment configuration and termination wait must follow the inputs."
  }
}

run "logs_and_roles" {
  command = plan

  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/ecs/acme-shop-prod/api-service" && aws_cloudwatch_log_group.this.retention_in_days == 30 && aws_cloudwatch_log_group.this.kms_key_id == null
    error_message = "The log group must be /ecs/{name_prefix}/{name} with 30 days' retention."
  }

  assert {
    condition     = aws_iam_role.task.name == "acme-shop-prod-api-task-us-east-1" && aws_iam_role.execution.name == "acme-shop-prod-api-exec-us-east-1"
    error_message = "Roles must be {name_prefix}-{short_name}-task-{region} and -exec-{region}."
  }

  assert {
    condition = alltrue([
      for role in [aws_iam_role.task, aws_iam_role.execution] :
      jsondecode(role.assume_role_policy).Statement[0].Principal == { Service = "ecs-tasks.amazonaws.com" }
      && jsondecode(role.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "444444444444"
    ])
    error_message = "Only ECS tasks of this account may assume the roles."
  }

  # Without ECR repositories: logs only.
  assert {
    condition = jsondecode(aws_iam_role_policy.execution.policy).Statement == [{
      Sid      = "WriteLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "arn:aws:logs:us-east-1:444444444444:log-group:/ecs/acme-shop-prod/api-service:*"
    }]
    error_message = "The execution role may only write to its own log group when no repository is given."
  }

  assert {
    condition     = length(aws_iam_role_policy_attachment.execution) == 0
    error_message = "No extra policy is attached by default."
  }

  assert {
    condition = (
      output.log_group_name == "/ecs/acme-shop-prod/api-service"
      && output.task_role_arn == "arn:aws:iam::444444444444:role/acme-shop-prod-api-task-us-east-1"
      && output.execution_role_arn == "arn:aws:iam::444444444444:role/acme-shop-prod-api-exec-us-east-1"
    )
    error_message = "The log group and role outputs must describe them."
  }

  assert {
    condition     = length(aws_appautoscaling_target.this) == 0 && length(aws_appautoscaling_policy.cpu) == 0
    error_message = "Autoscaling is off by default."
  }
}

run "execution_role_ecr_and_extra_policies" {
  command = plan

  variables {
    ecr_repository_arns        = ["arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"]
    execution_role_policy_arns = ["arn:aws:iam::444444444444:policy/acme-shop-prod-api-parameters", "arn:aws:iam::444444444444:policy/extra"]
    log_kms_key_arn            = "arn:aws:kms:us-east-1:444444444444:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    log_retention_days         = 90
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s if s.Sid == "PullImages"][0] == {
      Sid      = "PullImages"
      Effect   = "Allow"
      Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      Resource = ["arn:aws:ecr:us-east-1:111111111111:repository/acme-shop-delivery-api-service"]
    }
    error_message = "The execution role may pull from the given repositories only."
  }

  # ecr:GetAuthorizationToken has no resource-level permissions.
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s.Action if s.Resource == "*"] == ["ecr:GetAuthorizationToken"]
    error_message = "Only ecr:GetAuthorizationToken may use Resource \"*\"."
  }

  assert {
    condition     = tolist([for a in aws_iam_role_policy_attachment.execution : a.policy_arn]) == var.execution_role_policy_arns && alltrue([for a in aws_iam_role_policy_attachment.execution : a.role == aws_iam_role.execution.name])
    error_message = "The extra policies must be attached to the execution role."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == var.log_kms_key_arn && aws_cloudwatch_log_group.this.retention_in_days == 90
    error_message = "The log group must use the given KMS key and retention."
  }
}

run "environment_and_secrets" {
  command = plan

  variables {
    environment_variables = { LOG_LEVEL = "info" }
    secrets               = { JWT_SIGNING_KEY = "arn:aws:ssm:us-east-1:444444444444:parameter/pipeline/prod/api-service/JWT_SIGNING_KEY" }
  }

  assert {
    condition = (
      jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment == [{ name = "LOG_LEVEL", value = "info" }]
      && jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets == [{ name = "JWT_SIGNING_KEY", valueFrom = "arn:aws:ssm:us-east-1:444444444444:parameter/pipeline/prod/api-service/JWT_SIGNING_KEY" }]
    )
    error_message = "Environment variables and secrets must reach the container definition."
  }
}

run "autoscaling" {
  command = plan

  variables {
    enable_autoscaling = true
    autoscaling = {
      min_capacity = 2
      max_capacity = 10
      cpu_target   = 70
    }
  }

  assert {
    condition = (
      aws_appautoscaling_target.this[0].service_namespace == "ecs"
      && aws_appautoscaling_target.this[0].resource_id == "service/acme-shop-prod-cluster/acme-shop-prod-api-service"
      && aws_appautoscaling_target.this[0].scalable_dimension == "ecs:service:DesiredCount"
      && aws_appautoscaling_target.this[0].min_capacity == 2
      && aws_appautoscaling_target.this[0].max_capacity == 10
    )
    error_message = "The scalable target must be the service's desired count between min and max."
  }

  assert {
    condition = (
      aws_appautoscaling_policy.cpu[0].name == "acme-shop-prod-api-service-cpu"
      && aws_appautoscaling_policy.cpu[0].policy_type == "TargetTrackingScaling"
      && one(aws_appautoscaling_policy.cpu[0].target_tracking_scaling_policy_configuration).target_value == 70
      && one(one(aws_appautoscaling_policy.cpu[0].target_tracking_scaling_policy_configuration).predefined_metric_specification).predefined_metric_type == "ECSServiceAverageCPUUtilization"
    )
    error_message = "The policy must track the service's average CPU at cpu_target."
  }
}

run "desired_count_and_deletion_protection" {
  command = plan

  variables {
    desired_count              = 4
    enable_deletion_protection = true
  }

  assert {
    condition     = aws_ecs_service.this.desired_count == 4 && aws_lb.this.enable_deletion_protection == true
    error_message = "desired_count and enable_deletion_protection must be passed through."
  }
}

run "longest_names" {
  command = plan

  variables {
    name_prefix = "acme-storefront-staging"
    microservice = {
      name              = "notification-service"
      short_name        = "n"
      port              = 8080
      health_check_path = "/health"
    }
  }

  assert {
    condition     = aws_lb_target_group.this["green"].name == "acme-storefront-staging-n-green" && length(aws_lb_target_group.this["green"].name) == 31
    error_message = "A 25-character prefix and short name must give target group names within 32 characters."
  }
}

run "other_region" {
  command = plan

  override_data {
    target = data.aws_region.current
    values = {
      name = "us-west-2"
    }
  }

  assert {
    condition     = aws_iam_role.task.name == "acme-shop-prod-api-task-us-west-2" && aws_iam_role.execution.name == "acme-shop-prod-api-exec-us-west-2"
    error_message = "Role names must carry the region (IAM is global)."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].logConfiguration.options.awslogs-region == "us-west-2"
    error_message = "Logs must go to the region's log group."
  }
}

# --- HTTPS and the HTTP redirect (enable_https, enable_http_redirect) ------------------

run "http_redirects_to_https_with_a_certificate" {
  command = plan

  variables {
    certificate_arn      = "arn:aws:acm:us-east-1:444444444444:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    enable_http_redirect = true
  }

  assert {
    condition     = length(aws_lb_listener.http_redirect) == 1 && aws_lb_listener.http_redirect[0].port == 80 && aws_lb_listener.http_redirect[0].protocol == "HTTP"
    error_message = "With a certificate an HTTP listener must answer on port 80."
  }

  assert {
    condition = (
      one(aws_lb_listener.http_redirect[0].default_action).type == "redirect" &&
      one(one(aws_lb_listener.http_redirect[0].default_action).redirect).protocol == "HTTPS" &&
      one(one(aws_lb_listener.http_redirect[0].default_action).redirect).port == "443" &&
      one(one(aws_lb_listener.http_redirect[0].default_action).redirect).status_code == "HTTP_301"
    )
    error_message = "The HTTP listener must redirect permanently (301) to the same URL over HTTPS on the production port."
  }

  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.alb : r.from_port]) == toset([80, 443, 8080])
    error_message = "The load balancer's security group must let in the redirect's port 80 beside the production and test listeners."
  }
}

run "no_redirect_without_a_certificate" {
  command = plan

  variables {
    enable_http_redirect = true
  }

  assert {
    condition     = length(aws_lb_listener.http_redirect) == 0
    error_message = "Without a certificate port 80 is the production listener itself: no redirect."
  }
}

run "no_redirect_by_default" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:us-east-1:444444444444:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
  }

  assert {
    condition     = length(aws_lb_listener.http_redirect) == 0 && toset([for r in aws_vpc_security_group_ingress_rule.alb : r.from_port]) == toset([443, 8080])
    error_message = "Without enable_http_redirect there must be no port 80 listener nor ingress."
  }
}

run "redirect_with_a_listener_on_port_80_is_rejected" {
  command = plan

  variables {
    certificate_arn      = "arn:aws:acm:us-east-1:444444444444:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    enable_http_redirect = true
    test_listener_port   = 80
  }

  expect_failures = [var.enable_http_redirect]
}

run "https_without_a_certificate_is_rejected" {
  command = plan

  variables {
    enable_https = true
  }

  expect_failures = [var.enable_https]
}

run "https_switched_on_explicitly" {
  command = plan

  variables {
    enable_https         = true
    enable_http_redirect = true
    certificate_arn      = "arn:aws:acm:us-east-1:444444444444:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
  }

  assert {
    condition     = aws_lb_listener.production.protocol == "HTTPS" && aws_lb_listener.production.port == 443 && length(aws_lb_listener.http_redirect) == 1
    error_message = "With enable_https the production listener must be HTTPS on 443, and port 80 must redirect."
  }
}
