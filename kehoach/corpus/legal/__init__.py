"""Legal bases: a registry of legal documents' status, facts the corpus states, time and
reorganisation rules, and ``check`` (each plan's cited documents with their status on a day).

Data flow: adapters (import tables) -> Registry (persisted in the corpus DB) ;
derive (corpus facts) + rules (period, 2025 reorganisation) -> check -> report (JSON/text).
"""
from kehoach.corpus.legal.adapters import LegalImportError, detect_format, import_file
from kehoach.corpus.legal.check import PlanInput, check, format_text
from kehoach.corpus.legal.registry import MIGRATIONS, Registry, ensure_schema

__all__ = ["LegalImportError", "detect_format", "import_file", "PlanInput", "check", "format_text",
           "MIGRATIONS", "Registry", "ensure_schema"]
