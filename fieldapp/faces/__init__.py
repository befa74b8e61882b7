"""The faces: thin web and API packages over the domains, one per audience. A face never
imports another face; what they share lives in `fieldapp/web.py`."""
