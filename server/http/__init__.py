"""HTTP shared by every route: the format registry and negotiation, renderers, error answers,
security headers, caching validators, metrics and the gunicorn server. No engine inside."""
