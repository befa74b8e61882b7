"""The shared PDF documents: the service report (fpdf2, Noto Sans CJK)."""
