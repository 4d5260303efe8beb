mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_vpc" {
    defaults = { cidr_block = "10.20.0.0/16" }
  }
}

variables {
  name_prefix = "lakeml-test"
}

run "nothing_without_a_vpc" {
  assert {
    condition     = length(aws_vpc_endpoint.gateway) == 0 && length(aws_vpc_endpoint.interface) == 0 && length(aws_security_group.endpoints) == 0 && length(aws_security_group.runtimes) == 0
    error_message = "no vpc_id, no endpoints"
  }
}

run "endpoints_for_a_vpc" {
  variables {
    vpc_id          = "vpc-0a1b2c3d4e5f67890"
    route_table_ids = ["rtb-0a1b2c3d4e5f67890"]
    subnet_ids      = ["subnet-0a1b2c3d4e5f67890", "subnet-0f9e8d7c6b5a43210"]
  }
  assert {
    condition     = toset([for e in aws_vpc_endpoint.gateway : e.service_name]) == toset(["com.amazonaws.eu-west-1.s3", "com.amazonaws.eu-west-1.dynamodb"])
    error_message = "S3 and DynamoDB through gateway endpoints"
  }
  assert {
    condition = toset([for e in aws_vpc_endpoint.interface : e.service_name]) == toset([for service in [
      "sts", "logs", "ecr.api", "ecr.dkr", "secretsmanager", "glue", "sagemaker.api", "sagemaker.runtime",
      "sagemaker.featurestore-runtime", "application-autoscaling", "sns", "states", "monitoring",
    ] : "com.amazonaws.eu-west-1.${service}"])
    error_message = "every API the Lambdas, the dbt task and the SageMaker jobs call, through interface endpoints (no NAT needed for AWS)"
  }
  assert {
    condition     = length(aws_security_group.runtimes[0].ingress) == 0 && alltrue([for rule in aws_security_group.runtimes[0].egress : rule.from_port == 443 && rule.to_port == 443 && rule.protocol == "tcp"])
    error_message = "the runtimes' security group takes no inbound traffic and sends HTTPS only"
  }
  assert {
    condition     = output.runtime_security_group_id == aws_security_group.runtimes[0].id
    error_message = "the stack puts the runtimes in this security group"
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : e.private_dns_enabled])
    error_message = "interface endpoints must answer the SDKs' default names"
  }
  assert {
    condition     = tolist(one(aws_security_group.endpoints[0].ingress).cidr_blocks) == tolist(["10.20.0.0/16"]) && one(aws_security_group.endpoints[0].ingress).from_port == 443
    error_message = "the endpoints accept HTTPS from the VPC only"
  }
}

run "gateway_endpoints_need_route_tables" {
  command = plan
  variables {
    vpc_id     = "vpc-0a1b2c3d4e5f67890"
    subnet_ids = ["subnet-0a1b2c3d4e5f67890"]
  }
  expect_failures = [aws_vpc_endpoint.gateway]
}
