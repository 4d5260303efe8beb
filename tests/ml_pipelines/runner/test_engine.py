"""The local runner executes hand-written definitions like SageMaker would, and refuses what it can't."""

from __future__ import annotations

import json

import pytest

from ml_pipelines.runner.definition import load
from ml_pipelines.runner.errors import DefinitionError, UnsupportedFeature
from tests.ml_pipelines.runner.conftest import definition, processing, training, tuning

pytestmark = pytest.mark.xdist_group("runner")

GET_OUTPUT = {"Get": "Steps.Prep.ProcessingOutputConfig.Outputs['output'].S3Output.S3Uri"}
THRESHOLD = [{"Name": "Threshold", "Type": "Float", "DefaultValue": 0.8}]


def gated(score: float) -> dict:
    check = {
        "Name": "Gate",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [
                {
                    "Type": "GreaterThanOrEqualTo",
                    "LeftValue": {
                        "Std:JsonGet": {
                            "PropertyFile": {"Get": "Steps.Prep.PropertyFiles.Report"},
                            "Path": "metrics.auc.value",
                        }
                    },
                    "RightValue": {"Get": "Parameters.Threshold"},
                }
            ],
            "IfSteps": [training("Train", GET_OUTPUT, {"x": "0.3"})],
            "ElseSteps": [
                {
                    "Name": "Stop",
                    "Type": "Fail",
                    "Arguments": {
                        "ErrorMessage": {
                            "Std:Join": {
                                "On": " ",
                                "Values": ["AUC gate failed: score below", {"Get": "Parameters.Threshold"}],
                            }
                        }
                    },
                }
            ],
        },
    }
    return definition(processing("Prep", "--score", str(score)), check, parameters=THRESHOLD)


def test_processing_then_condition_then_training_succeeds_and_records_every_step(run, settings):
    record = run(gated(0.9))
    assert record.status == "Succeeded", record.failure_reason
    assert [s.name for s in record.steps] == ["Prep", "Gate", "Train"]
    assert record.not_executed == ["Stop"]
    train = record.steps[2]
    assert train.metrics["validation:objective"] == pytest.approx(1.0 - 0.5 / 3, abs=1e-6)
    model = (
        settings.lake_dir
        / "pipelines"
        / "models"
        / f"Train-{record.execution_id}"
        / "output"
        / "model.tar.gz"
    )
    assert model.is_file()
    assert sorted(p.name for p in (settings.lake_dir / "pipelines" / "Prep" / "output").iterdir()) == [
        "part-0.csv",
        "part-1.csv",
        "part-2.csv",
    ]
    saved = json.loads(
        (settings.home / "pipelines" / "executions" / record.execution_id / "execution.json").read_text()
    )
    assert saved["status"] == "Succeeded"


def test_failing_gate_ends_in_the_fail_step_with_its_message(run):
    record = run(gated(0.5))
    assert record.status == "Failed"
    assert record.failure_reason == "AUC gate failed: score below 0.8"
    assert [s.name for s in record.steps] == ["Prep", "Gate", "Stop"]


def test_parameter_override_changes_the_branch(run):
    assert run(gated(0.5), Threshold="0.4").status == "Succeeded"


def test_parameter_override_of_the_wrong_type_fails_before_any_step(run, settings):
    with pytest.raises(DefinitionError, match="Threshold is Float; 'high' is not a valid Float"):
        run(gated(0.9), Threshold="high")
    assert not (settings.home / "pipelines" / "executions").exists()


def test_unknown_parameter_override_is_named(run):
    with pytest.raises(DefinitionError, match="unknown parameter.*Treshold"):
        run(gated(0.9), Treshold="0.1")


def test_parameter_without_default_must_be_given(run):
    raw = gated(0.9)
    raw["Parameters"] = [{"Name": "Threshold", "Type": "Float"}]
    with pytest.raises(DefinitionError, match="parameter Threshold has no default; pass --param Threshold="):
        run(raw)


def test_bad_get_path_fails_before_the_run_naming_step_and_property(settings):
    raw = definition(
        processing("Prep"), training("Train", {"Get": "Steps.Prep.ModelArtifacts.S3ModelArtifacts"}, {})
    )
    with pytest.raises(
        DefinitionError, match="step 'Train'.*Steps.Prep.ModelArtifacts.*not a property of a Processing step"
    ):
        load(raw)


