"""/insights/{projectId}/funnel, conversion, retention: the analysis reports over HTTP."""

from __future__ import annotations

from typing import Any

ANALYSIS_HANDLERS: list[Any] = []
