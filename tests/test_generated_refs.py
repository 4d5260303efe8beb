"""The generated references (docs/settings.md, infra/modules/*/README.md) match the code they describe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lakeml.cli import refs

REPO = Path(__file__).resolve().parents[1]


def test_every_generated_reference_is_current() -> None:
    outdated = refs.stale(REPO)
    assert not outdated, (
        f"stale generated references: {', '.join(map(str, outdated))}; run `{refs.COMMAND}` and commit them"
    )


def test_the_settings_reference_names_every_key_and_its_variable() -> None:
    from lakeml.core.settings import reference

    text = (REPO / refs.SETTINGS_DOC).read_text()
    for row in reference():
        assert f"| `{row['key']}` | `{row['env']}` |" in text, row["key"]


@pytest.mark.parametrize("module", sorted(p.name for p in (REPO / "infra/modules").iterdir() if p.is_dir()))
def test_the_terraform_reader_finds_every_variable_and_output(module: str) -> None:
    """A plain line count of `variable "x" {` / `output "x" {` agrees with the scanner, and each has its
    description (the scanner keeps a block's attributes, not just its name)."""
    folder = REPO / "infra/modules" / module
    declared = [
        m.groups()
        for path in sorted(folder.glob("*.tf"))
        for m in re.finditer(r'^(variable|output) "([^"]+)"', path.read_text(), re.M)
    ]
    found = refs.module_blocks(folder)
    assert [(b.kind, b.name) for b in found] == declared
    assert all(b.text("description") for b in found), [b.name for b in found if not b.text("description")]


def test_the_reader_keeps_expressions_as_written_and_skips_strings_comments_and_nested_blocks() -> None:
    text = """
# variable "commented" {}
variable "shape" {
  description = "a { brace and a \\"quote\\" # not a comment"
  type = object({
    name = string # trailing
  })
  default = { name = "x}" }
  validation {
    condition     = length(var.shape.name) > 0
    error_message = "empty"
  }
  sensitive = true
}
output "doc" {
  description = <<-EOT
    heredoc } text
  EOT
  value = "v"
}
"""
    shape, doc = refs.blocks(text)
    assert (shape.name, shape.text("description")) == ("shape", 'a { brace and a "quote" # not a comment')
    assert shape.attributes["type"] == "object({ name = string # trailing })"
    assert shape.attributes["default"] == '{ name = "x}" }'
    assert shape.attributes["sensitive"] == "true" and "condition" not in shape.attributes
    assert (doc.kind, doc.text("description"), doc.attributes["value"]) == ("output", "heredoc } text", '"v"')


def test_check_exits_1_naming_the_stale_file_and_the_command_then_0_once_regenerated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "infra/modules/tiny"
    module.mkdir(parents=True)
    (module / "variables.tf").write_text('variable "size" {\n  description = "how big"\n  type = number\n}\n')
    assert refs.main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "infra/modules/tiny/README.md" in err and refs.COMMAND in err
    assert refs.main(["--root", str(tmp_path)]) == 0
    assert "| `size` | `number` | required | how big |" in (module / "README.md").read_text()
    assert refs.main(["--check", "--json", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().endswith('{"stale": []}')
    assert refs.main(["--check", "--root", str(tmp_path / "nowhere")]) == 2
