"""The A2A agent card of one assistant: its JSON-RPC endpoint, skills and security.

Skills come from the graph: one for the assistant itself, and one per tool its tool nodes
hold. The security schemes are the configured authenticator's (``jwt``: bearer JWT,
``iam``: AWS SigV4 as an ``Authorization`` header, ``custom``: a bearer token).
"""

from __future__ import annotations

from typing import Any

from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    APIKeySecurityScheme,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)
from starlette.requests import Request

from lambdagraph.auth.guard import Guard
from lambdagraph.http.context import ApiContext

MODES = ["text/plain", "application/json"]
VERSION = "1.0"


def _schemes(auth_mode: str) -> dict[str, SecurityScheme]:
    if auth_mode == "jwt":
        scheme = HTTPAuthSecurityScheme(scheme="bearer", bearer_format="JWT")
        return {"bearer": SecurityScheme(http_auth_security_scheme=scheme)}
    if auth_mode == "custom":
        return {"bearer": SecurityScheme(http_auth_security_scheme=HTTPAuthSecurityScheme(
            scheme="bearer"))}
    if auth_mode == "iam":
        sigv4 = APIKeySecurityScheme(
            name="Authorization", location="header",
            description="AWS Signature Version 4 (the function URL's AWS_IAM auth)",
        )
        return {"sigv4": SecurityScheme(api_key_security_scheme=sigv4)}
    return {}


def _tool_skills(graph: Any) -> list[AgentSkill]:
    skills = []
    for node in getattr(graph, "nodes", {}).values():
        tools = getattr(getattr(node, "bound", None), "tools_by_name", None) or {}
        for name, tool in tools.items():
            skills.append(AgentSkill(
                id=name, name=name, description=str(getattr(tool, "description", "") or name),
                tags=["tool"],
            ))
    return skills


async def build_card(
    request: Request, context: ApiContext, guard: Guard, assistant_id: str
) -> dict[str, Any]:
    """The card as JSON (A2A 1.0 fields, with 0.3's beside them, as ``a2a-sdk`` serves it).

    Raises:
        AssistantNotFound: no such assistant for the caller (a 404).
    """
    assistant = await context.runs.assistants.get(guard.identity.user_id, assistant_id)
    graph = context.runs.graphs.get(assistant["graph_id"])
    name = assistant.get("name") or assistant_id
    description = assistant.get("description") or f"The {name} assistant (LangGraph graph " \
        f"{assistant['graph_id']!r}) served by lambdagraph"
    base = str(request.base_url).rstrip("/")
    schemes = _schemes(context.settings.auth_mode)
    card = AgentCard(
        name=name,
        description=description,
        version=str(assistant.get("version", 1)),
        supported_interfaces=[
            AgentInterface(url=f"{base}/a2a/{assistant_id}", protocol_binding="JSONRPC",
                           protocol_version=version)
            for version in (VERSION, "0.3")
        ],
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        security_schemes=schemes,
        security_requirements=[
            SecurityRequirement(schemes={key: StringList()}) for key in schemes
        ],
        default_input_modes=MODES,
        default_output_modes=MODES,
        skills=[
            AgentSkill(id=assistant["graph_id"], name=name, description=description,
                       tags=["langgraph"], input_modes=MODES, output_modes=MODES),
            *_tool_skills(graph),
        ],
    )
    return agent_card_to_dict(card)
