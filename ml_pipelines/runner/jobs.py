"""Processing and training jobs on this machine, under SageMaker's container contract.

`/opt/ml/...` is mapped to a per-job folder (every argument and environment value that starts with
`/opt/ml` is rewritten, and `LAKEML_CONTAINER__OPT_ML` names the root), inputs are copied in from the mapped S3
URIs before the job and outputs copied out after it, the training model dir is packed to
`<S3OutputPath>/<job>/output/model.tar.gz`, and metrics are read from the job's output with the
`MetricDefinitions` regexes, exactly as SageMaker reads its logs. The command runs through the
execution's `Launcher` (`launch`): a warm worker process (`workers`) or a fresh process per job.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakeml.core import environ
from ml_pipelines.runner.config import RunnerConfig
from ml_pipelines.runner.errors import DefinitionError
from ml_pipelines.runner.launch import Ended, FreshProcesses, Launch, Launcher, MetricCallback

OPT_ML = "/opt/ml"
OPT_ML_SETTING = "LAKEML_CONTAINER__OPT_ML"  # settings.container.opt_ml of the job's process


class JobError(Exception):
    """A job ended badly. `kind` is the SageMaker failure class used by retry policies."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class JobResult:
    name: str
    status: str  # Completed | Stopped
    seconds: float
    metrics: dict[str, list[float]] = field(default_factory=dict)
    log: Path | None = None
    started: float = 0.0  # time.monotonic() when the job's process started (for overhead accounting)

    def final_metrics(self) -> dict[str, float]:
        return {name: values[-1] for name, values in self.metrics.items() if values}


def _rewrite(value: str, opt_ml: Path) -> str:
    return str(opt_ml) + value[len(OPT_ML) :] if value.startswith(OPT_ML) else value


def _copy_in(source: Path, target: Path) -> None:
    """Copy an input (file or folder) into the job; hard links keep big inputs cheap."""
    if not source.exists():
        raise JobError(f"input {source} does not exist", "ClientError")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_file():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / source.name)
        return

    def link_or_copy(src: str, dst: str) -> object:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
        return dst

    shutil.copytree(source, target, copy_function=link_or_copy, dirs_exist_ok=True)


def _copy_out(source: Path, target: Path) -> None:
    """Publish a job output to its mapped URI, replacing what a previous run left there."""
    if target.exists():
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target) if source.exists() else target.mkdir(parents=True)


def _failure_reason(opt_ml: Path, log: Path, ended: Ended) -> str:
    failure = opt_ml / "output" / "failure"
    if failure.is_file() and failure.read_text().strip():
        return failure.read_text().strip()[:2000]
    tail = log.read_text().strip().splitlines()[-5:] if log.is_file() else []
    how = (
        f"the job's worker process died ({ended.worker_died}); a new worker runs the next job"
        if ended.worker_died
        else f"exit code {ended.code}"
    )
    return f"{how}; last output: {' | '.join(tail)[:1500]} (full log: {log})"


def _classify(code: int) -> str:
    """Killed by a signal looks like an infrastructure fault (retryable); an exit code is the algorithm's."""
    return "SageMaker.JOB_INTERNAL_ERROR" if code < 0 or code in (137, 143) else "AlgorithmError"


def _base_env(opt_ml: Path, extra: dict[str, str]) -> dict[str, str]:
    """This process's environment, with the container root mapped and the job's own variables added."""
    return environ.child(
        {
            OPT_ML_SETTING: str(opt_ml),
            "PYTHONUNBUFFERED": "1",
            **{k: _rewrite(str(v), opt_ml) for k, v in extra.items()},
        }
    )


def run_processing(
    config: RunnerConfig,
    job_name: str,
    job_dir: Path,
    arguments: dict[str, Any],
    launcher: Launcher | None = None,
) -> tuple[JobResult, dict[str, Any]]:
    """Run a processing job; return the result and the step's properties document."""
    opt_ml = job_dir / "opt" / "ml"
    app = arguments.get("AppSpecification", {})
    command = config.command(
        [str(a) for a in app.get("ContainerEntrypoint", [])],
        [_rewrite(str(a), opt_ml) for a in app.get("ContainerArguments", [])],
    )
    for item in arguments.get("ProcessingInputs", []):
        s3 = item.get("S3Input")
        if s3 is None:
            raise DefinitionError(
                f"processing input {item.get('InputName')!r}: only S3Input is supported locally"
            )
        _copy_in(config.local_path(s3["S3Uri"]), Path(_rewrite(s3["LocalPath"], opt_ml)))
    outputs = arguments.get("ProcessingOutputConfig", {}).get("Outputs", [])
    for item in outputs:
        Path(_rewrite(item["S3Output"]["LocalPath"], opt_ml)).mkdir(parents=True, exist_ok=True)
    log = job_dir / "logs" / "output.log"
    timeout = arguments.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
    ended = (launcher or FreshProcesses()).launch(
        Launch(
            command,
            _base_env(opt_ml, arguments.get("Environment", {})),
            log,
            timeout_s=float(timeout) if timeout else None,
        )
    )
    if ended.code != 0:
        raise JobError(_failure_reason(opt_ml, log, ended), _classify(ended.code))
    for item in outputs:
        _copy_out(
            Path(_rewrite(item["S3Output"]["LocalPath"], opt_ml)),
            config.local_path(item["S3Output"]["S3Uri"]),
        )
    result = JobResult(
        name=job_name,
        status="Completed",
        seconds=time.monotonic() - ended.started,
        log=log,
        started=ended.started,
    )
    properties = {
        "ProcessingJobName": job_name,
        "ProcessingJobArn": f"arn:aws:sagemaker:local:000000000000:processing-job/{job_name.lower()}",
        "ProcessingJobStatus": "Completed",
        "AppSpecification": app,
        "ProcessingInputs": arguments.get("ProcessingInputs", []),
        "ProcessingOutputConfig": {"Outputs": {item["OutputName"]: item for item in outputs}},
    }
    return result, properties


