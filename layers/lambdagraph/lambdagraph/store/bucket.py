"""The checkpoint bucket's layout, shared by the checkpoint saver and the app table.

Both put in S3 what a DynamoDB item (400 KB at most) cannot hold: the saver a checkpoint's
payload, the app table a run's input. Every object of a thread sits under one prefix, so the
saver's ``delete_thread`` removes both. This module stands outside ``store.checkpoint`` so
the app table reads it without importing the saver, which the ``ws`` function never loads.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

OFFLOAD_THRESHOLD_BYTES: Final = 350 * 1024
"""An item (or a run's input) larger than this goes to the bucket: under 400 KB with room
for the keys and metadata that stay in DynamoDB."""


def s3_prefix(thread_id: str) -> str:
    """S3 key prefix of every offloaded object of a thread."""
    return f"{quote(thread_id, safe='')}/"


def run_kwargs_key(thread_id: str, run_id: str) -> str:
    """S3 key of a run's offloaded kwargs, under its thread's prefix."""
    return f"{s3_prefix(thread_id)}runs/{run_id}/kwargs.json"
