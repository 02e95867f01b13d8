"""The public surface of ``lambdagraph.agents``."""

from __future__ import annotations

import subprocess
import sys

import lambdagraph.agents as agents


def test_every_public_name_is_exported() -> None:
    assert sorted(agents.__all__) == agents.__all__
    for name in agents.__all__:
        assert getattr(agents, name) is not None
    public = {n for n in vars(agents) if not n.startswith("_")}
    modules = {"bedrock", "demo", "loader", "models", "script", "scripted", "tools"}
    assert public - modules == set(agents.__all__)


def test_importing_agents_does_not_import_the_bedrock_extra() -> None:
    code = "import sys, lambdagraph.agents; print('langchain_aws' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "False"
