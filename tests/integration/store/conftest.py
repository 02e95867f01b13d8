"""Savers on the fresh tables of the session moto server, in every variant we ship."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer

from lambdagraph.store.checkpoint import AsyncDynamoDBSaver, DynamoDBSaver
from tests.conftest import Tables

VARIANTS = ("plain", "offload", "encrypted")


class AesGcm:
    """A ``CipherProtocol`` on ``cryptography``'s AES-GCM (already a dependency via pyjwt)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(12)
        return "aesgcm", nonce + self._aead.encrypt(nonce, plaintext, None)

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        assert ciphername == "aesgcm"
        return self._aead.decrypt(ciphertext[:12], ciphertext[12:], None)


def encrypted_serde() -> EncryptedSerializer:
    """LangGraph's ``EncryptedSerializer`` around its default ``JsonPlusSerializer``."""
    return EncryptedSerializer(AesGcm(b"0123456789abcdef0123456789abcdef"))


def saver_kwargs(variant: str, tables: Tables) -> dict[str, Any]:
    """Constructor arguments for one variant on the test's tables."""
    kwargs: dict[str, Any] = {"bucket": tables.bucket}
    if variant == "offload":
        kwargs["offload_threshold_bytes"] = 64  # every checkpoint and write goes to S3
    elif variant == "encrypted":
        kwargs["serde"] = encrypted_serde()
    return kwargs


class SyncFace(DynamoDBSaver):
    """Drives the *sync* methods from the async API the conformance suite calls."""

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await asyncio.to_thread(self.get_tuple, config)

    async def alist(
        self, config: RunnableConfig | None, **kwargs: Any
    ) -> AsyncIterator[CheckpointTuple]:
        for item in await asyncio.to_thread(lambda: list(self.list(config, **kwargs))):
            yield item

    async def aput(self, *args: Any) -> RunnableConfig:
        return await asyncio.to_thread(self.put, *args)

    async def aput_writes(self, *args: Any, **kwargs: Any) -> None:
        await asyncio.to_thread(self.put_writes, *args, **kwargs)

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.delete_thread, thread_id)

    async def acopy_thread(self, source: str, target: str) -> None:
        await asyncio.to_thread(self.copy_thread, source, target)

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        await asyncio.to_thread(self.prune, thread_ids, strategy=strategy)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await asyncio.to_thread(self.delete_for_runs, run_ids)


@pytest.fixture
def saver(tables: Tables) -> Iterator[AsyncDynamoDBSaver]:
    """A plain async saver (which also offers the sync methods) on fresh tables."""
    yield AsyncDynamoDBSaver(tables.checkpoints, bucket=tables.bucket)
