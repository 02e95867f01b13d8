"""The demo graph ``agent``: a tool-calling agent whose ``send_email`` waits for approval."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from lambdagraph.agents.models import create_chat_model
from lambdagraph.agents.tools import DEMO_TOOLS
from lambdagraph.settings import Settings


def build_agent_graph(model: BaseChatModel | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the demo agent: ``model`` → ``tools`` → ``model`` … until no tool is called.

    Tools: ``get_weather(city)``, ``calculator(expression)`` and ``send_email(to, subject,
    body)``, which interrupts with ``{"action": "send_email", "args": {...}}`` and sends only
    when resumed with ``{"approved": True}``.

    The graph has no checkpointer; the executor attaches one (see
    :func:`lambdagraph.agents.loader.with_checkpointer`).

    Args:
        model: the chat model; None builds the configured one from ``Settings.from_env()``.

    Returns:
        The compiled graph.

    Example:
        >>> from lambdagraph.agents import ScriptedChatModel
        >>> graph = build_agent_graph(ScriptedChatModel(delay_ms=0))
        >>> graph.invoke({"messages": [("user", "calculate 6 * 7")]})["messages"][-1].content
        '6 * 7 = 42'
    """
    chat_model = create_chat_model(Settings.from_env()) if model is None else model
    bound = chat_model.bind_tools(DEMO_TOOLS)

    def call_model(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
        return {"messages": [bound.invoke(state["messages"], config)]}

    async def acall_model(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
        return {"messages": [await bound.ainvoke(state["messages"], config)]}

    builder = StateGraph(MessagesState)
    builder.add_node("model", RunnableLambda(call_model, afunc=acall_model, name="model"))
    # Tool errors (a bad expression) become error ToolMessages the model explains.
    builder.add_node("tools", ToolNode(DEMO_TOOLS, handle_tool_errors=_explain_tool_error))
    builder.add_edge(START, "model")
    builder.add_conditional_edges("model", tools_condition)
    builder.add_edge("tools", "model")
    return builder.compile(name="agent")


def _explain_tool_error(exc: ValueError) -> str:
    # Only ValueError (bad input such as "1/0") is the user's to see; anything else is a bug
    # and propagates as a run error.
    return str(exc)
