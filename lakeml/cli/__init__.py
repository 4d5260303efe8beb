"""The `lakeml` command line: one Typer app, a sub-app per stage."""
