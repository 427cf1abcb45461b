"""Speaker diarization: who spoke when.

Backends import torch and pyannote, so they are loaded only when asked for; importing this
package (for ``Turn`` and ``Diarizer``) stays light.
"""

from __future__ import annotations

from transcriber.diarization.base import Diarizer, Turn

__all__ = ["Diarizer", "Turn"]
