"""Every key format, attribute name and expression of the checkpoints table, in one place.

One partition per thread (``PK`` = thread id). Inside it, each checkpoint's items share the
sort-key prefix ``<ns>#<checkpoint_id>``, so one ``Query`` returns a checkpoint and its pending
writes together::

    <ns>#<checkpoint_id>                         checkpoint: values, metadata, parent
    <ns>#<checkpoint_id>#f                       fence: which child claimed this checkpoint
    <ns>#<checkpoint_id>#t#<task_id>#<n>         a task's pending writes, idx 64n..64n+63
                                                 (and, in item 0, its special writes)
    <ns>#<checkpoint_id>#w#<task_id>#<idx>       one pending write (format 1, read only)

``<ns>`` is the checkpoint namespace percent-encoded so it never contains ``#``; the root
namespace is the empty string, so its keys start with ``#``. In descending key order a
checkpoint's writes come right before the checkpoint item itself, which is what lets
``get_tuple`` stop reading at the first checkpoint item it meets.

This is storage format 2. Format 1 stored one item per pending write (``kind`` ``write``)
and 32-digit channel versions with a random suffix; both are still read (and a thread's
versions carry on from them), but an older saver does not read format 2.
"""

from __future__ import annotations

from urllib.parse import quote

from lambdagraph.store import bucket

PK = "PK"
SK = "SK"
TTL_ATTRIBUTE = "expires_at"

KIND = "kind"
KIND_CHECKPOINT = "checkpoint"
KIND_WRITE = "write"  # format 1: one item per write; still read, no longer written
KIND_WRITES = "writes"
KIND_FENCE = "fence"

NS = "ns"
CHECKPOINT_ID = "checkpoint_id"
PARENT_ID = "parent_checkpoint_id"
RUN_ID = "run_id"
PAYLOAD = "payload"
PAYLOAD_TYPE = "payload_type"
METADATA = "metadata"
METADATA_TYPE = "metadata_type"
S3_KEY = "s3_key"
TASK_ID = "task_id"
TASK_PATH = "task_path"
IDX = "idx"
CHANNEL = "channel"
CHILD = "child"
S3_KEYS = "s3_keys"  # a writes item's payloads in S3 (each write entry holds its own key)
WRITE_ATTRIBUTE_PREFIX = "w"  # a writes item's entries: w<idx> = [channel, type, payload]

# DynamoDB limits (docs: ServiceQuotas / API reference).
MAX_ITEM_BYTES = 400 * 1024
DEFAULT_OFFLOAD_THRESHOLD_BYTES = bucket.OFFLOAD_THRESHOLD_BYTES
MAX_TRANSACT_ITEMS = 100
MAX_TRANSACT_BYTES = 4 * 1024 * 1024
MAX_BATCH_WRITE_ITEMS = 25
MAX_S3_DELETE_KEYS = 1000
# Writes per writes item: an UpdateItem of 64 entries stays well inside DynamoDB's 300
# operators and 4 KB expression per request.
WRITES_PER_ITEM = 64
# First page size when reading a thread newest-first; doubles per page. A checkpoint's own
# writes come first, so this bounds how far past the wanted checkpoint one page reads (and
# bills: a Query bills every item it returns, each older checkpoint with its full state).
# ``get_tuple`` wants one checkpoint: eight items hold it, its fence and six tasks' writes.
# ``list`` wants several, so it starts larger.
FIRST_PAGE_ITEMS = 8
FIRST_LIST_PAGE_ITEMS = 32

# Fenced writers (the graph advancing a thread) must be the first child of their parent;
# explicit branches ("update", "fork": update_state, time travel) may add siblings.
FENCED_SOURCES = frozenset({"input", "loop"})

FENCE_CONDITION = f"attribute_not_exists({CHILD}) OR {CHILD} = :child"


def fence_update(*, fenced: bool, ttl: bool) -> str:
    """UpdateExpression of a fence item: a fenced writer sets the child (under
    ``FENCE_CONDITION``), a branch only fills a free slot. Values ``:child``, ``:kind``,
    ``:ns``, ``:parent`` (the fence's group key, so deletes find it) and ``:ttl``."""
    child = ":child" if fenced else f"if_not_exists({CHILD}, :child)"
    expression = f"SET {CHILD} = {child}, {KIND} = :kind, {NS} = :ns, {CHECKPOINT_ID} = :parent"
    return f"{expression}, {TTL_ATTRIBUTE} = :ttl" if ttl else expression


s3_prefix = bucket.s3_prefix  # the bucket's layout is shared with the app table's run input


def ns_key(checkpoint_ns: str) -> str:
    """The namespace as it appears in sort keys: percent-encoded, never containing ``#``."""
    return quote(checkpoint_ns, safe=":|")


def ns_prefix(checkpoint_ns: str) -> str:
    """Sort-key prefix shared by every item of one namespace."""
    return f"{ns_key(checkpoint_ns)}#"


def checkpoint_sk(checkpoint_ns: str, checkpoint_id: str) -> str:
    """Sort key of a checkpoint item; also the prefix of its writes and fence."""
    return f"{ns_key(checkpoint_ns)}#{checkpoint_id}"


def fence_sk(checkpoint_ns: str, parent_id: str) -> str:
    """Sort key of the fence item recording which child claimed ``parent_id``."""
    return f"{checkpoint_sk(checkpoint_ns, parent_id)}#f"


def writes_sk(checkpoint_ns: str, checkpoint_id: str, task_id: str, idx: int) -> str:
    """Sort key of the writes item that holds write ``idx`` of a task: ``(task_id, idx)`` is
    a write's identity, as in LangGraph; special writes (negative idx) go with 0..63."""
    part = max(idx, 0) // WRITES_PER_ITEM
    return f"{checkpoint_sk(checkpoint_ns, checkpoint_id)}#t#{task_id}#{part}"


def write_attribute(idx: int) -> str:
    """The attribute of a writes item holding write ``idx``."""
    return f"{WRITE_ATTRIBUTE_PREFIX}{idx}"


def write_index(attribute: str) -> int | None:
    """The idx a writes item's attribute holds, or None for any other attribute."""
    rest = attribute[len(WRITE_ATTRIBUTE_PREFIX) :]
    if attribute.startswith(WRITE_ATTRIBUTE_PREFIX) and rest.lstrip("-").isdigit():
        return int(rest)
    return None


def write_sk(checkpoint_ns: str, checkpoint_id: str, task_id: str, idx: int) -> str:
    """Sort key of a format-1 write item (one per write), which the saver still reads."""
    return f"{checkpoint_sk(checkpoint_ns, checkpoint_id)}#w#{task_id}#{idx}"
