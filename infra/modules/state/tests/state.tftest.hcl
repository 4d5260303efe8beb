mock_provider "aws" {
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/lakeml-test-watermarks" }
  }
}

variables {
  name_prefix = "lakeml-test"
  kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

run "watermark_table_matches_the_adapter" {
  assert {
    # ingestion/aws_adapters.py WATERMARK_KEY = "table_name", a string.
    condition     = aws_dynamodb_table.watermarks.hash_key == "table_name" && aws_dynamodb_table.watermarks.range_key == null
    error_message = "the watermark table's only key must be table_name"
  }
  assert {
    condition     = one(aws_dynamodb_table.watermarks.attribute).name == "table_name" && one(aws_dynamodb_table.watermarks.attribute).type == "S"
    error_message = "table_name must be a string attribute"
  }
  assert {
    condition     = aws_dynamodb_table.watermarks.name == "lakeml-test-watermarks" && output.table_name == "lakeml-test-watermarks"
    error_message = "the table is named <name_prefix>-watermarks"
  }
  assert {
    condition     = aws_dynamodb_table.watermarks.billing_mode == "PAY_PER_REQUEST"
    error_message = "on-demand billing"
  }
}

run "watermarks_are_recoverable_and_encrypted" {
  assert {
    condition     = one(aws_dynamodb_table.watermarks.point_in_time_recovery).enabled
    error_message = "point-in-time recovery must be on"
  }
  assert {
    condition     = one(aws_dynamodb_table.watermarks.server_side_encryption).enabled && one(aws_dynamodb_table.watermarks.server_side_encryption).kms_key_arn == var.kms_key_arn
    error_message = "the table must be encrypted with the lake CMK"
  }
  assert {
    condition     = aws_dynamodb_table.watermarks.deletion_protection_enabled
    error_message = "deletion protection must be on by default"
  }
}

run "rejects_a_key_id_instead_of_an_arn" {
  command = plan
  variables {
    kms_key_arn = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }
  expect_failures = [var.kms_key_arn]
}
