"""``auth_mode=custom``: a ``langgraph_sdk.Auth`` object, as a LangGraph Server deployment uses it.

``LAMBDAGRAPH_AUTH_PATH`` names the object like ``langgraph.json``'s ``auth.path`` does:
``package.module:auth`` or ``./path/to/file.py:auth``. Its ``@auth.authenticate`` handler
gives the identity (:class:`CustomAuthenticator`); its ``@auth.on`` handlers judge each
action (:class:`CustomAuthorizer`). Both follow LangGraph Server's ``langgraph_api.auth.custom``:
the same parameters are injected into the authenticate handler, the same handler is chosen
for a resource and action, and results mean the same:

* ``Auth.exceptions.HTTPException`` keeps its detail and its status (401, 403, 404, 409,
  429 and 503 as such; another 4xx is answered 403, another 5xx 503);
* any other exception is logged and answered with a generic 401 (authenticate) or 403
  (``@auth.on``), its message withheld; an ``AssertionError`` in an ``@auth.on`` handler
  is a 403 with its message, as on LangGraph Server.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import logging
import sys
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any, Final
from urllib.parse import urlencode

from langgraph_sdk import Auth
from starlette.datastructures import QueryParams
from starlette.requests import Request

from lambdagraph.auth.identity import AuthRequest, Identity
from lambdagraph.auth.policy import Action, Resource
from lambdagraph.errors import (
    ConfigurationError,
    Conflict,
    Forbidden,
    LambdagraphError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from lambdagraph.store.filters import Filters

logger = logging.getLogger(__name__)

SUPPORTED_PARAMETERS: Final = frozenset(
    {
        "request", "body", "user", "path", "method", "scopes", "path_params",
        "query_params", "headers", "authorization", "scope",
    }
)
"""What an ``@auth.authenticate`` handler may ask for (LangGraph Server's list)."""

_ERRORS_BY_STATUS: Final[Mapping[int, type[LambdagraphError]]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    503: Unavailable,
}
_USER_FIELDS: Final = ("identity", "permissions", "display_name")


@lru_cache(maxsize=8)
def load_auth(path: str) -> Auth:
    """The ``Auth`` object ``path`` names (``module:name`` or ``./file.py:name``), loaded once.

    Raises:
        ConfigurationError: ``LAMBDAGRAPH_AUTH_PATH`` is empty, malformed, cannot be imported,
            names nothing, names something that is not a ``langgraph_sdk.Auth``, or one
            without an ``@auth.authenticate`` handler.
    """
    module_name, _, name = path.strip().rpartition(":")
    if not module_name or not name:
        raise ConfigurationError(
            f"LAMBDAGRAPH_AUTH_PATH must be 'module.path:auth' or './file.py:auth', got {path!r}"
        )
    try:
        module = _import(module_name)
    except Exception as exc:
        raise ConfigurationError(
            f"LAMBDAGRAPH_AUTH_PATH {path!r}: cannot import {module_name!r}: {exc}"
        ) from exc
    auth = getattr(module, name, None)
    if not isinstance(auth, Auth):
        found = "nothing" if auth is None else type(auth).__name__
        raise ConfigurationError(
            f"LAMBDAGRAPH_AUTH_PATH {path!r} must name a langgraph_sdk.Auth instance; "
            f"found {found}"
        )
    if auth._authenticate_handler is None:
        raise ConfigurationError(
            f"LAMBDAGRAPH_AUTH_PATH {path!r}: the Auth object has no @auth.authenticate handler"
        )
    _check_parameters(path, auth._authenticate_handler)
    return auth


def _import(module_name: str) -> Any:
    if "/" not in module_name and not module_name.endswith(".py"):
        return importlib.import_module(module_name)
    spec = importlib.util.spec_from_file_location(f"lambdagraph_auth_{abs(hash(module_name))}",
                                                  module_name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no Python file at {module_name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _check_parameters(path: str, handler: Callable[..., Any]) -> None:
    unsupported = [
        name
        for name, parameter in inspect.signature(handler).parameters.items()
        if name not in SUPPORTED_PARAMETERS and parameter.default is parameter.empty
    ]
    if unsupported:
        raise ConfigurationError(
            f"LAMBDAGRAPH_AUTH_PATH {path!r}: @auth.authenticate has unsupported required "
            f"parameters {unsupported}; supported: {sorted(SUPPORTED_PARAMETERS)}"
        )


def error_for(exc: Auth.exceptions.HTTPException) -> LambdagraphError:
    """Our error for a handler's ``Auth.exceptions.HTTPException``, keeping its detail."""
    detail = str(exc.detail)
    if exc.status_code == 429:
        return RateLimited(detail)
    kind = _ERRORS_BY_STATUS.get(exc.status_code)
    if kind is None:
        kind = Unavailable if exc.status_code >= 500 else Forbidden
    return kind(detail)


class CustomAuthenticator:
    """Calls the ``@auth.authenticate`` handler with what it asks for, as LangGraph does.

    Args:
        auth: the deployment's ``Auth`` object (:func:`load_auth`).
    """

    def __init__(self, auth: Auth) -> None:
        handler = auth._authenticate_handler
        if handler is None:
            raise ConfigurationError("The Auth object has no @auth.authenticate handler")
        self.handler: Callable[..., Any] = handler  # LangGraph also accepts a sync one
        self.parameters = frozenset(inspect.signature(handler).parameters) & SUPPORTED_PARAMETERS

    async def authenticate(self, request: AuthRequest) -> Identity:
        """The identity the handler returned.

        Raises:
            Unauthorized: the handler refused (its detail) or failed (a generic message).
            Forbidden: the handler raised ``HTTPException(403, ...)``.
        """
        try:
            kwargs = handler_arguments(request, self.parameters)
            if inspect.iscoroutinefunction(self.handler):
                result = await self.handler(**kwargs)
            else:
                result = await asyncio.to_thread(self.handler, **kwargs)
            return identity_of(result)
        except Auth.exceptions.HTTPException as exc:
            raise error_for(exc) from None
        except LambdagraphError:
            raise
        except Exception:
            logger.exception("the @auth.authenticate handler failed")
            raise Unauthorized("Unauthorized") from None


def handler_arguments(request: AuthRequest, parameters: frozenset[str]) -> dict[str, Any]:
    """The keyword arguments LangGraph Server would inject for ``parameters``."""
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    scope: dict[str, Any] = {
        "type": "http",
        "method": request.method,
        "path": request.path,
        "raw_path": request.path.encode(),
        "query_string": urlencode(dict(request.query)).encode(),
        "headers": raw_headers,
        "path_params": {},
        "aws.request_context": dict(request.request_context),
    }
    available: dict[str, Callable[[], Any]] = {
        "scope": lambda: scope,
        "request": lambda: Request(scope),
        "user": lambda: None,
        "scopes": list,
        "path_params": dict,
        "path": lambda: request.path,
        "query_params": lambda: QueryParams(scope["query_string"]),
        "headers": lambda: dict(raw_headers),
        "authorization": lambda: request.headers.get("authorization"),
        "method": lambda: request.method,
    }
    return {name: available[name]() for name in parameters if name in available}


def identity_of(result: Any) -> Identity:
    """An :class:`Identity` from what a handler returned: a user id, a dict or object with
    ``identity``, or a ``(permissions, user)`` tuple (as LangGraph normalises them)."""
    if isinstance(result, tuple):
        if len(result) != 2:
            raise ValueError("expected (permissions, user)")
        permissions, user = result
    elif isinstance(result, Mapping):
        permissions, user = result.get("permissions") or (), result
    else:
        permissions, user = getattr(result, "permissions", ()) or (), result
    if isinstance(user, str):
        fields: dict[str, Any] = {"identity": user}
    elif isinstance(user, Mapping):
        fields = dict(user)
    elif hasattr(user, "identity"):
        fields = _object_fields(user)
    else:
        raise ValueError(f"an auth handler returned {type(user).__name__}, not a user")
    identity = fields.get("identity")
    if not isinstance(identity, str) or not identity:
        raise ValueError("the user has no identity")
    return Identity(
        identity,
        permissions=tuple(str(p) for p in permissions),
        display_name=str(fields.get("display_name") or identity),
        claims={k: v for k, v in fields.items() if k not in _USER_FIELDS},
    )


def _object_fields(user: Any) -> dict[str, Any]:
    dump = getattr(user, "model_dump", None) or getattr(user, "dict", None)
    fields: dict[str, Any] = dict(dump()) if callable(dump) else {}
    fields["identity"] = user.identity
    for name in ("display_name", "is_authenticated"):
        if hasattr(user, name):
            fields[name] = getattr(user, name)
    return fields


class AuthUser:
    """``ctx.user`` in ``@auth.on`` handlers: LangGraph's ``BaseUser``, built from an identity.

    ``identity``, ``display_name``, ``is_authenticated`` and ``permissions`` are attributes;
    every field the authenticate handler returned is also an item (``ctx.user["org"]``) and
    an attribute.
    """

    def __init__(self, identity: Identity) -> None:
        self._fields: dict[str, Any] = {
            "identity": identity.user_id,
            "is_authenticated": True,
            "display_name": identity.display_name or identity.user_id,
            "permissions": list(identity.permissions),
            **identity.claims,
        }

    @property
    def identity(self) -> str:
        """The user id."""
        return str(self._fields["identity"])

    @property
    def display_name(self) -> str:
        """A human-readable name (the identity when none was given)."""
        return str(self._fields["display_name"])

    @property
    def is_authenticated(self) -> bool:
        """Whether the user is authenticated (True unless the handler said otherwise)."""
        return bool(self._fields["is_authenticated"])

    @property
    def permissions(self) -> list[str]:
        """The permissions the authenticate handler granted."""
        return list(self._fields["permissions"])

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_fields"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __contains__(self, key: object) -> bool:
        return key in self._fields

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def get(self, key: str, default: Any = None) -> Any:
        """A field, or ``default``."""
        return self._fields.get(key, default)

    def keys(self) -> Any:
        """The field names."""
        return self._fields.keys()

    def items(self) -> Any:
        """The fields."""
        return self._fields.items()

    def dict(self) -> dict[str, Any]:
        """Every field, as ``ProxyUser.dict()`` gives them."""
        return dict(self._fields)

    def __repr__(self) -> str:
        return f"AuthUser({self.identity!r})"


class CustomAuthorizer:
    """Runs the ``@auth.on`` handler LangGraph Server would pick for a resource and action.

    The most specific handler wins: ``(resource, action)``, then ``(resource, "*")``, then
    ``("*", action)``, then ``("*", "*")``, then the last global ``@auth.on``. No handler:
    allowed, unfiltered (LangGraph fails open there too; register a global ``@auth.on``
    that returns ``False`` to deny by default).
    """

    def __init__(self, auth: Auth) -> None:
        self.auth = auth

    def handler_for(self, resource: str, action: str) -> Callable[..., Any] | None:
        """The handler for ``resource`` and ``action``, if any."""
        handlers: Mapping[tuple[str, str], list[Callable[..., Any]]] = self.auth._handlers
        for key in ((resource, action), (resource, "*"), ("*", action), ("*", "*")):
            if handlers.get(key):
                return handlers[key][-1]
        globals_ = self.auth._global_handlers
        return globals_[-1] if globals_ else None

    async def authorize(
        self, identity: Identity, resource: Resource, action: Action, value: dict[str, Any]
    ) -> Filters | None:
        """The handler's filters; ``Forbidden`` when it returns ``False`` or fails."""
        handler = self.handler_for(resource, action)
        if handler is None:
            return None
        ctx = Auth.types.AuthContext(
            permissions=list(identity.permissions),
            user=AuthUser(identity),
            resource=resource,
            action=action,
        )
        try:
            result = await handler(ctx=ctx, value=value)
        except Auth.exceptions.HTTPException as exc:
            raise error_for(exc) from None
        except AssertionError as exc:
            raise Forbidden(str(exc) or "Forbidden") from None
        except LambdagraphError:
            raise
        except Exception:
            logger.exception("the @auth.on handler for %s.%s failed", resource, action)
            raise Forbidden("Forbidden") from None
        if result is None or result is True:
            return None
        if result is False:
            raise Forbidden("Forbidden")
        if isinstance(result, Mapping):
            return result
        logger.error(
            "the @auth.on handler for %s.%s returned %s, not a filter dict, None or a bool",
            resource, action, type(result).__name__,
        )
        raise Forbidden("Forbidden")


__all__ = [
    "AuthUser",
    "CustomAuthenticator",
    "CustomAuthorizer",
    "error_for",
    "handler_arguments",
    "identity_of",
    "load_auth",
]
