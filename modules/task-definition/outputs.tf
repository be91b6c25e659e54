output "container_definitions_json" {
  description = "The containerDefinitions JSON array, for aws_ecs_task_definition.container_definitions."
  value       = jsonencode(local.container_definitions)
}

output "task_definition_json" {
  description = "The whole task definition as a RegisterTaskDefinition JSON document (family, networkMode, requiresCompatibilities, cpu, memory, roles, containerDefinitions): the taskdef.json CodeDeploy's ECS deploy action registers."
  value       = jsonencode(local.task_definition)
}

output "family" {
  description = "Task definition family."
  value       = var.family
}

output "cpu" {
  description = "Task CPU units, as the string ECS expects."
  value       = tostring(var.cpu)
}

output "memory" {
  description = "Task memory in MiB, as the string ECS expects."
  value       = tostring(var.memory)
}

output "container_name" {
  description = "Name of the container (the AppSpec's LoadBalancerInfo.ContainerName)."
  value       = var.container_name
}

output "container_port" {
  description = "Port of the container (the AppSpec's LoadBalancerInfo.ContainerPort)."
  value       = var.container_port
}
