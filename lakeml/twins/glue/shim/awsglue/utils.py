"""`awsglue.utils.getResolvedOptions` as in AWS Glue: the values of `--NAME value` job arguments."""

from __future__ import annotations


class GlueArgumentError(Exception):
    pass


def getResolvedOptions(args: list[str], options: list[str]) -> dict[str, str]:
    """{name: value} of each `--name value` (or `--name=value`) in `args`; a missing one is an error, as in
    Glue."""
    found: dict[str, str] = {}
    for index, arg in enumerate(args):
        if not arg.startswith("--"):
            continue
        name, sep, value = arg[2:].partition("=")
        if not sep and index + 1 < len(args):
            value = args[index + 1]
        found[name] = value
    missing = [name for name in options if name not in found]
    if missing:
        raise GlueArgumentError(
            f"the following arguments are required: {', '.join('--' + m for m in missing)}"
        )
    return {name: found[name] for name in options}