def test_reference_to_a_missing_step_or_parameter_is_named():
    with pytest.raises(DefinitionError, match="refers to step 'Nope'"):
        load(
            definition(
                training(
                    "Train", {"Get": "Steps.Nope.ProcessingOutputConfig.Outputs['x'].S3Output.S3Uri"}, {}
                )
            )
        )
    with pytest.raises(DefinitionError, match="refers to parameter 'Missing'"):
        load(definition(training("Train", {"Get": "Parameters.Missing"}, {})))


def test_unsupported_step_type_function_and_field_fail_up_front():
    with pytest.raises(UnsupportedFeature, match="step 'Wait' has type 'Callback'"):
        load(definition({"Name": "Wait", "Type": "Callback", "Arguments": {}}))
    with pytest.raises(UnsupportedFeature, match="function 'Std:Upper'"):
        load(definition(training("Train", {"Std:Upper": "s3://x"}, {})))
    raw = processing("Prep")
    raw["Arguments"]["FancyNewField"] = {}
    with pytest.raises(UnsupportedFeature, match="FancyNewField"):
        load(definition(raw))


def test_cycle_is_reported_with_its_path():
    a = processing("A", inputs={"Get": "Steps.B.ProcessingOutputConfig.Outputs['output'].S3Output.S3Uri"})
    b = processing("B", inputs={"Get": "Steps.A.ProcessingOutputConfig.Outputs['output'].S3Output.S3Uri"})
    with pytest.raises(DefinitionError, match="cycle: A -> B -> A"):
        load(definition(a, b))


def test_failing_step_stops_the_execution_with_its_output_in_the_reason(run):
    record = run(definition(processing("Prep", "--fail"), training("Train", GET_OUTPUT, {})))
    assert record.status == "Failed"
    assert "step 'Prep' failed: exit code 3" in record.failure_reason
    assert "something went wrong in the job" in record.failure_reason
    assert [s.name for s in record.steps] == ["Prep"]


def test_retry_policy_retries_an_infrastructure_fault(run, tmp_path):
    marker = tmp_path / "crashed"
    step = processing(
        "Prep",
        "--crash-once",
        str(marker),
        RetryPolicies=[
            {
                "ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"],
                "IntervalSeconds": 0,
                "BackoffRate": 1.0,
                "MaxAttempts": 3,
            }
        ],
    )
    record = run(definition(step))
    assert record.status == "Succeeded", record.failure_reason
    assert record.steps[0].attempts == 2
    assert record.steps[0].retries[0]["kind"] == "SageMaker.JOB_INTERNAL_ERROR"


def test_without_retry_policy_an_infrastructure_fault_fails(run, tmp_path):
    record = run(definition(processing("Prep", "--crash-once", str(tmp_path / "crashed"))))
    assert record.status == "Failed"
    assert "JOB_INTERNAL_ERROR" in record.failure_reason


def test_cache_hit_reuses_the_previous_result_without_running_the_job(run, tmp_path):
    counter = tmp_path / "count"
    step = processing("Prep", "--count", str(counter), CacheConfig={"Enabled": True, "ExpireAfter": "PT1H"})
    first, second = run(definition(step)), run(definition(step))
    assert first.steps[0].cache_hit is False
    assert second.steps[0].cache_hit is True
    assert second.steps[0].cached_from == first.execution_id
    assert counter.read_text() == "1"


def test_changed_arguments_miss_the_cache(run, tmp_path):
    counter = tmp_path / "count"
    cache = {"Enabled": True, "ExpireAfter": "PT1H"}
    run(definition(processing("Prep", "--count", str(counter), CacheConfig=cache)))
    run(definition(processing("Prep", "--count", str(counter), "--score", "0.7", CacheConfig=cache)))
    assert counter.read_text() == "2"


def test_depends_on_orders_steps_without_data_references(run):
    first = processing("First")
    second = processing("Second", DependsOn=["First"])
    record = run(definition(second, first))
    assert [s.name for s in record.steps] == ["First", "Second"]


