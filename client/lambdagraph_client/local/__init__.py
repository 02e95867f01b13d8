"""The local stack: embedded DynamoDB (moto), the ASGI app, emulators. Nothing imports this."""
