"""The audit log: its vocabulary, its one write path, and everything that reads it.

Imports run one way (``tests/test_imports.py`` holds them to it):

- the models import ``chain`` (the write path and the chain's verification) and
  ``actions`` (every action and its rule); neither imports a model, nor anything that
  does: ``chain`` finds the chain's model through the app registry, and creates events
  through the chain row it locked;
- ``actions``, ``state`` and ``fold`` (the project as its log tells it) and
  ``verify_export`` (the offline verifier, the one copy of canonical JSON and the event
  hash) import no Django at all;
- ``history`` (timelines in words), ``revert``, ``past`` (an article at a past moment),
  ``integrity`` (everything ``verify_audit`` checks), ``export`` and ``signing`` (signed
  audit exports) sit above the models and import them.
"""
