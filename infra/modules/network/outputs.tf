output "gateway_endpoint_ids" {
  description = "Service -> gateway endpoint id (empty without a vpc_id)."
  value       = { for service, endpoint in aws_vpc_endpoint.gateway : service => endpoint.id }
}

output "interface_endpoint_ids" {
  description = "Service -> interface endpoint id (empty without a vpc_id)."
  value       = { for service, endpoint in aws_vpc_endpoint.interface : service => endpoint.id }
}

output "endpoint_security_group_id" {
  description = "Security group of the interface endpoints (null without a vpc_id)."
  value       = one(aws_security_group.endpoints[*].id)
}

output "runtime_security_group_id" {
  description = "Security group of the Lambdas and SageMaker jobs/models in private subnets (HTTPS out only; null without a vpc_id)."
  value       = one(aws_security_group.runtimes[*].id)
}
