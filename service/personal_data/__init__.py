"""Personal data in Japanese text as citizens say it (issue 24): names, addresses, birth dates, phone,
individual, account and id numbers, e-mail addresses and car plates, each with a reason for the clerk.

``detect`` reads one text, ``detect_texts`` a transcript's utterances as one text. How it works:
docs/personal_data.md.
"""

from service.personal_data.detector import KINDS, Candidate, detect, detect_texts
from service.personal_data.nlp import NlpUnavailable

__all__ = ["KINDS", "Candidate", "NlpUnavailable", "detect", "detect_texts"]
