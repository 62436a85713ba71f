"""The JSON API, /api/v1/ (``claims.api.v1``): django-ninja operations over the same access
helpers, screens and model verbs as the browser."""
