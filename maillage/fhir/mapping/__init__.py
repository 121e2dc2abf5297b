"""Mappers between our models and FHIR R4 resources, one module per domain."""
