"""The twin's stand-in for AWS Glue's `awsglue` package: only what dbt-glue's session code imports."""
