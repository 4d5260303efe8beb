"""The studio in headless Chromium (Playwright driving Debian's chromium, never a downloaded browser):
start a pipeline and watch its graph go from Executing to Succeeded, approve a version with a reason from
the keyboard, and see the endpoint serve it — then check the approval left the same registry state and
deployment as `lakeml models approve` does in another home.

With LAKEML_TEST_SCREENSHOTS=<folder> it saves a screenshot of each page there (docs/studio/ has them:
`LAKEML_TEST_SCREENSHOTS=docs/studio .venv/bin/python -m pytest tests/studio/test_browser.py`).
"""

from __future__ import annotations

import os
import shutil
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import missing_tool
from tests.ml_pipelines.serving.conftest import free_port
from tests.studio.conftest import (
    GROUP,
    PIPELINE,
    running,
    seed_lake,
    seed_pipeline,
    seed_registry,
    state,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.slow
# Who the studio proposes as the approver (git user.email), so screenshots name no real person.
APPROVER = {
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "user.email",
    "GIT_CONFIG_VALUE_0": "reviewer@example.com",
}
TIMEOUT_MS = 60_000
ROW = ",".join(["0.5"] * 8)  # one request row of the test models' 8 features


def invoke(port: int, times: int) -> None:
    for _ in range(times):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", data=ROW.encode(), headers={"Content-Type": "text/csv"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


def test_run_watch_approve_and_serve_in_the_browser(home: Path, tmp_path: Path, lakeml) -> None:
    if CHROMIUM is None:  # skipped on a laptop without it; fails where .ci/run requires it
        missing_tool(
            "chromium", "Debian's chromium is not installed: `apt-get install chromium` (.ci/run does)"
        )
    from playwright.sync_api import expect, sync_playwright

    from lakeml.core.settings import load_settings
    from lakeml.wiring import adapters

    shots = os.environ.get("LAKEML_TEST_SCREENSHOTS")
    folder = Path(shots).resolve() if shots else None

    def shoot(page, name: str) -> None:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    gate = tmp_path / "release-prep"
    seed_registry(home)
    seed_lake(load_settings().lake_dir)
    definition = seed_pipeline(home, gate=gate)["definition"]
    adapters(load_settings()).pipelines.upsert(PIPELINE, definition)
    studio_port, endpoint_port = free_port(), free_port()
    studio_url = f"http://127.0.0.1:{studio_port}"
    studio_args = [
        "studio",
        "--port",
        str(studio_port),
        "--endpoint-url",
        f"http://127.0.0.1:{endpoint_port}",
    ]

    with running(studio_args, home, f"{studio_url}/pipelines", APPROVER), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(TIMEOUT_MS)

        # Pipelines: start the execution, open it while Prep is still running.
        page.goto(f"{studio_url}/pipelines")
        page.get_by_label("Pipeline").fill(PIPELINE)
        page.get_by_role("button", name="Start").click()
        first = page.locator("#executions tbody tr[data-execution] a").first
        expect(first).to_be_visible()
        shoot(page, "pipelines")
        first.click()
        status = page.locator("#execution-status")
        expect(status).to_have_text("Executing")
        graph = page.frame_locator("#graph")
        expect(graph.locator('g.node[data-step="Prep"]')).to_have_attribute("data-status", "Executing")
        expect(page.locator('#steps tr[data-step="Train"] .status')).to_have_text("Pending")
        shoot(page, "execution-running")
        gate.write_text("go")  # Prep may finish now: the page follows without a reload by the user
        expect(status).to_have_text("Succeeded")
        expect(graph.locator('g.node[data-step="Train"]')).to_have_attribute("data-status", "Succeeded")
        expect(graph.locator('g.node[data-step="Stop"]')).to_have_attribute("data-status", "NotExecuted")
        expect(page.locator('#steps tr[data-step="Train"] .status')).to_have_text("Succeeded")
        # The page reloads itself once the execution ended; wait for that page before clicking on.
        expect(page.locator("#steps")).to_have_attribute("data-terminal", "true")
        shoot(page, "execution")
        page.get_by_role("link", name="Prep", exact=True).click()
        expect(page.locator("pre.log")).to_contain_text("processed 3 files")
        shoot(page, "step")

        # Model registry: version 2 beside the champion-less group, approved from the keyboard.
        page.goto(f"{studio_url}/models")
        page.get_by_role("link", name=GROUP).click()
        expect(page.locator("#versions tbody tr")).to_have_count(3)
        page.get_by_role("link", name="2", exact=True).click()
        page.get_by_label("Reason (kept in the approval history)").focus()
        page.keyboard.type("AUC 0.83 clears the floor")
        page.keyboard.press("Tab")  # to "Decided by"
        page.keyboard.press("Control+A")
        page.keyboard.type("reviewer@example.com")
        page.keyboard.press("Tab")  # to the Approve button
        expect(page.get_by_role("button", name="Approve")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("deployed lakeml-churn/2 to lakeml-churn")
        expect(page.locator("#version-status")).to_have_text("Approved")
        expect(page.locator("#history")).to_contain_text("reviewer@example.com")
        shoot(page, "version")
        page.goto(f"{studio_url}/models/{GROUP}")
        shoot(page, "models")

        # Endpoint: the local endpoint serves the approved version; its traffic shows up.
        with running(["serve", "--port", str(endpoint_port)], home, f"http://127.0.0.1:{endpoint_port}/ping"):
            invoke(endpoint_port, 3)
            page.goto(f"{studio_url}/endpoint")
            expect(page.locator("#endpoint-serving")).to_have_text(f"{GROUP}/2")
            expect(page.locator('#traffic tr[data-variant="AllTraffic"] .requests')).to_have_text("3")
            invoke(endpoint_port, 2)  # the page polls /stats: the count follows
            expect(page.locator('#traffic tr[data-variant="AllTraffic"] .requests')).to_have_text("5")
            shoot(page, "endpoint")

        page.goto(f"{studio_url}/data")
        expect(page.locator("#layer-bronze")).to_contain_text("orders")
        shoot(page, "data")
        browser.close()

    # The same decision with the CLI in another home leaves the same registry and deployment.
    cli_home = tmp_path / "cli-home"
    seed_registry(cli_home)
    approved = lakeml(
        "models",
        "approve",
        "2",
        "--by",
        "reviewer@example.com",
        "--reason",
        "AUC 0.83 clears the floor",
        env={"LAKEML_HOME": str(cli_home)},
    )
    assert approved.code == 0, approved
    assert state(home) == state(cli_home)
