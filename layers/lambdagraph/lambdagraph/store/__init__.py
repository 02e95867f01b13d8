"""DynamoDB persistence: the checkpoint saver (``store.checkpoint``) and the app table."""
