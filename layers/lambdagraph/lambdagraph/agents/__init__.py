"""Agents: the demo graph, the scripted chat model, and loading graphs by name.

``lambdagraph.agents.bedrock`` needs the ``bedrock`` extra and is imported only when
``LAMBDAGRAPH_MODEL=bedrock`` asks for it.
"""

from lambdagraph.agents.demo import build_agent_graph
from lambdagraph.agents.loader import (
    DEMO_GRAPH,
    GraphRegistry,
    load_graph,
    with_checkpointer,
)
from lambdagraph.agents.models import create_chat_model
from lambdagraph.agents.scripted import ScriptedChatModel
from lambdagraph.agents.tools import DEMO_TOOLS, calculator, get_weather, send_email
from lambdagraph.errors import ScriptedModelError
from lambdagraph.settings import parse_graph_specs

__all__ = [
    "DEMO_GRAPH",
    "DEMO_TOOLS",
    "GraphRegistry",
    "ScriptedChatModel",
    "ScriptedModelError",
    "build_agent_graph",
    "calculator",
    "create_chat_model",
    "get_weather",
    "load_graph",
    "parse_graph_specs",
    "send_email",
    "with_checkpointer",
]
