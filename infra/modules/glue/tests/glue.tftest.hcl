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
    condition     = toset(keys(aws_glue_catalog_database.layer)) == toset(["bronze", "silver", "gold", "quarantine", "predictions"])
    error_message = "bronze, silver, gold, quarantine and predictions databases (dbt's schema names, register_bronze's predictions)"
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
      for r in local.dbt_by_sid.LakeWriteModelLayers.Resource : !strcontains(r, "/bronze/") && !strcontains(r, "/predictions/")
    ])
    error_message = "dbt never writes bronze's or predictions' objects (ingestion and batch scoring do)"
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

run "dbt_role_may_register_what_register_bronze_creates" {
  assert {
    condition = alltrue([
      for arn in ["arn:aws:glue:eu-west-1:123456789012:table/bronze/*", "arn:aws:glue:eu-west-1:123456789012:database/bronze", "arn:aws:glue:eu-west-1:123456789012:table/predictions/*"] :
      contains(local.dbt_by_sid.CatalogWriteTables.Resource, arn)
    ]) && contains(local.dbt_by_sid.CatalogWriteTables.Action, "glue:CreateTable") && contains(local.dbt_by_sid.CatalogWriteTables.Action, "glue:BatchCreatePartition")
    error_message = "register_bronze creates bronze's tables, views and partitions and predictions.churn_scores_raw"
  }
  assert {
    condition = (
      local.dbt_by_sid.CatalogCreateRegisteredDatabases.Action == "glue:CreateDatabase"
      && toset(local.dbt_by_sid.CatalogCreateRegisteredDatabases.Resource) == toset([
        "arn:aws:glue:eu-west-1:123456789012:catalog", "arn:aws:glue:eu-west-1:123456789012:database/bronze", "arn:aws:glue:eu-west-1:123456789012:database/predictions",
      ])
    )
    error_message = "`create database if not exists` of bronze and predictions, and no other database"
  }
  assert {
    condition     = contains(local.dbt_by_sid.LakeReadAllLayers.Resource, "arn:aws:s3:::lakeml-test-lake/predictions/*")
    error_message = "dbt reads the batch scores (the churn_scores model)"
  }
}

run "rejects_layers_without_bronze" {
  command = plan
  variables {
    layers = { silver = "silver", gold = "gold", quarantine = "quarantine" }
  }
  expect_failures = [var.layers]
}

run "the_catalog_is_encrypted_with_the_cmk" {
  assert {
    condition = (
      one(one(aws_glue_data_catalog_encryption_settings.catalog.data_catalog_encryption_settings).encryption_at_rest).catalog_encryption_mode == "SSE-KMS"
      && one(one(aws_glue_data_catalog_encryption_settings.catalog.data_catalog_encryption_settings).encryption_at_rest).sse_aws_kms_key_id == var.kms_key_arn
    )
    error_message = "the Data Catalog is encrypted at rest with the lake CMK"
  }
  assert {
    condition = (
      one(one(aws_glue_data_catalog_encryption_settings.catalog.data_catalog_encryption_settings).connection_password_encryption).return_connection_password_encrypted
      && one(one(aws_glue_data_catalog_encryption_settings.catalog.data_catalog_encryption_settings).connection_password_encryption).aws_kms_key_id == var.kms_key_arn
    )
    error_message = "connection passwords are encrypted with the CMK and returned encrypted"
  }
}
