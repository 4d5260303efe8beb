"""The feature group Terraform provisions is the one `IngestFeatures` expects, feature by feature.

`SageMakerFeatureStore.ensure_group` compares the existing group with the definitions it derives from
dbt's column docs of `customer_features` and refuses a mismatch, so a group provisioned from a stale
list would fail the first pipeline run. Terraform cannot read `_gold.yml`'s semantics, so the definitions
are rendered to `infra/modules/ml/feature_group.json` (what `aws_sagemaker_feature_group` reads) and this
test fails when the committed file differs. Regenerate with `.venv/bin/python -m tests.infra.test_feature_group`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ml_pipelines.feature_store.rules import definitions_from_gold
from ml_pipelines.steps.ingest_features import DEFAULT_FEATURE_GROUP

RENDERED = Path(__file__).resolve().parents[2] / "infra" / "modules" / "ml" / "feature_group.json"


def rendered() -> dict[str, Any]:
    """The group as the code defines it, under the name the pipeline's IngestFeatures step uses."""
    return {**definitions_from_gold().to_json(), "name": DEFAULT_FEATURE_GROUP}


def test_committed_feature_group_matches_the_code() -> None:
    assert RENDERED.is_file(), (
        f"{RENDERED} is missing; run `.venv/bin/python -m tests.infra.test_feature_group`"
    )
    assert json.loads(RENDERED.read_text()) == rendered(), (
        f"{RENDERED} is stale (dbt_project/models/gold/_gold.yml changed); "
        "run `.venv/bin/python -m tests.infra.test_feature_group`"
    )


if __name__ == "__main__":
    RENDERED.write_text(json.dumps(rendered(), indent=2) + "\n")
    print(f"wrote {RENDERED}")
