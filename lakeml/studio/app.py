"""`lakeml studio`'s web app: one Starlette application, pages rendered on the server from Jinja2
templates, a small polling script for live status, every asset shipped in this package (no CDN).

Everything is read through the ports `lakeml.wiring.adapters(settings)` hands over, so LAKEML_ENV=aws
shows SageMaker and the S3 lake with the same pages. The one write that matters — approving or rejecting
a model version — calls `ml_pipelines.decisions.decide_and_deploy`, the function behind
`lakeml models approve|reject`, so both leave the same registry state and the same deployment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from jinja2 import Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from lakeml.core.errors import LakemlError, UsageError
from lakeml.core.settings import Settings
from lakeml.studio import data, endpoint, registry
from lakeml.studio.pipelines import Pipelines, status_document, step_document
from lakeml.wiring import Adapters

HERE = Path(__file__).parent
PAGES = (("pipelines", "Pipelines"), ("models", "Model registry"), ("endpoint", "Endpoint"), ("data", "Data"))


class Studio:
    """The app's state: settings, ports, and where the local endpoint answers."""

    def __init__(self, settings: Settings, ports: Adapters, endpoint_url: str) -> None:
        self.settings = settings
        self.ports = ports
        self.endpoint_url = endpoint_url
        self.pipelines = Pipelines(settings, lambda: ports.pipelines)
        jinja = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
        jinja.filters["number"] = number
        self.templates = Jinja2Templates(env=jinja)

    def page(self, request: Request, template: str, section: str, **context: Any) -> Response:
        context = {
            "pages": PAGES,
            "section": section,
            "notice": request.query_params.get("notice"),
            **context,
        }
        return self.templates.TemplateResponse(request, template, context)

    # Pipelines ---------------------------------------------------------------------------------------

    async def pipelines_page(self, request: Request) -> Response:
        execution = request.query_params.get("execution")
        if execution:  # an execution by reference (the AWS route: the port describes it)
            return RedirectResponse(f"/pipelines/executions/{quote(execution, safe='')}", 303)
        return self.page(
            request,
            "pipelines.html",
            "pipelines",
            remote=self.pipelines.remote,
            executions=self.pipelines.executions(),
            definitions=self.pipelines.definitions(),
            started=self.pipelines.started[-5:],
        )

    async def executions_api(self, request: Request) -> Response:
        return JSONResponse({"executions": self.pipelines.executions(), "started": self.pipelines.started})

    async def start(self, request: Request) -> Response:
        form = await read_form(request)
        name = form.get("pipeline", "").strip()
        self.pipelines.start(name, {})
        return RedirectResponse(f"/pipelines?notice={quote(f'started {name}')}", 303)

    async def execution_page(self, request: Request) -> Response:
        execution = request.path_params["execution"]
        if self.pipelines.remote:
            return self.page(
                request, "execution_remote.html", "pipelines", execution=self.pipelines.describe(execution)
            )
        record = self.pipelines.record(execution)
        return self.page(
            request, "execution.html", "pipelines", execution=status_document(record), record=record
        )

    async def execution_api(self, request: Request) -> Response:
        execution = request.path_params["execution"]
        if self.pipelines.remote:
            return JSONResponse(self.pipelines.describe(execution))
        return JSONResponse(status_document(self.pipelines.record(execution)))

    async def graph(self, request: Request) -> Response:
        from ml_pipelines.runner.graph import render

        record = self.pipelines.record(request.path_params["execution"])
        return Response(render(record), media_type="text/html")

    async def step_page(self, request: Request) -> Response:
        record = self.pipelines.record(request.path_params["execution"])
        step = step_document(record, request.path_params["step"])
        return self.page(request, "step.html", "pipelines", execution=record, step=step)

    # Model registry ----------------------------------------------------------------------------------

    async def models_page(self, request: Request) -> Response:
        return self.page(request, "models.html", "models", groups=registry.groups(self.ports))

    async def group_page(self, request: Request) -> Response:
        doc = registry.group_document(self.ports, request.path_params["group"])
        return self.page(request, "group.html", "models", doc=doc)

    async def version_page(self, request: Request) -> Response:
        group, number = request.path_params["group"], request.path_params["version"]
        doc = registry.version_document(self.settings, self.ports, group, number)
        from ml_pipelines.approval import default_approver

        return self.page(request, "version.html", "models", doc=doc, approver=default_approver())

    async def decide(self, request: Request) -> Response:
        from ml_pipelines.decisions import decide_and_deploy

        group, number = request.path_params["group"], request.path_params["version"]
        form = await read_form(request)
        decision, reason, by = (
            form.get("decision"),
            form.get("reason", "").strip(),
            form.get("by", "").strip(),
        )
        if decision not in ("approve", "reject"):
            raise UsageError("choose Approve or Reject")
        if not reason or not by:
            raise UsageError("a decision needs who decides and why: fill in both fields")
        outcome = decide_and_deploy(
            self.ports, group, number, approve=decision == "approve", by=by, reason=reason
        )
        event = outcome.event
        notice = f"{group}/{number}: {event.from_status} -> {event.to_status} by {by}" if event else ""
        effects = outcome.effects
        if effects.get("deployed"):
            notice += f"; deployed {effects['deployed']['version']} to {effects['deployed']['endpoint']}"
        elif effects.get("error"):
            notice += f"; deploy failed, the previous version keeps serving: {effects['error']}"
        elif effects.get("reason"):
            notice += f"; {effects['reason']}"
        return RedirectResponse(f"/models/{quote(group)}/{number}?notice={quote(notice)}", 303)

    async def rollback(self, request: Request) -> Response:
        from ml_pipelines.serving.on_approval import rollback

        group = request.path_params["group"]
        result = rollback(self.ports.registry, self.ports.deployer, group)
        notice = f"{result['endpoint']}: rolled back from {result['rolled_back_from']} to {result['version']}"
        return RedirectResponse(f"/endpoint?notice={quote(notice)}", 303)

    # Endpoint and data -------------------------------------------------------------------------------

    async def endpoint_page(self, request: Request) -> Response:
        doc = endpoint.document(self.ports, self.endpoint_url)
        return self.page(request, "endpoint.html", "endpoint", doc=doc)

    async def endpoint_api(self, request: Request) -> Response:
        return JSONResponse(endpoint.document(self.ports, self.endpoint_url))

    def docs_dir(self) -> Path | None:
        try:
            return Path(self.ports.transform_target.results_dir)
        except (LakemlError, NotImplementedError, AttributeError):
            return None

    async def data_page(self, request: Request) -> Response:
        doc = data.document(self.ports.lake, self.docs_dir())
        return self.page(request, "data.html", "data", doc=doc)

    async def dbt_docs(self, request: Request) -> Response:
        """The dbt docs site `lakeml docs --generate-only` wrote (index.html, manifest.json, catalog.json)."""
        folder = self.docs_dir()
        name = request.path_params.get("name") or "index.html"
        if folder is None or name not in ("index.html", "manifest.json", "catalog.json"):
            raise HTTPException(404, "no such dbt docs file")
        path = folder / name
        if not path.is_file():
            raise HTTPException(404, "no dbt docs yet: generate them with `lakeml docs --generate-only`")
        return FileResponse(path)


