"""The local Glue twin: the subset of the AWS Glue API that dbt-glue calls (interactive sessions and
statements, Data Catalog reads and writes), served over HTTP on 127.0.0.1 in Glue's own JSON protocol
and backed by ONE local PySpark session whose Hive catalog it serves as the Glue Data Catalog.

dbt-glue reaches it unchanged through boto3's per-service endpoint variables (`AWS_ENDPOINT_URL_GLUE`,
and `_STS` / `_LAKEFORMATION` for the two calls it makes beside Glue). Modules: `paths.py` (S3 URIs of
the lake bucket <-> the local lake folder), `sessions.py` (sessions and statements), `catalog.py`
(Spark's catalog as Glue shapes), `api.py` (the operations), `protocol.py` (the wire protocols),
`server.py` (the process), `lifecycle.py` (start/stop per LAKEML_HOME), `twin.py` (the wiring's handle),
`shim/awsglue` (the `awsglue.utils.getResolvedOptions` dbt-glue's session code imports)."""
