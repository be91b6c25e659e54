output "kms_key_arn" {
  description = "ARN of the KMS key SecureString parameters are encrypted with."
  value       = module.key.key_arn
}

output "kms_alias_name" {
  description = "Alias of the key, alias/{name_prefix}-parameters: the KeyId the deployer writes SecureStrings with."
  value       = module.key.alias_name
}

output "parameter_paths" {
  description = "Namespace of each microservice, /pipeline/{environment}/{microservice}/, keyed by microservice."
  value       = { for service, ns in local.namespaces : service => ns.path }
}

output "read_policy_arns" {
  description = "ARN of each microservice's read policy (its namespace's parameters and their decryption), keyed by microservice: attach it to the microservice's task execution role."
  value       = { for service, policy in aws_iam_policy.read : service => policy.arn }
}

output "read_policy_names" {
  description = "Name of each microservice's read policy, {name_prefix}-{short_name}-params-{region}, keyed by microservice."
  value       = { for service, policy in aws_iam_policy.read : service => policy.name }
}

output "secret_parameter_arns" {
  description = "ARNs of each microservice's secret parameters (its own and the shared ones; its own win on a name clash), keyed by microservice (every microservice, {} without secrets), then by secret name: the valueFrom of the task definition's secrets."
  value = {
    for service, ns in local.namespaces : service => merge(
      { for name in lookup(var.secret_names, "shared", []) : name => "${local.shared_path_arn}/${name}" },
      { for name in lookup(var.secret_names, service, []) : name => "${ns.path_arn}/${name}" },
    )
  }
}

output "shared_parameter_path" {
  description = "The namespace every microservice of the environment reads besides its own: /pipeline/{environment}/shared/."
  value       = local.shared_path
}

output "parameter_arns" {
  description = "ARNs of each microservice's plain parameters (its own and the shared ones; its own win on a name clash), keyed by microservice (every microservice, {} without parameters), then by name: ECS also injects String parameters through the task definition's secrets."
  value = {
    for service, ns in local.namespaces : service => merge(
      { for name in keys(lookup(var.parameters, "shared", {})) : name => "${local.shared_path_arn}/${name}" },
      { for name in keys(lookup(var.parameters, service, {})) : name => "${ns.path_arn}/${name}" },
    )
  }
}
