mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012", arn = "arn:aws:iam::123456789012:user/ci", user_id = "AIDAEXAMPLE" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/lakeml-test-glue" }
  }
}

variables {
  name_prefix      = "lakeml-test"
  lake_bucket_name = "lakeml-test-lake"
  lake_bucket_arn  = "arn:aws:s3:::lakeml-test-lake"
  kms_key_arn      = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

run "one_database_per_layer_at_its_prefix" {
  assert {
    condition     = toset(keys(aws_glue_catalog_database.layer)) == toset(["bronze", "silver", "gold", "quarantine"])
    error_message = "bronze, silver, gold and quarantine databases (dbt's schema names)"
  }
  assert {
    condition     = aws_glue_catalog_database.layer["silver"].location_uri == "s3://lakeml-test-lake/silver/"
    error_message = "each database is located at its lake prefix"
  }
}

run "dbt_role_reads_bronze_and_writes_model_layers_only" {
  assert {
    condition = toset(local.dbt_by_sid.LakeWriteModelLayers.Resource) == toset([
      "arn:aws:s3:::lakeml-test-lake/silver/*", "arn:aws:s3:::lakeml-test-lake/gold/*", "arn:aws:s3:::lakeml-test-lake/quarantine/*",
    ])
    error_message = "dbt writes silver, gold and quarantine (store_failures), never bronze"
  }
  assert {
    condition     = contains(local.dbt_by_sid.LakeReadAllLayers.Resource, "arn:aws:s3:::lakeml-test-lake/bronze/*")
    error_message = "dbt must read bronze"
  }
  assert {
    condition = alltrue([
      for r in local.dbt_by_sid.CatalogWriteModelLayers.Resource : !strcontains(r, "/bronze")
    ])
    error_message = "dbt must not change bronze's catalog entries (ingestion's manifests define bronze)"
  }
  assert {
    condition     = one(aws_glue_security_configuration.sessions.encryption_configuration[0].s3_encryption).kms_key_arn == var.kms_key_arn
    error_message = "sessions encrypt what they write with the lake CMK"
  }
  assert {
    condition     = jsondecode(aws_iam_role.dbt.assume_role_policy).Statement[0].Principal.Service == "glue.amazonaws.com"
    error_message = "only Glue may assume the session role"
  }
}

run "rejects_layers_without_bronze" {
  command = plan
  variables {
    layers = { silver = "silver", gold = "gold", quarantine = "quarantine" }
  }
  expect_failures = [var.layers]
}
