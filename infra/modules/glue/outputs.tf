output "database_names" {
  description = "Layer -> Glue database name."
  value       = { for layer, db in aws_glue_catalog_database.layer : layer => db.name }
}

output "role_arn" {
  description = "ARN of the role dbt-glue sessions run as (LAKEML_AWS__GLUE_ROLE_ARN)."
  value       = aws_iam_role.dbt.arn
}

output "role_name" {
  description = "Name of the dbt-glue session role."
  value       = aws_iam_role.dbt.name
}

output "security_configuration" {
  description = "Glue security configuration for dbt-glue's `security_configuration`."
  value       = aws_glue_security_configuration.sessions.name
}

output "database_locations" {
  description = "Layer -> the database's location (s3://<lake>/<prefix>/): where dbt's managed tables of that schema live."
  value       = { for layer, database in aws_glue_catalog_database.layer : layer => database.location_uri }
}
