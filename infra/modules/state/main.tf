# Ingestion watermarks: one item per source table, keyed by `table_name` (ingestion/watermarks/dynamo.py,
# DynamoWatermarkStore). The adapter advances an item with a conditional PutItem, so two runs can never
# both move the same table. On-demand billing: a handful of writes per run, no capacity to plan.

resource "aws_dynamodb_table" "watermarks" {
  name         = coalesce(var.table_name, "${var.name_prefix}-watermarks")
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "table_name"

  attribute {
    name = "table_name"
    type = "S"
  }

  # Restore to any second of the last 35 days: a bad watermark write can be undone exactly.
  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  deletion_protection_enabled = var.deletion_protection
}
