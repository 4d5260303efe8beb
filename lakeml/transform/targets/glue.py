"""AWS adapter of the transform target: dbt-glue, AWS Glue 5.0 interactive sessions over the Glue Data
Catalog, tables under the lake bucket (`s3://<bucket>/<schema>/<table>`).

dbt itself still runs in this process (its artefacts and log under `<home>/dbt`); the Spark work runs in
the Glue session, as the role `aws.glue_role_arn`, sized by `transform.glue_*`. Nothing to prepare
locally. The extraction views are built in Snowflake itself (`snowflake`, key-pair auth).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from lakeml.core.errors import ConfigError
from lakeml.core.lake import QUARANTINE, LakeStorage
from lakeml.core.settings import Settings, SourceSettings
from lakeml.transform.targets.port import DbtProfile, ViewsProfile


class GlueTarget:
    """Target `glue`: the lake must be an S3 bucket (the Glue session writes it)."""

    name = "glue"

    def __init__(self, settings: Settings, lake: LakeStorage, views: ViewsProfile) -> None:
        self.settings = settings
        self.lake = lake
        self.views = views

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

    def prepare(self) -> None:
        """Nothing: the Glue session is opened by dbt-glue itself."""

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
