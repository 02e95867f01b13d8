"""Every error lambdagraph raises on purpose, under one root.

::

    LambdagraphError
    ├── ConfigurationError          bad settings or constructor options
    ├── InvalidInput                a request the client must fix (422)
    │   ├── InvalidRequest          a field's value breaks a rule every transport shares
    │   └── BadJson                 the body or frame is not JSON text at all
    ├── Unauthorized                no valid credentials on the request (401)
    ├── Forbidden                   valid credentials, but not for this action (403)
    ├── RateLimited                 a per-user limit is reached; retry later (429)
    │   └── ActiveRunLimit          the user has as many active runs as allowed
    ├── NotFound                    unknown, or another user's (404)
    │   ├── ThreadNotFound
    │   ├── RunNotFound
    │   └── AssistantNotFound
    ├── Conflict                    the request clashes with current state (409)
    │   └── ThreadBusy
    ├── CheckpointConflict          another writer advanced the thread first (fencing)
    ├── Unavailable                 DynamoDB throttled or failed; retry later (503)
    └── ScriptedModelError          the scripted model was told to fail ("trigger an error")

Each class has a stable ``code`` used in HTTP ``detail`` bodies, SSE ``error`` events and
WebSocket ``error`` messages. Transports map these to status codes in one table each.
"""

from __future__ import annotations


class LambdagraphError(Exception):
    """Root of every error lambdagraph raises deliberately."""

    code: str = "internal_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()


class ConfigurationError(LambdagraphError):
    """A setting or constructor option is invalid or a needed extra is missing."""

    code = "configuration_error"


class InvalidInput(LambdagraphError):
    """The request is well-formed JSON but asks for something invalid."""

    code = "invalid_input"


class BadRequest(InvalidInput):
    """Input LangGraph Server refuses with 400 rather than 422 (answered the same, for parity)."""


class InvalidRequest(InvalidInput):
    """The request breaks a rule every transport shares (e.g. resuming without a thread)."""

    code = "invalid_request"


class BadJson(InvalidInput):
    """The request body or WebSocket frame is not JSON text (bad syntax, not UTF-8)."""

    code = "bad_json"


class Unauthorized(LambdagraphError):
    """The request carries no valid credentials."""

    code = "unauthorized"


class Forbidden(LambdagraphError):
    """The caller is authenticated but may not do this."""

    code = "forbidden"


class RateLimited(LambdagraphError):
    """A per-user limit is reached; ``retry_after`` says in how many seconds to try again."""

    code = "rate_limited"

    def __init__(self, message: str = "", *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class ActiveRunLimit(RateLimited):
    """The user has as many active (pending or running) runs as allowed."""

    def __init__(self, limit: int, *, retry_after: int = 5) -> None:
        super().__init__(
            f"You have {limit} active runs, the most allowed; wait for one to finish",
            retry_after=retry_after,
        )
        self.limit = limit


class NotFound(LambdagraphError):
    """The resource does not exist, or belongs to another user."""

    code = "not_found"


class ThreadNotFound(NotFound):
    """No such thread for this user."""

    code = "thread_not_found"

    def __init__(self, thread_id: str) -> None:
        super().__init__(f"Thread {thread_id} not found")
        self.thread_id = thread_id


class RunNotFound(NotFound):
    """No such run for this user."""

    code = "run_not_found"

    def __init__(self, run_id: str) -> None:
        super().__init__(f"Run {run_id} not found")
        self.run_id = run_id


class AssistantNotFound(NotFound):
    """No graph or assistant by that id."""

    code = "assistant_not_found"

    def __init__(self, assistant_id: str) -> None:
        super().__init__(f"Assistant {assistant_id} not found")
        self.assistant_id = assistant_id


class Conflict(LambdagraphError):
    """The request conflicts with the current state of a resource."""

    code = "conflict"


class ThreadBusy(Conflict):
    """The thread already has an active run and the multitask strategy rejects another."""

    code = "thread_busy"

    def __init__(self, thread_id: str) -> None:
        super().__init__(f"Thread {thread_id} is busy with another run")
        self.thread_id = thread_id


class CheckpointConflict(LambdagraphError):
    """Another writer saved a checkpoint on this thread first; this writer is fenced off.

    Raised by the checkpoint saver when two invocations resume the same thread from the same
    checkpoint at once: exactly one write of the next checkpoint wins, so history never forks.
    Also raised when a run resumes at a checkpoint the thread has already moved past (replay
    or ``update_state`` that checkpoint to branch instead). ``checkpoint_id`` is the parent
    checkpoint whose continuation was taken; reload the thread and retry if appropriate.
    """

    code = "checkpoint_conflict"

    def __init__(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> None:
        super().__init__(
            f"Checkpoint {checkpoint_id} of thread {thread_id} (ns {checkpoint_ns!r}) was "
            "superseded by a concurrent writer"
        )
        self.thread_id = thread_id
        self.checkpoint_ns = checkpoint_ns
        self.checkpoint_id = checkpoint_id


class Unavailable(LambdagraphError):
    """The data store is throttling or unavailable; the request may be retried."""

    code = "unavailable"


class ScriptedModelError(LambdagraphError):
    """The scripted chat model failed on purpose because the user asked it to."""

    code = "scripted_model_error"
