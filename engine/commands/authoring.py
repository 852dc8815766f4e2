"""For people who write policy sets: `schema` (JSON Schema for editors) and `compile`.

Commands of friction.cli, registered on its group there."""
from __future__ import annotations

import json

import click

from friction.commands import shared


@click.command("schema")
@click.argument("kind", type=shared.LazyChoice("friction.schemas", "KINDS"), default="policy")
@shared.output_option
def schema_cmd(kind: str, output: str | None) -> None:
    """JSON Schema of the YAML files people write (policy rule files, the manifest, catalogs,
    expectations), for editors: start a file with
    `# yaml-language-server: $schema=<path to schema/KIND.json>`."""
    from friction.schemas import json_schema

    shared.emit(json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n", output)


@click.command("compile")
@shared.policy_set_argument
@click.option("--show", is_flag=True, help="Print the generated Python matchers.")
@shared.output_option
def compile_cmd(policy_set: str | None, show: bool, output: str | None) -> None:
    """Compile a policy set (a check that it loads); --show prints the generated source."""
    cps = shared.compiled(policy_set)
    if show:
        shared.emit(cps.source, output)
    else:
        shared.emit(f"{cps.name} {cps.manifest.version}: {len(cps.rules)} rules, {len(cps.actions)} steps, "
              f"{len(cps.manifest.events)} life events compiled\n", output)
