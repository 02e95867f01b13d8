"""lambdagraph: serve LangGraph agents from AWS Lambda.

Subpackages, from the pure core outwards:

* ``protocol``: the event model and its encodings (SSE frames, WebSocket envelopes).
* ``store``: DynamoDB persistence: the checkpoint saver and the app table.
* ``engine``: the run executor and its sinks.
* ``http`` / ``ws``: the transports.
* ``agents``: the demo graph, the scripted model, graph loading.
* ``auth``: authenticators that turn a request into a user id.
* ``local``: the local stack (moto server, gateway emulator, invoker); nothing imports it.
"""

__version__ = "0.1.0"
