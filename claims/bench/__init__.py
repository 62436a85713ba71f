"""The benchmarks (``manage.py bench`` and ``manage.py bench_audit``), kept out of the
product: nothing outside this package and its two management commands imports it.

- ``run``: ``manage.py bench``'s parent process, which folds its steps into one object;
- ``steps``: the steps it runs, each in a child process against the throwaway database;
- ``audit``: ``manage.py bench_audit``, whose build and exports ``bench`` reuses;
- ``serving``: gunicorn and HTTP clients (the load tests serve through it too);
- ``throwaway``: the throwaway database and the environment of every child process;
- ``figures``: sizes, medians and p95s, peak memory; ``articles``: generated text;
- ``import_split``: ``python -m claims.bench.import_split``, an import's time split into
  preparing (segmenting) and storing;
- ``settings``, ``urls``, ``views``: the served app, production's plus one bench route.

The dependencies run one way: ``run`` and ``steps`` use ``audit``, which uses
``throwaway`` and ``figures``; ``throwaway`` uses ``serving``. This file imports nothing,
as Django imports it on the way to ``claims.bench.settings``.
"""
