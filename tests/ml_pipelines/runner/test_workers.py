"""Warm worker processes: jobs of one execution reuse a few processes, yet each job still gets its own
container contract, fails alone when it kills its process, and produces what a fresh process would.

Every test goes through the runner's entry point (a definition executed by `LocalRunner`); which process
ran a job is read from the job's own log (`toy_probe` prints its pid)."""

from __future__ import annotations

import copy
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest

from lakeml.core.settings import load_settings
from ml_pipelines.runner.definition import load
from ml_pipelines.runner.engine import LocalRunner
from ml_pipelines.runner.record import ExecutionRecord, StepRecord
from tests.ml_pipelines.runner.conftest import JOBS, PY, definition, processing, training, tuning

pytestmark = pytest.mark.xdist_group("runner-workers")

PROBE = [*PY, f"{JOBS}.toy_probe"]


@pytest.fixture
def execute(home: Path, lake_input: Path, monkeypatch: pytest.MonkeyPatch):
    """Run a definition with jobs in warm workers (the default) or in a fresh process each."""

    def _execute(raw: dict[str, Any], mode: str = "warm") -> ExecutionRecord:
        monkeypatch.setenv("LAKEML_RUNNER__JOB_PROCESSES", mode)
        return LocalRunner(load_settings(), load(copy.deepcopy(raw))).run()

    return _execute


def probe(name: str, hyperparameters: dict[str, str], **arguments: Any) -> dict[str, Any]:
    step = training(name, "s3://lakeml-lake/data/raw", hyperparameters)
    step["Arguments"]["AlgorithmSpecification"]["ContainerEntrypoint"] = PROBE
    step["Arguments"].update(arguments)
    return step


def probe_tuning(name: str, modes: list[str], **kwargs: Any) -> dict[str, Any]:
    """Grid tuning over `mode`, one job at a time, so jobs run in the listed order."""
    step = tuning(
        name,
        "s3://lakeml-lake/data/raw",
        strategy="Grid",
        jobs=len(modes),
        parallel=1,
        ranges={"CategoricalParameterRanges": [{"Name": "mode", "Values": modes}]},
        **kwargs,
    )
    step["Arguments"]["TrainingJobDefinition"]["AlgorithmSpecification"]["ContainerEntrypoint"] = PROBE
    return step


def facts(log: str | Path) -> dict[str, str]:
    """What a probe printed: pid, cwd and `seen NAME=value` lines."""
    text = Path(log).read_text()
    found = dict(re.findall(r"^(pid|cwd)=(.*)$", text, re.M))
    found.update(re.findall(r"^seen (\w+)=(.*)$", text, re.M))
    return found


def job_log(step: StepRecord, job: str) -> Path:
    return Path(step.job_dir or "") / job / "logs" / "output.log"


