"""Database helpers that every app may use; no models, no rules."""
