"""AWS adapter of the transform target: dbt-glue, AWS Glue 5.0 interactive sessions over the Glue Data
Catalog, tables under the lake bucket (`s3://<bucket>/<schema>/<table>`).

dbt itself still runs in this process (its artefacts and log under `<home>/dbt`); the Spark work runs in
the Glue session, as the role `aws.glue_role_arn`, sized by `transform.glue_*`. Nothing to prepare
locally. The extraction views are built in Snowflake itself (`snowflake`, key-pair auth).

Locally (LAKEML_ENV=local, `--target glue`) the same adapter runs dbt-glue unchanged against the local
Glue twin: the wiring passes `twin`, a callable that starts it and returns where it answers; boto3's
per-service endpoint variables (`AWS_ENDPOINT_URL_GLUE`, `_STS`, `_LAKEFORMATION`) point dbt-glue's
clients at it for the dbt call only. dbt still speaks S3 (`s3://<lake bucket>`, as on AWS); the twin maps
that bucket to the local lake folder (`lakeml.twins.glue.paths`), so the lake stays the local folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from lakeml.core.errors import ConfigError
from lakeml.core.lake import QUARANTINE, LakeStorage
from lakeml.core.lake.local import PLACEHOLDER_BUCKET
from lakeml.core.settings import Settings, SourceSettings
from lakeml.transform.targets.port import DbtProfile, Endpoint, ViewsProfile

LOCAL_ROLE = "arn:aws:iam::000000000000:role/lakeml-glue-twin"  # any role: the twin does not check it


class GlueTarget:
    """Target `glue`: on AWS the lake must be an S3 bucket (the Glue session writes it); locally (`twin`
    given) the lake is the local folder, written by the twin's Spark."""

    name = "glue"

    def __init__(
        self,
        settings: Settings,
        lake: LakeStorage,
        views: ViewsProfile,
        twin: Callable[[], Endpoint] | None = None,
    ) -> None:
        self.settings = settings
        self.lake = lake
        self.views = views
        self.twin = twin

    @property
    def lake_uri(self) -> str:
        return self.lake.uri

    @property
    def quarantine_uri(self) -> str:
        return self.lake.uri_of(QUARANTINE, "dbt")

    @property
    def results_dir(self) -> Path:
        return self.settings.home / "dbt" / "target"

    @property
    def logs_dir(self) -> Path:
        return self.settings.home / "dbt" / "logs"

    def profile(self) -> DbtProfile:
        if self.twin is not None:
            return self._twin_profile(self.twin())
        aws, knobs = self.settings.aws, self.settings.transform
        where = urlparse(self.lake.uri)
        if where.scheme != "s3":
            raise ConfigError(
                f"the glue target writes the lake with AWS Glue, but the lake is {self.lake.uri}; use "
                "LAKEML_ENV=aws (lake in the bucket aws.lake_bucket) or the local target"
            )
        if not aws.glue_role_arn:
            raise ConfigError(
                "aws.glue_role_arn is not set; set LAKEML_AWS__GLUE_ROLE_ARN or [aws] glue_role_arn in "
                "lakeml.toml (`terraform output lakeml` prints it)"
            )
        return DbtProfile(
            target=self.name,
            environment={
                "LAKEML_AWS__GLUE_ROLE_ARN": aws.glue_role_arn,
                "LAKEML_AWS__REGION": aws.region,
                "LAKEML_AWS__LAKE_BUCKET": where.netloc,
                "LAKEML_TRANSFORM__GLUE_WORKERS": str(knobs.glue_workers),
                "LAKEML_TRANSFORM__GLUE_WORKER_TYPE": knobs.glue_worker_type,
            },
            project_vars={"lake_root": self.lake.uri},
        )

    def _twin_profile(self, endpoint: Endpoint) -> DbtProfile:
        """The same profile output, pointed at the local twin: the lake bucket is the one the twin maps to
        the lake folder; credentials are placeholders (the twin checks none; no real AWS is reached)."""
        aws, knobs = self.settings.aws, self.settings.transform
        bucket = aws.lake_bucket or PLACEHOLDER_BUCKET
        url = f"http://{endpoint.host}:{endpoint.port}"
        return DbtProfile(
            target=self.name,
            environment={
                "LAKEML_AWS__GLUE_ROLE_ARN": aws.glue_role_arn or LOCAL_ROLE,
                "LAKEML_AWS__REGION": aws.region,
                "LAKEML_AWS__LAKE_BUCKET": bucket,
                "LAKEML_TRANSFORM__GLUE_WORKERS": str(knobs.glue_workers),
                "LAKEML_TRANSFORM__GLUE_WORKER_TYPE": knobs.glue_worker_type,
                "AWS_ENDPOINT_URL_GLUE": url,
                "AWS_ENDPOINT_URL_STS": url,
                "AWS_ENDPOINT_URL_LAKEFORMATION": url,
                "AWS_ACCESS_KEY_ID": "lakeml-local",
                "AWS_SECRET_ACCESS_KEY": "lakeml-local",
                "AWS_SESSION_TOKEN": "lakeml-local",
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_DEFAULT_REGION": aws.region,  # dbt-glue builds its sts client without a region
            },
            project_vars={"lake_root": f"s3://{bucket}"},
        )

    def prepare(self) -> None:
        """Nothing: the Glue session is opened by dbt-glue itself (locally, in the twin `profile()` started)."""

    def extraction_views(self) -> DbtProfile:
        return self.views()


def snowflake_views(source: SourceSettings) -> ViewsProfile:
    """Target `snowflake`: the views built in the Snowflake account of `settings.source`, key-pair auth
    (`source.private_key_path`); role and warehouse when set, else the profile's defaults."""

    def profile() -> DbtProfile:
        environment = {
            "LAKEML_SOURCE__ACCOUNT": source.account,
            "LAKEML_SOURCE__USER": source.user,
            "LAKEML_SOURCE__DATABASE": source.database,
        }
        optional = {
            "LAKEML_SOURCE__ROLE": source.role,
            "LAKEML_SOURCE__WAREHOUSE": source.warehouse,
            "LAKEML_SOURCE__PRIVATE_KEY_PATH": str(source.private_key_path)
            if source.private_key_path
            else None,
        }
        environment.update({name: value for name, value in optional.items() if value})
        return DbtProfile(target="snowflake", environment=environment)

    return profile