def test_tuning_trials_reuse_warm_workers_and_match_fresh_processes(execute, settings) -> None:
    raw = definition(
        tuning(
            "Tune",
            "s3://lakeml-lake/data/raw",
            strategy="Random",
            jobs=4,
            parallel=2,
            static={"epochs": "2"},
        )
    )
    outcomes, processes = {}, {}
    for mode in ("warm", "fresh"):
        record = execute(raw, mode)
        assert record.status == "Succeeded", record.failure_reason
        step = record.steps[0]
        trials = []
        for job in step.jobs or []:
            artifact = settings.lake_dir / job["ModelArtifacts"]["S3ModelArtifacts"].split("lakeml-lake/")[1]
            with tarfile.open(artifact) as archive:
                model = json.loads(archive.extractfile("model.json").read())  # type: ignore[union-attr]
            trials.append(
                (
                    job["TunedHyperParameters"]["x"],
                    job["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
                    model,
                )
            )
        pids = {facts(job_log(step, j["TrainingJobName"]))["pid"] for j in step.jobs or []}
        outcomes[mode] = sorted(trials)
        processes[mode] = len(pids)
    assert outcomes["warm"] == outcomes["fresh"]
    assert len(outcomes["warm"]) == 4
    assert processes == {"warm": 2, "fresh": 4}  # two parallel trials: two warm workers, each reused


def test_jobs_of_one_execution_share_a_worker_and_see_only_their_own_contract(execute, tmp_path) -> None:
    shown = "SM_JOB_ONLY,SM_EXPORTED,SM_HP_MODE,TRAINING_JOB_NAME"
    first = probe(
        "First",
        {"mode": "ok", "export": "SM_EXPORTED=leaked", "chdir": str(tmp_path), "show": shown},
        Environment={"SM_JOB_ONLY": "first"},
    )
    second = probe("Second", {"show": shown})
    second["DependsOn"] = ["First"]
    record = execute(definition(first, second))
    assert record.status == "Succeeded", record.failure_reason
    one, two = (facts(step.log or "") for step in record.steps)
    assert one["pid"] == two["pid"]  # the second job reused the first one's worker
    assert (one["SM_JOB_ONLY"], one["SM_HP_MODE"]) == ("first", "ok")
    assert one["TRAINING_JOB_NAME"].startswith("First-")
    # nothing of the first job is left: its Environment, what it exported, its hyperparameters, its cwd
    assert (two["SM_JOB_ONLY"], two["SM_EXPORTED"], two["SM_HP_MODE"]) == ("-", "-", "-")
    assert two["TRAINING_JOB_NAME"].startswith("Second-")
    assert two["cwd"] == one["cwd"] != str(tmp_path)
    second_model = Path(record.steps[1].properties["ModelArtifacts"]["S3ModelArtifacts"])
    assert second_model.name == "model.tar.gz"


@pytest.mark.parametrize("mode", ["warm", "fresh"])
def test_a_job_that_kills_its_process_fails_alone_and_the_next_job_runs(execute, mode) -> None:
    record = execute(
        definition(probe_tuning("Tune", ["sigkill", "ok", "exit", "segfault", "raise", "fine"])), mode
    )
    assert record.status == "Succeeded", record.failure_reason  # the tuning job survives its failed trials
    step = record.steps[0]
    jobs = {j["TunedHyperParameters"]["mode"] + j["TrainingJobName"][-1]: j for j in step.jobs or []}
    statuses = {key: job["TrainingJobStatus"] for key, job in jobs.items()}
    assert statuses == {
        "sigkill1": "Failed",
        "ok2": "Completed",
        "exit3": "Failed",
        "segfault4": "Failed",
        "raise5": "Failed",
        "fine6": "Completed",
    }
    reasons = {key: job.get("FailureReason", "") for key, job in jobs.items()}
    if mode == "warm":
        assert "worker process died (killed by SIGKILL)" in reasons["sigkill1"]
        assert "worker process died (exited with code 7)" in reasons["exit3"]
        assert "worker process died (killed by SIGSEGV)" in reasons["segfault4"]
        assert "a new worker runs the next job" in reasons["sigkill1"]
    else:
        assert "exit code -9" in reasons["sigkill1"] and "exit code 7" in reasons["exit3"]
    # an exception is the job's own failure: run_job's failure file, as in a process of its own
    assert reasons["raise5"].startswith("RuntimeError: the probe was asked to raise")
    order = ["sigkill1", "ok2", "exit3", "segfault4", "raise5", "fine6"]
    pids = [facts(job_log(step, jobs[key]["TrainingJobName"]))["pid"] for key in order]
    for index in (0, 2, 3):  # the process a job crashed runs no later job
        assert pids[index] not in pids[index + 1 :]
    if mode == "warm":  # a job that raised leaves its worker usable; a finished one is reused
        assert pids[4] == pids[5] and pids[1] == pids[2]


@pytest.mark.parametrize("mode", ["warm", "fresh"])
def test_early_stopping_stops_a_job_and_keeps_its_worker_warm(execute, mode) -> None:
    cases = ["ok:0.9", "ok:0.8", "linger:0.1", "ok:0.95"]
    tune = probe_tuning("Tune", cases, early_stopping="Auto", static={"epochs": "8"})
    tune["Arguments"]["TrainingJobDefinition"]["StoppingCondition"] = {"MaxRuntimeInSeconds": 300}
    record = execute(definition(tune), mode)
    assert record.status == "Succeeded", record.failure_reason
    step = record.steps[0]
    jobs = sorted(step.jobs or [], key=lambda j: j["TrainingJobName"])
    assert [j["TrainingJobStatus"] for j in jobs] == ["Completed", "Completed", "Stopped", "Completed"]
    pids = [facts(job_log(step, j["TrainingJobName"]))["pid"] for j in jobs]
    if mode == "warm":  # stopped, not killed: the next trial runs in the same worker
        assert len(set(pids)) == 1
    else:
        assert len(set(pids)) == 4


def test_stopping_condition_kills_the_worker_and_the_next_step_gets_a_new_one(execute) -> None:
    before = probe("Before", {"mode": "ok"})
    hung = probe("Hung", {"mode": "hang"}, StoppingCondition={"MaxRuntimeInSeconds": 1})
    hung["DependsOn"] = ["Before"]
    after = probe("After", {"mode": "ok"})
    after["DependsOn"] = ["Hung"]
    record = execute(definition(before, hung, after))
    assert record.status == "Succeeded", record.failure_reason
    statuses = [step.properties["TrainingJobStatus"] for step in record.steps]
    assert statuses == ["Completed", "Stopped", "Completed"]
    # Hung ran in Before's warm worker; the timeout killed it, so After runs in a new one
    assert facts(record.steps[0].log or "")["pid"] != facts(record.steps[2].log or "")["pid"]


def test_processing_and_training_steps_share_the_warm_workers(execute) -> None:
    after = probe("After", {"mode": "ok"})
    after["DependsOn"] = ["Prep"]
    record = execute(definition(processing("Prep"), after))
    assert record.status == "Succeeded", record.failure_reason
    assert "processed 3 files" in Path(record.steps[0].log or "").read_text()
    assert facts(record.steps[0].log or "")["pid"] == facts(record.steps[1].log or "")["pid"]


def test_real_training_trials_are_identical_in_warm_workers_and_fresh_processes(
    execute, settings, tmp_path
) -> None:
    """The image's `train` command in lakeml's own Tune step (the committed definition snapshot: seeded,
    Auto early stopping; fewer rounds), one trial at a time so the sampler sees the same history: the
    same hyperparameters, statuses, objectives and model files."""
    from bench.bench_tuning import tuning_definition, write_channels

    snapshot = json.loads((Path(__file__).parents[1] / "snapshots" / "training.json").read_text())
    raw = tuning_definition(*write_channels(tmp_path / "data", 1500), full=snapshot)
    static = raw["Steps"][0]["Arguments"]["TrainingJobDefinition"]["StaticHyperParameters"]
    static.update(num_round="60", early_stopping_rounds="10")
    raw["Parameters"] = [
        {
            **p,
            "DefaultValue": {"MaxTuningJobs": 2, "MaxParallelTuningJobs": 1}.get(
                p["Name"], p["DefaultValue"]
            ),
        }
        for p in raw["Parameters"]
    ]
    trials = {}
    for mode in ("warm", "fresh"):
        record = execute(raw, mode)
        assert record.status == "Succeeded", record.failure_reason
        trials[mode] = []
        for job in sorted(record.steps[0].jobs or [], key=lambda j: j["TrainingJobName"]):
            artifact = settings.lake_dir / job["ModelArtifacts"]["S3ModelArtifacts"].split("lakeml-lake/")[1]
            with tarfile.open(artifact) as archive:
                names = archive.getnames()
                model = archive.extractfile("xgboost-model.json").read() if names else b""  # type: ignore[union-attr]
            objective = job.get("FinalHyperParameterTuningJobObjectiveMetric", {}).get("Value")
            trials[mode].append((job["TunedHyperParameters"], job["TrainingJobStatus"], objective, model))
    assert trials["warm"] == trials["fresh"]
    assert len(trials["warm"]) == 2 and trials["warm"][0][1] == "Completed"
