"""The canvas host: a workspace folder served over HTTP with live reload."""
