"""The correction passes of :class:`dictionaries.correction.Corrector`, one module each, in the order they run:

1. :mod:`~dictionaries.passes.alias`: known wrong forms replaced as written;
2. :mod:`~dictionaries.passes.kana`: terms spelled out in kana, read exactly;
3. :mod:`~dictionaries.passes.sound`: runs of morphemes that sound like a term, exactly or one sound off;
4. :mod:`~dictionaries.passes.fused`: a term whose first sounds were fused into an unknown katakana word
   (tried at a token where the sound pass found nothing);
5. :mod:`~dictionaries.passes.reread`: kanji read every way the dictionary knows, terms read exactly;
6. :mod:`~dictionaries.passes.loose`: long terms with a sound dropped, added or unreadable.

Each pass leaves alone what an earlier one took (:mod:`~dictionaries.passes.spans`); the terms' readings
they look in are in :mod:`~dictionaries.passes.index`, the thresholds and token tests several of them
share in :mod:`~dictionaries.passes.rules`.
"""
