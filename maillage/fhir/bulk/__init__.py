"""FHIR Bulk Data Access (v2) ``$export``: jobs, their NDJSON files, sealed at rest.

The handlers live in ``maillage.fhir.interactions.bulk_export``; here are the
models, the job the worker runs (``build``), the files' storage and the
periodic upkeep (``upkeep``: sweep and expiry).
"""
