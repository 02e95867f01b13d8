"""The demo agent on the scripted model at delay 0, served beside the SDK's integration
graphs as ``demo`` (the SDK's ``agent`` is their streaming graph)."""

from __future__ import annotations

from lambdagraph.agents.demo import build_agent_graph
from lambdagraph.agents.scripted import ScriptedChatModel

demo = build_agent_graph(ScriptedChatModel(delay_ms=0))
