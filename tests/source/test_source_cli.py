"""`lakeml source …` as a user meets it: usage errors, status shape, server lifecycle, isolation."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("source-cli")

TINY = ("--customers", "200", "--days", "30")


def _state(home):
    return json.loads((home / "run" / "fakesnow.json").read_text())


def _alive(pid: int) -> bool:
    """Running (a killed server whose parent CLI already exited may linger as a zombie until reaped)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_negative_customers_exits_2_naming_the_flag(lakeml):
    result = lakeml("source", "seed", "--customers", "-3")
    assert result.code == 2, result
    assert "--customers" in result.stderr


def test_status_json_shape(lakeml):
    result = lakeml("--json", "source", "status")
    assert result.code == 0, result
    doc = result.json
    assert doc["tables"] == {
        "CUSTOMERS": 0,
        "PRODUCTS": 0,
        "ORDERS": 0,
        "ORDER_ITEMS": 0,
        "SUPPORT_TICKETS": 0,
    }
    assert doc["server"]["host"] == "127.0.0.1"
    assert isinstance(doc["server"]["port"], int) and isinstance(doc["server"]["pid"], int)


def test_seed_twice_exits_2_with_advice_and_reset_allows_a_new_seed(lakeml):
    first = lakeml("--json", "source", "seed", *TINY)
    assert first.code == 0, first
    again = lakeml("--json", "source", "seed", *TINY)
    assert again.code == 2, again
    assert "lakeml source reset --yes" in again.json["error"]
    assert "lakeml source advance" in again.json["error"]
    assert lakeml("--json", "source", "reset", "--yes").code == 0
    assert sum(lakeml("--json", "source", "status").json["tables"].values()) == 0
    second = lakeml("--json", "source", "seed", *TINY)
    assert second.code == 0, second
    assert second.json["tables"] == first.json["tables"]


def test_advance_and_drift_on_an_empty_source_ask_to_seed_first(lakeml):
    for command in (("advance", "--days", "3"), ("drift",)):
        result = lakeml("--json", "source", *command)
        assert result.code == 2, result
        assert "lakeml source seed" in result.json["error"]


def test_stale_pid_file_is_detected_and_replaced(lakeml, home):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (home / "run").mkdir(parents=True, exist_ok=True)
    (home / "run" / "fakesnow.json").write_text(
        json.dumps({"pid": dead.pid, "host": "127.0.0.1", "port": 9, "db_path": str(home / "source")})
    )
    result = lakeml("--json", "source", "status")
    assert result.code == 0, result
    assert result.json["server"]["pid"] != dead.pid
    assert _state(home)["pid"] == result.json["server"]["pid"]
    assert _alive(result.json["server"]["pid"])


def test_stop_is_clean_and_data_survives_a_restart(lakeml, home):
    seeded = lakeml("--json", "source", "seed", *TINY)
    assert seeded.code == 0, seeded
    pid = _state(home)["pid"]
    stopped = lakeml("--json", "source", "stop")
    assert stopped.code == 0, stopped
    assert stopped.json["stopped"] is True and stopped.json["server"]["pid"] == pid
    assert not _alive(pid)
    assert not (home / "run" / "fakesnow.json").exists()
    assert lakeml("--json", "source", "stop").json["stopped"] is False
    restarted = lakeml("--json", "source", "status")
    assert restarted.json["server"]["pid"] != pid
    assert restarted.json["tables"] == seeded.json["tables"]


def test_two_homes_get_two_servers_and_never_see_each_others_data(lakeml, tmp_path):
    other = tmp_path / "other-home"
    try:
        seeded = lakeml("--json", "source", "seed", *TINY)
        assert seeded.code == 0, seeded
        theirs = lakeml("--json", "source", "status", env={"LAKEML_HOME": str(other)})
        assert theirs.code == 0, theirs
        ours = lakeml("--json", "source", "status")
        assert sum(theirs.json["tables"].values()) == 0
        assert ours.json["tables"] == seeded.json["tables"]
        assert theirs.json["server"]["port"] != ours.json["server"]["port"]
        assert theirs.json["server"]["pid"] != ours.json["server"]["pid"]
    finally:
        from tests.conftest import stop_local_servers

        stop_local_servers(other)


def test_a_live_server_that_does_not_answer_is_never_replaced_and_stop_still_stops_it(home):
    from lakeml.core.errors import LakemlError
    from lakeml.core.settings import load_settings
    from lakeml.twins.snowflake import server

    settings = load_settings()
    # a process that looks like this home's server (same module name on its command line) but is deaf
    deaf = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "lakeml.twins.snowflake.fakesnow_server"],
        start_new_session=True,
    )
    try:
        deadline = (
            time.monotonic() + 10
        )  # until the child has exec'd (before that it still looks like pytest)
        while (
            b"fakesnow_server" not in Path(f"/proc/{deaf.pid}/cmdline").read_bytes()
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        settings.run_dir.mkdir(parents=True, exist_ok=True)
        state = {"pid": deaf.pid, "host": "127.0.0.1", "port": 9, "db_path": str(settings.source_dir)}
        (settings.run_dir / "fakesnow.json").write_text(json.dumps(state))
        with pytest.raises(LakemlError, match=f"pid {deaf.pid}.*lakeml source stop"):
            server.running(settings, wait_s=0.5)
        assert (settings.run_dir / "fakesnow.json").exists(), "a busy server's state must not be dropped"
        stopped = server.stop(settings)
        assert stopped is not None and stopped.pid == deaf.pid
        assert deaf.wait(timeout=10) is not None
    finally:
        if deaf.poll() is None:
            deaf.kill()


@pytest.mark.parametrize(
    "command", [("seed",), ("advance",), ("drift",), ("status",), ("reset", "--yes"), ("stop",)]
)
def test_on_aws_every_source_command_says_it_manages_the_local_twin(lakeml, command):
    result = lakeml("--json", "source", *command, env={"LAKEML_ENV": "aws"})
    assert result.code == 2, result
    error = result.json["error"]
    assert f"`lakeml source {command[0]}` manages the local Snowflake twin" in error
    assert "LAKEML_ENV is 'aws'" in error and "Unset LAKEML_ENV" in error
