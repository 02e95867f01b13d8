"""What runs on a developer's machine and never on Lambda: the ``lambdagraph`` CLI, the
terminal chats (SSE and WebSocket), the Python WebSocket client and the local stack.

The Lambda layer ships only ``lambdagraph``; nothing in it imports this package.
"""
