"""The monitoring web UI: a Starlette app built by :func:`asyncq.web.app.create_app`."""
