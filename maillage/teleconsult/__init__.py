"""Teleconsultation: the act, its waiting room and its room (models, actions, policy)."""
