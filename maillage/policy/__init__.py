"""The one access policy in front of patient data.

- ``relations``: what ties a user to a patient (self, médecin traitant, care
  structure, care team, break-the-glass, regulation case, INS proof, identity
  vigilance, exchange), per patient and as a list filter;
- ``table``: purpose x role → relations (data);
- ``consents``: what the patient decided, read in one place;
- ``decide``: the decision, pure, in the documented order of rules;
- ``gate``: the audited functions every path calls to obtain patient data;
- ``receivers``: the same decision for each receiver of data sent.

Nothing else reads a patient-data model to decide; ``policy/tests`` holds a
test that fails when a module outside the policy and the writers does.
"""
