"""kehoach: Vietnamese government plans (Kế hoạch, Quyết định, Chỉ thị) to structured, searchable records.

Stages, each a subpackage, data flowing one way:
ingest (file -> normalized text with provenance) -> extract (records) -> corpus (store, link,
registry, legal status) -> search.
"""
__version__ = "0.1.0"
