"""The README documents every knob: each Settings field (as its LAMBDA_OPS_ variable) and each template.yaml
parameter appears in backticks, so a new setting or parameter cannot ship undocumented."""

from __future__ import annotations

from pathlib import Path

import yaml

from app.config import Settings
from tests.cfn import CfnLoader

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_setting_is_in_the_readme() -> None:
    missing = [f"LAMBDA_OPS_{name.upper()}" for name in Settings.model_fields]
    assert [v for v in missing if f"`{v}`" not in README] == []


def test_every_template_parameter_is_in_the_readme() -> None:
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)
    assert "LogGroupPattern" in template["Parameters"]  # the template was read
    assert [p for p in template["Parameters"] if f"`{p}`" not in README] == []


def test_every_tool_is_in_the_readmes_tools_table() -> None:
    import asyncio

    from app.surface.server import build_server

    tools = [t.name for t in asyncio.run(build_server(Settings(auth_mode="none")).list_tools())]
    assert "get-function-health" in tools
    assert [t for t in tools if f"| `{t}` |" not in README] == []