def run_training(
    config: RunnerConfig,
    job_name: str,
    job_dir: Path,
    arguments: dict[str, Any],
    on_metric: MetricCallback | None = None,
    cpus: int | None = None,
    launcher: Launcher | None = None,
) -> tuple[JobResult, dict[str, Any]]:
    """Run a training job like SageMaker: channels, hyperparameters.json, SM_* env, model.tar.gz.

    `cpus` is the job's share of this machine (parallel tuning jobs would each get an instance on AWS);
    it is what SM_NUM_CPUS says, so the job does not oversubscribe the cores."""
    opt_ml = job_dir / "opt" / "ml"
    algorithm = arguments.get("AlgorithmSpecification", {})
    hyperparameters = {k: str(v) for k, v in (arguments.get("HyperParameters") or {}).items()}
    channels = []
    for channel in arguments.get("InputDataConfig", []):
        name = channel["ChannelName"]
        source = channel.get("DataSource", {}).get("S3DataSource", {}).get("S3Uri")
        if source is None:
            raise DefinitionError(f"training channel {name!r}: only S3DataSource is supported locally")
        _copy_in(config.local_path(source), opt_ml / "input" / "data" / name)
        channels.append(name)
    config_dir = opt_ml / "input" / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    (config_dir / "inputdataconfig.json").write_text(json.dumps({c: {} for c in channels}))
    (config_dir / "resourceconfig.json").write_text(
        json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]})
    )
    for sub in ("model", "output/data", "code"):
        (opt_ml / sub).mkdir(parents=True, exist_ok=True)
    env = {
        "SM_MODEL_DIR": f"{OPT_ML}/model",
        "SM_OUTPUT_DATA_DIR": f"{OPT_ML}/output/data",
        "SM_OUTPUT_DIR": f"{OPT_ML}/output",
        "SM_INPUT_DIR": f"{OPT_ML}/input",
        "SM_INPUT_CONFIG_DIR": f"{OPT_ML}/input/config",
        "SM_CHANNELS": json.dumps(channels),
        "SM_HPS": json.dumps(hyperparameters),
        "SM_CURRENT_HOST": "algo-1",
        "SM_HOSTS": json.dumps(["algo-1"]),
        "SM_NUM_CPUS": str(cpus or os.cpu_count() or 1),
        "OMP_NUM_THREADS": str(cpus or os.cpu_count() or 1),
        "SM_NUM_GPUS": "0",
        "TRAINING_JOB_NAME": job_name,
        **{f"SM_CHANNEL_{c.upper()}": f"{OPT_ML}/input/data/{c}" for c in channels},
        **{f"SM_HP_{k.upper()}": v for k, v in hyperparameters.items()},
        **(arguments.get("Environment") or {}),
    }
    entrypoint = [str(a) for a in algorithm.get("ContainerEntrypoint", [])] or ["train"]
    command = config.command(
        entrypoint, [_rewrite(str(a), opt_ml) for a in algorithm.get("ContainerArguments", [])]
    )
    log = job_dir / "logs" / "output.log"
    timeout = arguments.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
    ended = (launcher or FreshProcesses()).launch(
        Launch(
            command,
            _base_env(opt_ml, env),
            log,
            timeout_s=float(timeout) if timeout else None,
            metric_definitions=algorithm.get("MetricDefinitions", []),
            on_metric=on_metric,
        )
    )
    stopped = ended.stopped
    if ended.code != 0 and not stopped:
        raise JobError(_failure_reason(opt_ml, log, ended), _classify(ended.code))
    output_uri = f"{arguments['OutputDataConfig']['S3OutputPath'].rstrip('/')}/{job_name}/output"
    output_dir = config.local_path(output_uri)
    output_dir.mkdir(parents=True, exist_ok=True)
    _pack(opt_ml / "model", output_dir / "model.tar.gz")
    _pack(opt_ml / "output" / "data", output_dir / "output.tar.gz")
    result = JobResult(
        name=job_name,
        status="Stopped" if stopped else "Completed",
        seconds=time.monotonic() - ended.started,
        metrics=ended.metrics,
        log=log,
        started=ended.started,
    )
    properties = {
        "TrainingJobName": job_name,
        "TrainingJobArn": f"arn:aws:sagemaker:local:000000000000:training-job/{job_name.lower()}",
        "TrainingJobStatus": result.status,
        "HyperParameters": hyperparameters,
        "OutputDataConfig": arguments.get("OutputDataConfig", {}),
        "ModelArtifacts": {"S3ModelArtifacts": f"{output_uri}/model.tar.gz"},
        "FinalMetricDataList": {
            name: {"MetricName": name, "Value": value} for name, value in result.final_metrics().items()
        },
    }
    return result, properties


def _pack(source: Path, target: Path) -> None:
    with tarfile.open(target, "w:gz") as archive:
        for path in sorted(source.rglob("*")):
            archive.add(path, arcname=str(path.relative_to(source)), recursive=False)
