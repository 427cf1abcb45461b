"""Choosing and loading a diarization backend; torch and pyannote are imported only here, on demand.

``auto`` (default): a full pyannote pipeline directory when the settings' ``diarization_pipeline``
(``KIROKU_DIARIZATION_PIPELINE``) names one (GPU production), otherwise the embedded CPU assembly,
provisioned on first use; if torch and pyannote.audio are not installed, transcription goes on with
one speaker and a warning.
"""

from __future__ import annotations

import logging

from transcriber.diarization.base import Diarizer
from transcriber.errors import ModelMissing
from transcriber.settings import EngineSettings, keep_pyannote_offline, or_from_environment

log = logging.getLogger(__name__)
BACKENDS = ("auto", "embedded", "pyannote", "off")
PIPELINE_ENV = "KIROKU_DIARIZATION_PIPELINE"
_INSTALL_HINT = (
    "話者分離には torch と pyannote.audio が必要です (`make start` で導入されます) / "
    "speaker diarization needs torch and pyannote.audio"
)


def load_diarizer(backend: str = "auto", settings: EngineSettings | None = None) -> Diarizer | None:
    if backend not in BACKENDS:
        raise ValueError(f"diarization must be one of {BACKENDS}")
    if backend == "off":
        return None
    engine = or_from_environment(settings)
    pipeline_dir = engine.diarization_pipeline
    keep_pyannote_offline()  # before the backends below import pyannote (and with it huggingface_hub)
    try:
        if backend == "pyannote" or (backend == "auto" and pipeline_dir):
            if not pipeline_dir:
                raise ModelMissing(f"{PIPELINE_ENV} に pyannote パイプラインのディレクトリを指定してください")
            from transcriber.diarization.pyannote_pipeline import PyannotePipelineDiarizer

            return PyannotePipelineDiarizer(pipeline_dir)
        return _embedded(engine)
    except ImportError as error:
        if backend == "auto":
            log.warning("diarization off: %s (%s)", _INSTALL_HINT, error)
            return None
        raise ModelMissing(_INSTALL_HINT) from error
    except (FileNotFoundError, ValueError) as error:
        raise ModelMissing(str(error)) from error


def _quiet_lightning() -> None:
    # Lightning announces that it upgraded the checkpoint's format on every load: not news to users.
    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning"):
        logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch.utilities.migration.utils").setLevel(logging.ERROR)


def _embedded(settings: EngineSettings) -> Diarizer:
    from transcriber.diarization import weights

    if not weights.is_installed(settings=settings):
        weights.install(settings=settings)
    from transcriber.diarization.embedded import EmbeddedDiarizer

    _quiet_lightning()  # after the import: lightning sets its own loggers' levels when imported
    segmentation, encoder = (weights.weight_path(s, settings) for s in (weights.SEGMENTATION, weights.ENCODER))
    return EmbeddedDiarizer(segmentation, encoder)
