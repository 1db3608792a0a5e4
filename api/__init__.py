"""The FastAPI recommendation service.

``routes/`` holds the HTTP layer (validate, delegate); beside it are the use cases
(``recommender``, ``anonymous``, ``new_items``, ``interactions``, ``explore_graph``), the store
helpers they read through (``candidates``, ``text_index``, ``vector_source``), and the service's
wiring (``app``, ``deps``, ``errors``, ``auth``, ``prometheus``, ``model_registry``, ``scoring``).
"""
