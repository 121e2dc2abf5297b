"""Teleconsultation: the act, its waiting room and its room (see models, actions and policy.teleconsult)."""