def test_tuning_samples_ranges_runs_parallel_jobs_and_ranks_by_the_objective(run):
    model_of_best = {
        "Std:Join": {
            "On": "/",
            "Values": [
                "s3://lakeml-lake/pipelines/models",
                {"Get": "Steps.Tune.TrainingJobSummaries[0].TrainingJobName"},
                "output/model.tar.gz",
            ],
        }
    }
    use_best = processing("UseBest", inputs=model_of_best)
    record = run(definition(processing("Prep"), tuning("Tune", GET_OUTPUT, jobs=6, parallel=2), use_best))
    assert record.status == "Succeeded", record.failure_reason
    jobs = record.steps[1].jobs or []
    assert len(jobs) == 6
    values = [j["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for j in jobs]
    assert record.steps[1].metrics["best_validation:objective"] == max(values)
    assert len({j["TunedHyperParameters"]["x"] for j in jobs}) == 6


def test_grid_tuning_covers_the_grid(run):
    ranges = {
        "IntegerParameterRanges": [{"Name": "epochs", "MinValue": "1", "MaxValue": "2"}],
        "CategoricalParameterRanges": [{"Name": "x", "Values": ["0.1", "0.3"]}],
    }
    record = run(
        definition(
            processing("Prep"),
            tuning("Tune", GET_OUTPUT, strategy="Grid", jobs=4, parallel=1, ranges=ranges, static={}),
        )
    )
    combos = {
        (j["TunedHyperParameters"]["epochs"], j["TunedHyperParameters"]["x"])
        for j in record.steps[1].jobs or []
    }
    assert combos == {("1", "0.1"), ("1", "0.3"), ("2", "0.1"), ("2", "0.3")}


def test_tuning_objective_without_a_metric_regex_fails_up_front(settings):
    from ml_pipelines.runner.engine import LocalRunner

    raw = definition(processing("Prep"), tuning("Tune", GET_OUTPUT))
    raw["Steps"][1]["Arguments"]["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"][
        "MetricName"
    ] = "validation:auc"
    with pytest.raises(
        DefinitionError, match="objective metric 'validation:auc' has no MetricDefinitions regex"
    ):
        LocalRunner(settings, load(raw))


def test_lambda_step_without_a_local_handler_fails_up_front(settings):
    from ml_pipelines.runner.engine import LocalRunner

    raw = definition(
        {
            "Name": "Notify",
            "Type": "Lambda",
            "FunctionArn": "arn:aws:lambda:eu-west-1:000000000000:function:somebody-elses",
            "Arguments": {},
        }
    )
    with pytest.raises(DefinitionError, match="Lambda function 'somebody-elses' has no local handler"):
        LocalRunner(settings, load(raw))


def test_auto_early_stopping_stops_jobs_below_the_median(run):
    record = run(
        definition(
            processing("Prep"),
            tuning(
                "Tune",
                GET_OUTPUT,
                strategy="Random",
                jobs=8,
                parallel=1,
                early_stopping="Auto",
                static={"epochs": "8"},
            ),
        )
    )
    assert record.status == "Succeeded", record.failure_reason
    jobs = record.steps[1].jobs or []
    stopped = [j for j in jobs if j["TrainingJobStatus"] == "Stopped"]
    completed = [j for j in jobs if j["TrainingJobStatus"] == "Completed"]
    assert stopped, "expected Auto early stopping to stop at least one poor job"
    best = max(j["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for j in completed)
    assert record.steps[1].metrics["best_validation:objective"] == best


def test_parallel_tuning_jobs_share_the_cores_instead_of_oversubscribing(run, settings):
    import os

    record = run(definition(processing("Prep"), tuning("Tune", GET_OUTPUT, jobs=2, parallel=2)))
    assert record.status == "Succeeded", record.failure_reason
    share = max(1, (os.cpu_count() or 1) // 2)
    logs = list((settings.home / "pipelines" / "executions" / record.execution_id).rglob("output.log"))
    tuning_logs = [p.read_text() for p in logs if "Tune-" in str(p)]
    assert len(tuning_logs) == 2
    assert all(f"cpus={share} omp={share}" in text for text in tuning_logs)
