# Private paths to AWS APIs for compute running in a VPC (the Lambdas, the dbt task and the SageMaker jobs
# and models when the stack's private_networking is on): S3 and DynamoDB through free gateway endpoints,
# every other API the runtimes call through interface endpoints reachable on 443 from inside the VPC only,
# and the security group the runtimes themselves run in. Nothing is created without a vpc_id.

data "aws_region" "current" {}

data "aws_vpc" "this" {
  count = var.vpc_id == null ? 0 : 1
  id    = var.vpc_id
}

locals {
  enabled          = var.vpc_id != null
  region           = data.aws_region.current.name
  gateway_services = local.enabled ? toset(["s3", "dynamodb"]) : toset([])
  interface_set    = local.enabled ? toset(var.interface_services) : toset([])
}

resource "aws_vpc_endpoint" "gateway" {
  for_each = local.gateway_services

  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.route_table_ids

  tags = { Name = "${var.name_prefix}-${each.key}" }

  lifecycle {
    precondition {
      condition     = length(var.route_table_ids) > 0
      error_message = "route_table_ids is empty: a gateway endpoint without route tables routes nothing. Give the private subnets' route tables."
    }
  }
}

resource "aws_security_group" "endpoints" {
  count = local.enabled ? 1 : 0

  name        = "${var.name_prefix}-vpc-endpoints"
  description = "HTTPS from inside the VPC to the lakeml interface endpoints"
  vpc_id      = var.vpc_id

  ingress {
    description = "HTTPS from the VPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [data.aws_vpc.this[0].cidr_block]
  }

  # No egress block: Terraform then removes AWS's default allow-all egress rule. Endpoint interfaces only
  # answer; they never start connections.
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.interface_set

  vpc_id              = var.vpc_id
  service_name        = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = var.subnet_ids
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true # SDKs keep their default endpoint names and resolve them to the VPC

  tags = { Name = "${var.name_prefix}-${each.key}" }

  lifecycle {
    precondition {
      condition     = length(var.subnet_ids) > 0
      error_message = "subnet_ids is empty: interface endpoints need at least one private subnet."
    }
  }
}

# What the Lambdas and the SageMaker jobs and models run in: no inbound rule; outbound HTTPS only (to the
# interface endpoints, the gateway endpoints' prefix lists, and — through the private subnets' NAT, if any —
# Snowflake, which ingestion reaches over the internet or PrivateLink).
resource "aws_security_group" "runtimes" {
  # checkov:skip=CKV2_AWS_5:attached in other modules (the Lambdas' vpc_config) and at run time (SageMaker jobs and models from the pipeline definition and the deployer), which checkov cannot follow
  count = local.enabled ? 1 : 0

  name        = "${var.name_prefix}-runtimes"
  description = "lakeml Lambdas and SageMaker jobs/models: HTTPS out only"
  vpc_id      = var.vpc_id

  egress {
    description = "HTTPS to AWS APIs (endpoints) and the Snowflake source"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