def number(value: Any, digits: int = 4) -> str:
    """A metric for a table cell: numbers rounded, missing ones as a dash."""
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:+.{-digits}f}" if digits < 0 else f"{value:.{digits}f}"
    return str(value)


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form (the pages' only kind), refused when posted from another origin."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, f"form posted from another origin ({origin}); use the studio's own pages")
    body = (await request.body()).decode()
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


def create_app(settings: Settings, ports: Adapters, *, endpoint_url: str) -> Starlette:
    studio = Studio(settings, ports, endpoint_url)

    async def home(request: Request) -> Response:
        return RedirectResponse("/pipelines", 303)

    async def problem(request: Request, exc: Exception) -> Response:
        status = 400 if isinstance(exc, UsageError) else 500
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status)
        response = studio.page(request, "error.html", "", message=str(exc))
        response.status_code = status
        return response

    routes = [
        Route("/", home),
        Route("/pipelines", studio.pipelines_page),
        Route("/pipelines/start", studio.start, methods=["POST"]),
        Route("/pipelines/executions/{execution:path}/graph", studio.graph),
        Route("/pipelines/executions/{execution}/steps/{step}", studio.step_page),
        Route("/pipelines/executions/{execution:path}", studio.execution_page),
        Route("/api/executions", studio.executions_api),
        Route("/api/executions/{execution:path}", studio.execution_api),
        Route("/models", studio.models_page),
        Route("/models/{group}", studio.group_page),
        Route("/models/{group}/rollback", studio.rollback, methods=["POST"]),
        Route("/models/{group}/{version:int}", studio.version_page),
        Route("/models/{group}/{version:int}/decision", studio.decide, methods=["POST"]),
        Route("/endpoint", studio.endpoint_page),
        Route("/api/endpoint", studio.endpoint_api),
        Route("/data", studio.data_page),
        Route("/dbt-docs/", studio.dbt_docs),
        Route("/dbt-docs/{name}", studio.dbt_docs),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    return Starlette(routes=routes, exception_handlers={LakemlError: problem})
