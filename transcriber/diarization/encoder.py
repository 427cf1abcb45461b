"""Resemblyzer's 256-d speaker encoder, rebuilt on torch alone and loaded from a weights path.

The ``resemblyzer`` package itself is not imported: it pulls in librosa and webrtcvad (which
needs ``pkg_resources``, gone from current setuptools). The network is three LSTM layers and a
ReLU projection over a 40-band *power* (not log) mel spectrogram with 25 ms / 10 ms frames, so
the input level matters; callers normalise loudness first (``normalise_level``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torchaudio
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms window
HOP = 160  # 10 ms: one mel frame per hop
PARTIAL_FRAMES = 160  # the encoder was trained on 1.6 s partial utterances
TARGET_DBFS = -30.0  # resemblyzer's training level


class SpeakerEncoder(nn.Module):
    def __init__(self, weights: str | Path, device: str | torch.device = "cpu") -> None:
        super().__init__()
        self.lstm = nn.LSTM(40, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)
        state = torch.load(Path(weights), map_location="cpu", weights_only=True)
        state = state.get("model_state", state)
        # The checkpoint also holds the GE2E training loss's scale and bias; inference needs neither.
        for name, module in (("lstm", self.lstm), ("linear", self.linear)):
            module.load_state_dict({k.split(".", 1)[1]: v for k, v in state.items() if k.startswith(name + ".")})
        # Slaney mel scale and norm with a periodic Hann window, as librosa's defaults are.
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=SAMPLE_RATE,
            n_fft=N_FFT,
            hop_length=HOP,
            n_mels=40,
            power=2.0,
            norm="slaney",
            mel_scale="slaney",
            center=False,  # mel_frames pads, block by block
        )
        self.to(device)
        self.eval()

    @property
    def device(self) -> torch.device:
        return self.linear.weight.device

    def mel_frames(self, audio: np.ndarray, block_frames: int = 6000) -> torch.Tensor:
        """(frames, 40) power mel spectrogram; frame i is centred on sample i * HOP.

        Same frames as librosa's centred, zero-padded STFT, but computed a minute at a time:
        the whole recording's complex STFT would need about 1 GB per hour of audio.
        """
        total = 1 + len(audio) // HOP
        out = torch.empty((total, 40), dtype=torch.float32)
        half = N_FFT // 2
        with torch.no_grad():  # not inference_mode: callers rescale the result in place
            for first in range(0, total, block_frames):
                last = min(total, first + block_frames)  # exclusive
                lo, hi = first * HOP - half, (last - 1) * HOP + half
                piece = audio[max(lo, 0) : min(hi, len(audio))]
                piece = np.pad(piece, (max(0, -lo), max(0, hi - len(audio))))
                wav = torch.from_numpy(np.ascontiguousarray(piece, dtype=np.float32)).to(self.device)
                out[first:last] = self.mel(wav).T.cpu()
        return out

    def embed_sequences(self, sequences: list[torch.Tensor]) -> np.ndarray:
        """One L2-normalised embedding per (frames, 40) sequence, from the last LSTM state.

        Sequences may differ in length; packing keeps padding out of the final state.
        """
        if not sequences:
            return np.zeros((0, 256), dtype=np.float32)
        lengths = torch.tensor([len(s) for s in sequences])
        padded = nn.utils.rnn.pad_sequence(sequences, batch_first=True)
        with torch.inference_mode():
            packed = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
            _, (hidden, _) = self.lstm(packed)
            raw = torch.relu(self.linear(hidden[-1]))
            out = raw / raw.norm(dim=1, keepdim=True).clamp_min(1e-8)
        result: np.ndarray = out.cpu().numpy()
        return result


def level_gain(speech: np.ndarray) -> float:
    """Gain that brings ``speech`` samples to resemblyzer's -30 dBFS (1.0 for silence).

    Callers pass speech only, so long silences in a meeting do not inflate the gain.
    """
    rms = float(np.sqrt(np.mean(np.square(speech, dtype=np.float64)))) if speech.size else 0.0
    return 1.0 if rms <= 1e-6 else float(10 ** (TARGET_DBFS / 20) / rms)
